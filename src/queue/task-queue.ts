import { Emitter, integerOption, invalidArgument, objectArgument, optionalDuration, type Disposer, type Listener } from '../core/index.js';
import { QueueCore } from './queue-core.js';
import type { AddOptions, CloseOptions, Task, TaskQueueEvents, TaskQueueOptions, TaskQueueStats } from './queue-types.js';

const DEFAULT_MAX_SIZE = 1000;

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
 * - Each task is called with a {@link TaskContext} whose `signal` is its own AbortSignal, made
 *   on first read: a task that never reads it costs no AbortController (one costs several
 *   times a whole trivial task on Node 20), and a wrapper that forwards its arguments still
 *   passes its task's own signal on.
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
 *     const pdf = await renders.add(({ signal }) => renderReport(req.body, { signal }));
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
 *   renders.add(({ signal }) => sendEmail(req.body, { signal })).catch((err) => log.warn({ err }, 'email not sent'));
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
   * @param task - `({ signal }) => promise`; pass `signal` on to the work.
   * @param options - see {@link AddOptions}.
   * @example
   * ```ts
   * import { requestSignal } from 'headroom/http';
   *
   * const user = await queue.add(({ signal }) => fetch(`https://users.internal/${id}`, { signal }).then((r) => r.json()), {
   *   signal: requestSignal(req), // the client hangs up: the task leaves the queue, or is aborted
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
    return this.#core.waiting.size;
  }

  /** Tasks holding a slot (running, including overrunning ones). */
  get pending(): number {
    return this.#core.pending;
  }

  /** True when `add()` would refuse a task now: every slot is taken and `maxSize` tasks wait. */
  get isFull(): boolean {
    const core = this.#core;
    return core.waiting.size >= core.maxSize && core.pending >= core.concurrency;
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
   * for (const to of ['ada@example.com', 'bob@example.com']) queue.add(({ signal }) => sendEmail({ to }, { signal })).catch((err) => log.warn({ err }, 'email'));
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
