import { setMaxListeners } from 'node:events';
import {
  Emitter,
  integerOption,
  invalidArgument,
  objectArgument,
  optionalDuration,
  parseDuration,
  type Disposer,
  type Duration,
  type Listener,
  armDeadline,
  disarmDeadline,
  deadlineNow as now,
  Deadline,
  closureFreePromise,
  settlers,
  type Settle,
} from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import { QueueClosedError, QueueFullError } from './queue-errors.js';

/**
 * Work for a {@link TaskQueue}: a function of an AbortSignal that returns a promise (or a value).
 * Pass the signal on (fetch, pg, ioredis...) so that a timeout or `close({ drain: false })`
 * really stops the work.
 */
export type Task<T> = (signal: AbortSignal) => PromiseLike<T> | T;

/** Options of {@link TaskQueue}'s constructor. */
export interface TaskQueueOptions {
  /** How many tasks run at once: a whole number >= 1, or `Infinity`. Default `1`. */
  concurrency?: number;
  /**
   * How many tasks may wait for a slot; `add()` rejects with {@link QueueFullError} beyond it.
   * A whole number >= 0 (`0`: run now or refuse), or `Infinity` (unbounded: opt in knowingly, a
   * queue without a bound turns overload into memory growth and ever longer waits).
   * Default `1000`.
   */
  maxSize?: number;
  /**
   * The longest a task may run, counted from its start (time spent waiting does not count): at
   * the deadline its signal is aborted and its caller rejects with a `TimeoutError`. Default: none.
   */
  timeout?: Duration;
  /** A name for errors, timeouts and stats. */
  name?: string;
}

/** Options of {@link TaskQueue.add}. */
export interface AddOptions {
  /**
   * Cancels the task: while it waits, it leaves the queue at once and `add()` rejects with the
   * signal's reason; while it runs, its own signal is aborted and `add()` rejects likewise.
   */
  signal?: AbortSignal;
  /** This task's run-time limit, instead of the queue's `timeout`. */
  timeout?: Duration;
  /**
   * A whole number; higher runs first, FIFO among equals. Default `0`. Each distinct value is a
   * bucket: a handful of levels costs nothing, and a steady stream of high-priority tasks starves
   * the lower ones, by design.
   */
  priority?: number;
}

/** Options of {@link TaskQueue.close}. */
export interface CloseOptions {
  /**
   * `true` (default): refuse new tasks, let the waiting and running ones finish. `false`: also
   * reject the waiting tasks and the callers of running ones with {@link QueueClosedError}, and
   * abort the running tasks' signals.
   */
  drain?: boolean;
}

/** A snapshot of a {@link TaskQueue}'s counters, from {@link TaskQueue.stats}. */
export interface TaskQueueStats {
  /** The queue's name, if it has one. */
  name: string | undefined;
  /** Tasks waiting for a slot now. */
  size: number;
  /** Tasks holding a slot now (running, including overrunning ones). */
  pending: number;
  /** Tasks accepted by `add()` since the queue was made. */
  added: number;
  /** Tasks that resolved their caller's promise with a value. */
  completed: number;
  /** Tasks that rejected their caller's promise with their own error. */
  failed: number;
  /** Tasks refused: the queue was full or closed, or `close({ drain: false })` dropped them. */
  rejected: number;
  /** Tasks whose `signal` aborted (while waiting, or while running). */
  cancelled: number;
  /** Tasks that ran past their timeout. */
  timedOut: number;
  /**
   * Tasks still holding a slot although their caller was already answered (timed out, cancelled
   * or closed): they ignore their signal. The slot is freed only when they settle.
   */
  overrunning: number;
  /** Tasks that got a slot (started running) since the queue was made. */
  started: number;
  /**
   * Time from `add()` to start summed over all started tasks, in ms: with `started`, the average
   * wait over any period (what a dashboard or `rate()` in Prometheus computes).
   */
  totalWaitMs: number;
  /** Average time from `add()` to start, in ms, over all started tasks. */
  avgWaitMs: number;
  /** Longest time from `add()` to start, in ms. */
  maxWaitMs: number;
  /** Average run time, in ms, over all settled tasks. */
  avgRunMs: number;
  /** Longest run time, in ms. */
  maxRunMs: number;
  /** Recent run time (exponentially weighted), in ms; what `retryAfterMs` is estimated from. */
  recentRunMs: number;
}

