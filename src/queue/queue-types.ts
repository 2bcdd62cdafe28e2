import type { Duration } from '../core/index.js';

/**
 * What a {@link Task} is given: a small object whose `signal` is the task's own AbortSignal,
 * aborted at the task's timeout, when the caller's `options.signal` aborts, or on
 * `close({ drain: false })`. The signal is made on first read: a task that never reads it costs
 * no AbortController.
 *
 * @example
 * ```ts
 * await queue.add(({ signal }) => fetch(url, { signal }));
 * ```
 */
export interface TaskContext {
  /** This task's own signal; pass it on (fetch, pg, ioredis...) so that the work really stops. */
  readonly signal: AbortSignal;
}

/**
 * Work for a {@link TaskQueue}: a function of a {@link TaskContext} that returns a promise (or a
 * value). Pass `context.signal` on so that a timeout or `close({ drain: false })` really stops
 * the work. A wrapper may forward the context as it is (`(...args) => inner(...args)`): the
 * inner function reads the same task's signal.
 */
export type Task<T> = (context: TaskContext) => PromiseLike<T> | T;

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
