import { type Emitter, invalidArgument, objectArgument, parseDuration, deadlineNow as now, promiseWithSettlers } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import { QueueClosedError, QueueFullError } from './queue-errors.js';
import { QueueCounters } from './queue-counters.js';
import type { AddOptions, Task, TaskQueueEvents, TaskQueueStats } from './queue-types.js';
import { OVERRUNNING, QueuedTask, QueuedTaskContext, RUNNING, SETTLED, WAITING, type TaskOwner } from './queued-task.js';
import { WaitingList } from './waiting-list.js';

/** Run time assumed for `retryAfterMs` before any task has finished. */
const DEFAULT_RUN_MS = 1000;

/**
 * The queue's machinery behind {@link TaskQueue}: admission, the waiting and running lists,
 * starting and settling tasks, timeouts, cancellation and closing.
 */
export class QueueCore implements TaskOwner {
  /** Tasks holding a slot (running or overrunning). */
  pending = 0;
  closed = false;
  readonly waiting = new WaitingList();
  /** Tasks holding a slot, oldest first (a list through the tasks' `prev`/`next`). */
  private runHead: QueuedTask | null = null;
  private runTail: QueuedTask | null = null;
  private idleWaiters: (() => void)[] = [];
  /** True while {@link QueueCore.fillSlots} runs, so that a task settling synchronously does not re-enter it. */
  private filling = false;
  events: Emitter<TaskQueueEvents> | undefined = undefined;
  readonly counters = new QueueCounters();

  constructor(
    readonly concurrency: number,
    readonly maxSize: number,
    readonly timeoutMs: number,
    readonly name: string | undefined,
  ) {}