/** Events of a {@link TaskQueue}; listen with {@link TaskQueue.on}. */
export interface TaskQueueEvents {
  /** The waiting list just reached `maxSize`; further tasks are refused until it shrinks. */
  full: {
    /** Tasks waiting. */
    size: number;
    /** The queue's `maxSize`. */
    maxSize: number;
    /** The `retryAfterMs` a refused caller would get now. */
    retryAfterMs: number;
  };
  /** The last task finished and nothing waits. */
  idle: {
    /** Tasks completed since the queue was made. */
    completed: number;
    /** Tasks failed since the queue was made. */
    failed: number;
  };
  /** A task ran past its timeout; its caller got a `TimeoutError`. */
  timeout: {
    /** The timeout that passed. */
    timeoutMs: number;
    /** Tasks now holding a slot past their caller's answer, this one included. */
    overrunning: number;
  };
}

const WAITING = 0;
const RUNNING = 1;
/** Its caller was answered (timeout, cancellation, close) but the task still holds its slot. */
const ANSWERED = 2;
const DONE = 3;

const DEFAULT_MAX_SIZE = 1000;
/** Run time assumed for `retryAfterMs` before any task has finished. */
const DEFAULT_RUN_MS = 1000;
/** Weight of the newest run time in the moving average behind `retryAfterMs`. */
const EWMA_ALPHA = 0.2;
/** Distinct priority levels kept while empty, so alternating levels do not churn. */
const KEEP_EMPTY_BUCKETS = 8;

/** The tasks of one priority level, oldest first. */
class Bucket {
  head: Entry | null = null;
  tail: Entry | null = null;
  size = 0;
  constructor(readonly priority: number) {}
}

/**
 * One task from `add()` to settling. It is its own list node (waiting list, then running list),
 * its own deadline node on the shared timer, and its own `abort` listener (`handleEvent`), so a
 * task costs this object, the caller's promise and two callbacks on the task's promise.
 */
class Entry extends Deadline {
  prev: Entry | null = null;
  next: Entry | null = null;
  bucket: Bucket | null = null;
  state = WAITING;
  enqueuedAt = 0;
  startedAt = 0;
  controller: AbortController | undefined = undefined;
  readonly resolve: Settle = settlers.resolve;
  readonly reject: Settle = settlers.reject;

  constructor(
    readonly core: QueueCore,
    readonly task: Task<unknown>,
    readonly signal: AbortSignal | undefined,
    readonly timeoutMs: number,
  ) {
    super();
  }

  onDeadline(): void {
    this.core.expire(this);
  }

  /** The caller's signal's `abort` listener. */
  handleEvent(): void {
    this.core.cancel(this);
  }
}

/** The queue's machinery, kept off the public class so that its surface stays small. */
class QueueCore {
  size = 0;
  pending = 0;
  closed = false;
  readonly defaultBucket = new Bucket(0);
  /** Priority levels, highest first. */
  buckets: Bucket[] = [this.defaultBucket];
  runHead: Entry | null = null;
  runTail: Entry | null = null;
  shared: AbortController | undefined = undefined;
  idleWaiters: (() => void)[] = [];
  draining = false;
  events: Emitter<TaskQueueEvents> | undefined = undefined;

  added = 0;
  completed = 0;
  failed = 0;
  rejected = 0;
  cancelled = 0;
  timedOut = 0;
  overrunning = 0;
  started = 0;
  waitSum = 0;
  waitMax = 0;
  settled = 0;
  runSum = 0;
  runMax = 0;
  recentRunMs = Number.NaN;

  constructor(
    readonly concurrency: number,
    readonly maxSize: number,
    readonly timeoutMs: number,
    readonly name: string | undefined,
  ) {}

