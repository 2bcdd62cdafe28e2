import { brandError, ErrorCode, HeadroomError } from '../core/index.js';

/**
 * Thrown (as a rejection of `queue.add()`) when `maxSize` tasks are already waiting.
 * `code` is `QUEUE_FULL`, `status` 503, and `retryAfterMs` estimates when the queue will have
 * drained: the recent average run time times the number waiting, divided by `concurrency`.
 *
 * Shedding is the hot path of an overloaded service, so this error is built without a stack
 * trace (capturing one costs microseconds and says nothing: the cause is load, not code).
 *
 * @example
 * ```ts
 * try {
 *   await queue.add(work);
 * } catch (err) {
 *   if (err instanceof QueueFullError) {
 *     res.writeHead(503, { 'retry-after': String(Math.ceil(err.retryAfterMs / 1000)) }).end();
 *   }
 * }
 * ```
 */
export class QueueFullError extends HeadroomError {
  static {
    brandError(this, 'QueueFullError');
  }

  /** Suggested wait before a retry, in milliseconds (at least 1). */
  declare readonly retryAfterMs: number;
  /** The queue's name, when it has one. */
  readonly queue: string | undefined;
  /** The queue's `maxSize`. */
  readonly maxSize: number;

  constructor(maxSize: number, retryAfterMs: number, queue?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(ErrorCode.QUEUE_FULL, `headroom: ${queue === undefined ? 'queue' : `queue "${queue}"`} is full (${maxSize} waiting); retry in ${retryAfterMs} ms`, {
        status: 503,
        retryAfterMs,
      });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'QueueFullError';
    this.queue = queue;
    this.maxSize = maxSize;
  }
}

/**
 * Thrown (as a rejection of `queue.add()`) once the queue is closed: by `add()` after
 * `close()`, and, after `close({ drain: false })`, by the tasks that were waiting or running.
 * `code` is `QUEUE_CLOSED`, `status` 503.
 *
 * @example
 * ```ts
 * import { isHeadroomError } from 'headroom';
 *
 * await queue.close({ drain: false });
 * await queue.add(work).catch((err) => isHeadroomError(err, 'QUEUE_CLOSED')); // true
 * ```
 */
export class QueueClosedError extends HeadroomError {
  static {
    brandError(this, 'QueueClosedError');
  }

  /** The queue's name, when it has one. */
  readonly queue: string | undefined;

  constructor(queue?: string) {
    super(ErrorCode.QUEUE_CLOSED, `headroom: ${queue === undefined ? 'queue' : `queue "${queue}"`} is closed`, {
      status: 503,
    });
    this.name = 'QueueClosedError';
    this.queue = queue;
  }
}