  add<T>(task: Task<T>, options: AddOptions | undefined): Promise<T> {
    if (typeof task !== 'function') throw invalidArgument('task', 'a function ({ signal }) => promise', task);
    let signal: AbortSignal | undefined;
    let timeoutMs = this.timeoutMs;
    let level = this.waiting.defaultLevel;
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
        level = this.waiting.levelFor(priority);
      }
    }
    const counters = this.counters;
    if (this.closed) {
      counters.rejected++;
      return Promise.reject(new QueueClosedError(this.name));
    }
    if (signal !== undefined && signal.aborted) {
      counters.cancelled++;
      return Promise.reject(signal.reason);
    }
    const waiting = this.waiting;
    const runNow = this.pending < this.concurrency && waiting.size === 0;
    if (!runNow && waiting.size >= this.maxSize) {
      counters.rejected++;
      return Promise.reject(new QueueFullError(this.maxSize, this.retryAfterMs(), this.name));
    }
    counters.added++;
    const promise = promiseWithSettlers<T>();
    const queued = new QueuedTask(this, task, signal, timeoutMs);
    if (signal !== undefined) signal.addEventListener('abort', queued);
    if (runNow) {
      this.start(queued, now());
    } else {
      queued.enqueuedAt = now();
      waiting.push(queued, level);
      if (waiting.size === this.maxSize && this.events?.has('full') === true) {
        this.events.emit('full', { size: waiting.size, maxSize: this.maxSize, retryAfterMs: this.retryAfterMs() });
      }
    }
    return promise;
  }

  /** Starts `queued`; `startedAt` is a clock reading the caller already has. */
  private start(queued: QueuedTask, startedAt: number): void {
    queued.state = RUNNING;
    this.pending++;
    const tail = this.runTail;
    queued.prev = tail;
    queued.next = null;
    if (tail === null) this.runHead = queued;
    else tail.next = queued;
    this.runTail = queued;

    queued.startedAt = startedAt;
    this.counters.recordStart(queued.enqueuedAt === 0 ? 0 : startedAt - queued.enqueuedAt);
    if (queued.timeoutMs > 0) queued.armDeadline(queued.timeoutMs, startedAt);

    let result: unknown;
    try {
      result = queued.task(new QueuedTaskContext(queued));
    } catch (err) {
      this.settle(queued, err, false);
      return;
    }
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
      try {
        (result as PromiseLike<unknown>).then(
          (value) => this.settle(queued, value, true),
          (error: unknown) => this.settle(queued, error, false),
        );
      } catch (err) {
        this.settle(queued, err, false);
      }
    } else {
      this.settle(queued, result, true);
    }
  }

  /** The task settled (`ok`: with a value): free its slot, answer its caller if still waiting. */
  private settle(queued: QueuedTask, value: unknown, ok: boolean): void {
    if (queued.state === SETTLED) return;
    const settledAt = now();
    const counters = this.counters;
    counters.recordRun(settledAt - queued.startedAt);

    this.pending--;
    const prev = queued.prev;
    const next = queued.next;
    if (prev === null) this.runHead = next;
    else prev.next = next;
    if (next === null) this.runTail = prev;
    else next.prev = prev;
    queued.prev = null;
    queued.next = null;
    queued.disarmDeadline();
    queued.unlisten();

    if (queued.state === RUNNING) {
      queued.state = SETTLED;
      if (ok) {
        counters.completed++;
        queued.resolve(value);
      } else {
        counters.failed++;
        queued.reject(value);
      }
    } else {
      queued.state = SETTLED;
      counters.overrunning--;
    }
    this.fillSlots(settledAt);
  }

  /** Fills free slots from the waiting list; `at` is a recent clock reading, reused as start time. */
  private fillSlots(at: number): void {
    if (this.filling) return;
    this.filling = true;
    const waiting = this.waiting;
    try {
      let startAt = at;
      while (this.pending < this.concurrency && waiting.size > 0) {
        this.start(waiting.shift(), startAt);
        // A task may have run synchronously: read the clock again for the next one.
        if (this.pending < this.concurrency && waiting.size > 0) startAt = now();
      }
    } finally {
      this.filling = false;
    }
    if (this.pending === 0 && waiting.size === 0) this.becameIdle();
  }

  /** Answers the caller of a running task with `error` and aborts the task's signal; the task keeps its slot until it settles. */
  private abandon(queued: QueuedTask, error: unknown): void {
    queued.state = OVERRUNNING;
    this.counters.overrunning++;
    queued.disarmDeadline();
    queued.unlisten();
    queued.reject(error);
    queued.abort(error);
  }

  /** The task ran past its deadline. */
  expire(queued: QueuedTask): void {
    if (queued.state !== RUNNING) return;
    this.counters.timedOut++;
    this.abandon(queued, new TimeoutError(queued.timeoutMs, this.name));
    if (this.events?.has('timeout') === true) {
      this.events.emit('timeout', { timeoutMs: queued.timeoutMs, overrunning: this.counters.overrunning });
    }
  }

  /** The caller's signal aborted. */
  cancel(queued: QueuedTask): void {
    const reason: unknown = (queued.callerSignal as AbortSignal).reason;
    queued.unlisten();
    if (queued.state === WAITING) {
      this.waiting.remove(queued);
      queued.state = SETTLED;
      this.counters.cancelled++;
      queued.reject(reason);
      if (this.pending === 0 && this.waiting.size === 0) this.becameIdle();
    } else if (queued.state === RUNNING) {
      this.counters.cancelled++;
      this.abandon(queued, reason);
    }
  }

  /** The wait to suggest to a refused caller: recent run time times the tasks waiting, over the slots. */
  retryAfterMs(): number {
    const recent = this.counters.recentRunMs;
    const perTask = Number.isNaN(recent) ? (this.timeoutMs > 0 ? this.timeoutMs : DEFAULT_RUN_MS) : recent;
    const concurrency = this.concurrency === Infinity ? 1 : this.concurrency;
    return Math.max(1, Math.ceil((perTask * Math.max(1, this.waiting.size)) / concurrency));
  }

  private becameIdle(): void {
    const waiters = this.idleWaiters;
    if (waiters.length > 0) {
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.events?.has('idle') === true) {
      this.events.emit('idle', { completed: this.counters.completed, failed: this.counters.failed });
    }
  }

  whenIdle(): Promise<void> {
    if (this.pending === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
    });
  }

  close(drain: boolean): Promise<void> {
    this.closed = true;
    if (!drain) {
      const error = new QueueClosedError(this.name);
      for (const queued of this.waiting.removeAll()) {
        queued.state = SETTLED;
        this.counters.rejected++;
        queued.unlisten();
        queued.reject(error);
      }
      for (let queued = this.runHead; queued !== null; queued = queued.next) {
        if (queued.state !== RUNNING) continue;
        this.counters.rejected++;
        this.abandon(queued, error);
      }
      if (this.pending === 0) this.becameIdle();
    }
    return this.whenIdle();
  }

  stats(): TaskQueueStats {
    const counters = this.counters;
    return {
      name: this.name,
      size: this.waiting.size,
      pending: this.pending,
      added: counters.added,
      completed: counters.completed,
      failed: counters.failed,
      rejected: counters.rejected,
      cancelled: counters.cancelled,
      timedOut: counters.timedOut,
      overrunning: counters.overrunning,
      started: counters.started,
      totalWaitMs: counters.waitSumMs,
      avgWaitMs: counters.started === 0 ? 0 : counters.waitSumMs / counters.started,
      maxWaitMs: counters.waitMaxMs,
      avgRunMs: counters.settled === 0 ? 0 : counters.runSumMs / counters.settled,
      maxRunMs: counters.runMaxMs,
      recentRunMs: Number.isNaN(counters.recentRunMs) ? 0 : counters.recentRunMs,
    };
  }
}