  add<T>(task: Task<T>, options: AddOptions | undefined): Promise<T> {
    if (typeof task !== 'function') throw invalidArgument('task', 'a function (signal) => promise', task);
    let signal: AbortSignal | undefined;
    let timeoutMs = this.timeoutMs;
    let bucket = this.defaultBucket;
    if (options !== undefined) {
      objectArgument(options, 'options');
      signal = options.signal;
      if (signal !== undefined && !(signal instanceof AbortSignal)) {
        throw invalidArgument('options.signal', 'an AbortSignal', signal);
      }
      if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout, 'options.timeout', { positive: true });
      const priority = options.priority;
      if (priority !== undefined && priority !== 0) {
        if (typeof priority !== 'number' || !Number.isSafeInteger(priority)) {
          throw invalidArgument('options.priority', 'a whole number', priority);
        }
        bucket = this.bucketFor(priority);
      }
    }
    if (this.closed) {
      this.rejected++;
      return Promise.reject(new QueueClosedError(this.name));
    }
    if (signal !== undefined && signal.aborted) {
      this.cancelled++;
      return Promise.reject(signal.reason);
    }
    const runNow = this.pending < this.concurrency && this.size === 0;
    if (!runNow && this.size >= this.maxSize) {
      this.rejected++;
      return Promise.reject(new QueueFullError(this.maxSize, this.retryAfterMs(), this.name));
    }
    this.added++;
    const promise = closureFreePromise<T>();
    const entry = new Entry(this, task as Task<unknown>, signal, timeoutMs);
    if (signal !== undefined) signal.addEventListener('abort', entry);
    if (runNow) {
      this.run(entry, now());
    } else {
      entry.enqueuedAt = now();
      entry.bucket = bucket;
      const tail = bucket.tail;
      entry.prev = tail;
      if (tail === null) bucket.head = entry;
      else tail.next = entry;
      bucket.tail = entry;
      bucket.size++;
      if (++this.size === this.maxSize && this.events?.has('full') === true) {
        this.events.emit('full', { size: this.size, maxSize: this.maxSize, retryAfterMs: this.retryAfterMs() });
      }
    }
    return promise;
  }

  bucketFor(priority: number): Bucket {
    const buckets = this.buckets;
    let at = 0;
    for (; at < buckets.length; at++) {
      const bucket = buckets[at] as Bucket;
      if (bucket.priority === priority) return bucket;
      if (bucket.priority < priority) break;
    }
    const bucket = new Bucket(priority);
    buckets.splice(at, 0, bucket);
    return bucket;
  }

  /** Starts `entry`; `startedAt` is a clock reading the caller already has. */
  run(entry: Entry, startedAt: number): void {
    entry.state = RUNNING;
    this.pending++;
    const tail = this.runTail;
    entry.prev = tail;
    entry.next = null;
    if (tail === null) this.runHead = entry;
    else tail.next = entry;
    this.runTail = entry;

    entry.startedAt = startedAt;
    this.started++;
    if (entry.enqueuedAt !== 0) {
      const wait = startedAt - entry.enqueuedAt;
      this.waitSum += wait;
      if (wait > this.waitMax) this.waitMax = wait;
    }
    const task = entry.task;
    let signal: AbortSignal;
    // An AbortSignal costs ~2 µs on Node 20; a task declared without a parameter cannot read
    // one, so it shares the queue's signal (aborted only by close({ drain: false })).
    if (task.length === 0) {
      signal = this.sharedSignal();
    } else {
      const controller = new AbortController();
      entry.controller = controller;
      signal = controller.signal;
    }
    if (entry.timeoutMs > 0) armDeadline(entry, entry.timeoutMs, startedAt);

    let result: unknown;
    try {
      result = task(signal);
    } catch (err) {
      this.settle(entry, err, false);
      return;
    }
    if (
      result !== null &&
      (typeof result === 'object' || typeof result === 'function') &&
      typeof (result as PromiseLike<unknown>).then === 'function'
    ) {
      try {
        (result as PromiseLike<unknown>).then(
          (value) => this.settle(entry, value, true),
          (error: unknown) => this.settle(entry, error, false),
        );
      } catch (err) {
        this.settle(entry, err, false);
      }
    } else {
      this.settle(entry, result, true);
    }
  }

  sharedSignal(): AbortSignal {
    let shared = this.shared;
    if (shared === undefined) {
      shared = new AbortController();
      // Every running task may listen to it at once; beyond that, warn as Node would of a leak.
      setMaxListeners(Math.min(this.concurrency, 10_000) + 10, shared.signal);
      this.shared = shared;
    }
    return shared.signal;
  }

  settle(entry: Entry, value: unknown, ok: boolean): void {
    if (entry.state === DONE) return;
    const settledAt = now();
    const run = settledAt - entry.startedAt;
    this.settled++;
    this.runSum += run;
    if (run > this.runMax) this.runMax = run;
    this.recentRunMs = Number.isNaN(this.recentRunMs) ? run : this.recentRunMs + (run - this.recentRunMs) * EWMA_ALPHA;

    this.pending--;
    const prev = entry.prev;
    const next = entry.next;
    if (prev === null) this.runHead = next;
    else prev.next = next;
    if (next === null) this.runTail = prev;
    else next.prev = prev;
    entry.prev = null;
    entry.next = null;
    if (entry.deadlineList !== null) disarmDeadline(entry);
    if (entry.signal !== undefined) entry.signal.removeEventListener('abort', entry);

    if (entry.state === RUNNING) {
      entry.state = DONE;
      if (ok) {
        this.completed++;
        entry.resolve(value);
      } else {
        this.failed++;
        entry.reject(value);
      }
    } else {
      entry.state = DONE;
      this.overrunning--;
    }
    this.next(settledAt);
  }

  /** Fills free slots from the waiting list; `at` is a recent clock reading, reused as start time. */
  next(at: number): void {
    if (this.draining) return;
    this.draining = true;
    try {
      let startAt = at;
      while (this.pending < this.concurrency && this.size > 0) {
        this.run(this.dequeue(), startAt);
        // A task may have run synchronously: read the clock again for the next one.
        if (this.pending < this.concurrency && this.size > 0) startAt = now();
      }
    } finally {
      this.draining = false;
    }
    if (this.pending === 0 && this.size === 0) this.becameIdle();
  }

  dequeue(): Entry {
    let bucket = this.defaultBucket;
    if (this.buckets.length > 1) {
      for (const candidate of this.buckets) {
        if (candidate.size > 0) {
          bucket = candidate;
          break;
        }
      }
    }
    const entry = bucket.head as Entry;
    this.unlinkWaiting(entry);
    return entry;
  }

  unlinkWaiting(entry: Entry): void {
    const bucket = entry.bucket as Bucket;
    const prev = entry.prev;
    const next = entry.next;
    if (prev === null) bucket.head = next;
    else prev.next = next;
    if (next === null) bucket.tail = prev;
    else next.prev = prev;
    entry.prev = null;
    entry.next = null;
    entry.bucket = null;
    this.size--;
    if (--bucket.size === 0 && bucket !== this.defaultBucket && this.buckets.length > KEEP_EMPTY_BUCKETS) {
      this.buckets.splice(this.buckets.indexOf(bucket), 1);
    }
  }

  /** The task ran past its deadline. */
  expire(entry: Entry): void {
    if (entry.state !== RUNNING) return;
    entry.state = ANSWERED;
    this.timedOut++;
    this.overrunning++;
    if (entry.signal !== undefined) entry.signal.removeEventListener('abort', entry);
    const error = new TimeoutError(entry.timeoutMs, this.name);
    entry.reject(error);
    entry.controller?.abort(error);
    if (this.events?.has('timeout') === true) {
      this.events.emit('timeout', { timeoutMs: entry.timeoutMs, overrunning: this.overrunning });
    }
  }

  /** The caller's signal aborted. */
  cancel(entry: Entry): void {
    const signal = entry.signal as AbortSignal;
    signal.removeEventListener('abort', entry);
    if (entry.state === WAITING) {
      this.unlinkWaiting(entry);
      entry.state = DONE;
      this.cancelled++;
      entry.reject(signal.reason);
      if (this.pending === 0 && this.size === 0) this.becameIdle();
    } else if (entry.state === RUNNING) {
      entry.state = ANSWERED;
      this.cancelled++;
      this.overrunning++;
      if (entry.deadlineList !== null) disarmDeadline(entry);
      entry.reject(signal.reason);
      entry.controller?.abort(signal.reason);
    }
  }

  retryAfterMs(): number {
    const perTask = Number.isNaN(this.recentRunMs)
      ? this.timeoutMs > 0
        ? this.timeoutMs
        : DEFAULT_RUN_MS
      : this.recentRunMs;
    const concurrency = this.concurrency === Infinity ? 1 : this.concurrency;
    return Math.max(1, Math.ceil((perTask * Math.max(1, this.size)) / concurrency));
  }

  becameIdle(): void {
    const waiters = this.idleWaiters;
    if (waiters.length > 0) {
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.events?.has('idle') === true) this.events.emit('idle', { completed: this.completed, failed: this.failed });
  }

  whenIdle(): Promise<void> {
    if (this.pending === 0 && this.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
    });
  }

  close(drain: boolean): Promise<void> {
    this.closed = true;
    if (!drain) {
      const error = new QueueClosedError(this.name);
      // A copy: emptied priority levels may be dropped from the array on the way.
      for (const bucket of [...this.buckets]) {
        for (let entry = bucket.head; entry !== null; ) {
          const next: Entry | null = entry.next;
          this.unlinkWaiting(entry);
          entry.state = DONE;
          this.rejected++;
          if (entry.signal !== undefined) entry.signal.removeEventListener('abort', entry);
          entry.reject(error);
          entry = next;
        }
      }
      for (let entry = this.runHead; entry !== null; entry = entry.next) {
        if (entry.state !== RUNNING) continue;
        entry.state = ANSWERED;
        this.overrunning++;
        this.rejected++;
        if (entry.deadlineList !== null) disarmDeadline(entry);
        if (entry.signal !== undefined) entry.signal.removeEventListener('abort', entry);
        entry.reject(error);
        entry.controller?.abort(error);
      }
      this.shared?.abort(error);
      if (this.pending === 0) this.becameIdle();
    }
    return this.whenIdle();
  }

  stats(): TaskQueueStats {
    return {
      name: this.name,
      size: this.size,
      pending: this.pending,
      added: this.added,
      completed: this.completed,
      failed: this.failed,
      rejected: this.rejected,
      cancelled: this.cancelled,
      timedOut: this.timedOut,
      overrunning: this.overrunning,
      started: this.started,
      totalWaitMs: this.waitSum,
      avgWaitMs: this.started === 0 ? 0 : this.waitSum / this.started,
      maxWaitMs: this.waitMax,
      avgRunMs: this.settled === 0 ? 0 : this.runSum / this.settled,
      maxRunMs: this.runMax,
      recentRunMs: Number.isNaN(this.recentRunMs) ? 0 : this.recentRunMs,
    };
  }
}

/**
 * A bounded task queue: at most `concurrency` tasks run at once, at most `maxSize` wait, and the
 * rest are refused at once with a {@link QueueFullError} (`QUEUE_FULL`, 503, `retryAfterMs`)
 * instead of piling up: under overload, latency and memory stay bounded and the excess is shed
 * with a hint of when to come back.
 *
 * - FIFO within a priority; higher `priority` first. A failing task never blocks the others.
 * - `timeout`: at the deadline the task's signal is aborted and its caller rejects with a
 *   `TimeoutError`; its slot is freed only when the task really settles, so no more than
 *   `concurrency` tasks are ever in progress (one that ignores its signal shows in
 *   `stats().overrunning`).
 * - A waiting task whose `signal` aborts leaves the queue at once (O(1)) and rejects with the
 *   signal's reason.
 * - Each task declared with a parameter, `(signal) => ...`, gets its own AbortSignal. A task
 *   declared without one, `() => ...`, cannot read it, so it shares the queue's signal (only
 *   aborted by `close({ drain: false })`) and skips the ~2 µs an AbortSignal costs on Node 20;
 *   a wrapper that forwards `...args` has no declared parameter either, so declare it there.
 *
 * Fire and forget ("202 Accepted"): a caller that does not await the result must still handle
 * the rejection, or Node reports an unhandled rejection (and may exit):
 * `queue.add(task).catch((err) => log.warn(err))`. A refusal (`QUEUE_FULL`, `QUEUE_CLOSED`) is
 * a rejection of that same promise, so one `.catch` covers every outcome.
 *
 * @example
 * ```ts
 * import { TaskQueue, QueueFullError } from 'headroom/queue';
 *
 * const renders = new TaskQueue({ concurrency: 4, maxSize: 100, timeout: '10s', name: 'render' });
 *
 * app.post('/reports', async (req, res) => {
 *   try {
 *     const pdf = await renders.add((signal) => renderReport(req.body, { signal }));
 *     res.type('pdf').send(pdf);
 *   } catch (err) {
 *     if (err instanceof QueueFullError) {
 *       res.set('retry-after', String(Math.ceil(err.retryAfterMs / 1000))).sendStatus(503);
 *     } else throw err;
 *   }
 * });
 *
 * // 202 Accepted: answer now, run later, never leave the rejection unhandled.
 * app.post('/emails', (req, res) => {
 *   renders.add((signal) => sendEmail(req.body, { signal })).catch((err) => log.warn({ err }, 'email not sent'));
 *   res.sendStatus(202);
 * });
 * ```
 */
export class TaskQueue {
  readonly #core: QueueCore;

  /**
   * @param options - see {@link TaskQueueOptions}; validated here, `INVALID_ARGUMENT` names the
   *   option at fault.
   * @example
   * ```ts
   * const queue = new TaskQueue({ concurrency: 16, maxSize: 500, timeout: '5s', name: 'pdf' });
   * ```
   */
  constructor(options: TaskQueueOptions = {}) {
    objectArgument(options, 'options');
    const concurrency = integerOption(options.concurrency, 'concurrency', 1, { min: 1 });
    const maxSize = integerOption(options.maxSize, 'maxSize', DEFAULT_MAX_SIZE, { min: 0 });
    const timeoutMs = optionalDuration(options.timeout, 'timeout', 0, { positive: true });
    const name = options.name;
    if (name !== undefined && (typeof name !== 'string' || name.length === 0)) {
      throw invalidArgument('name', 'a non-empty string', name);
    }
    this.#core = new QueueCore(concurrency, maxSize, timeoutMs, name);
  }

  /**
   * Runs `task` when a slot is free and resolves with its result.
   *
   * Rejects at once with {@link QueueFullError} when `maxSize` tasks are waiting, with
   * {@link QueueClosedError} once the queue is closed, and with the signal's reason when
   * `options.signal` is already aborted. Later it rejects with the task's own error, with a
   * `TimeoutError` at the deadline, or with the signal's reason when it aborts. Throws
   * `INVALID_ARGUMENT` synchronously for a task that is not a function or a bad option.
   *
   * @param task - `(signal) => promise`; pass `signal` on to the work.
   * @param options - see {@link AddOptions}.
   * @example
   * ```ts
   * const user = await queue.add((signal) => fetch(`/users/${id}`, { signal }).then((r) => r.json()), {
   *   signal: req.signal,
   *   timeout: '2s',
   *   priority: 1,
   * });
   * ```
   */
  add<T>(task: Task<T>, options?: AddOptions): Promise<T> {
    return this.#core.add(task, options);
  }

  /** Tasks waiting for a slot. */
  get size(): number {
    return this.#core.size;
  }

  /** Tasks holding a slot (running, including overrunning ones). */
  get pending(): number {
    return this.#core.pending;
  }

  /** True when `add()` would refuse a task now: every slot is taken and `maxSize` tasks wait. */
  get isFull(): boolean {
    const core = this.#core;
    return core.size >= core.maxSize && core.pending >= core.concurrency;
  }

  /** True once {@link TaskQueue.close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** How many tasks may wait. */
  get maxSize(): number {
    return this.#core.maxSize;
  }

  /** How many tasks run at once. */
  get concurrency(): number {
    return this.#core.concurrency;
  }

  /** The queue's name, if it has one. */
  get name(): string | undefined {
    return this.#core.name;
  }

  /**
   * A snapshot of the counters and timings; see {@link TaskQueueStats}.
   *
   * @example
   * ```ts
   * const { size, pending, rejected, overrunning, avgWaitMs } = queue.stats();
   * ```
   */
  stats(): TaskQueueStats {
    return this.#core.stats();
  }

  /**
   * Resolves when nothing waits and nothing runs (at once if that is already so).
   *
   * @example
   * ```ts
   * for (const file of files) queue.add((signal) => upload(file, signal)).catch(report);
   * await queue.onIdle();
   * ```
   */
  onIdle(): Promise<void> {
    return this.#core.whenIdle();
  }

  /**
   * Stops accepting tasks (`add()` rejects with `QUEUE_CLOSED`) and resolves once no task holds
   * a slot. With `drain: true` (default) the waiting and running tasks finish normally; with
   * `drain: false` the waiting ones and the callers of running ones are rejected with
   * {@link QueueClosedError} at once, and the running tasks' signals are aborted. Calling it
   * again is harmless, and `drain: false` after `drain: true` escalates.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => {
   *   server.close();
   *   await queue.close({ drain: true });
   * });
   * ```
   */
  close(options: CloseOptions = {}): Promise<void> {
    objectArgument(options, 'options');
    const drain = options.drain ?? true;
    if (typeof drain !== 'boolean') throw invalidArgument('options.drain', 'a boolean', drain);
    return this.#core.close(drain);
  }

  /**
   * Listens to an event ({@link TaskQueueEvents}); returns a function that removes the listener.
   * Nothing is computed for an event nobody listens to.
   *
   * @example
   * ```ts
   * const off = queue.on('full', ({ retryAfterMs }) => log.warn({ retryAfterMs }, 'render queue full'));
   * ```
   */
  on<K extends keyof TaskQueueEvents>(event: K, listener: Listener<TaskQueueEvents[K]>): Disposer {
    const core = this.#core;
    core.events ??= new Emitter<TaskQueueEvents>();
    return core.events.on(event, listener);
  }
}
