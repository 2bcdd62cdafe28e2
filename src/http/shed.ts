import { invalidArgument, isHeadroomError, problemResponse, type Middleware, type NextOptions } from '../core/index.js';

/** The slot is held until the handler has really settled, not only until the request was answered. */
const UNTIL_HANDLER: NextOptions = Object.freeze({ untilHandlerSettles: true });

/**
 * What {@link shed} needs of a queue: `TaskQueue` from `headroom/queue` is the one meant.
 */
export interface SheddingQueue {
  /** Runs `task` when a slot is free; rejects at once with `QUEUE_FULL` when too many wait. */
  add<T>(task: () => Promise<T>, options?: { signal?: AbortSignal }): Promise<T>;
  /** Tasks waiting (optional: with it, `pending` and `concurrency`, a task that starts at once skips the signal). */
  readonly size?: number;
  /** Tasks running (optional, see `size`). */
  readonly pending?: number;
  /** Slots (optional, see `size`). */
  readonly concurrency?: number;
}

/**
 * Runs the rest of the chain through `queue`, so at most its `concurrency` requests are
 * handled at once and at most `maxSize` wait. When the queue is full the request is answered at
 * once with `503` and `Retry-After` (from the queue's estimate, at least 1 s), as
 * `application/problem+json` with `code: 'QUEUE_FULL'`.
 *
 * A request waiting in the queue leaves it as soon as its exchange signal aborts (client gone,
 * an outer `timeout`). A queue `timeout` answers `504` and aborts the handler's signal. The
 * slot is held until the handler has really settled (it ended its response, or returned for
 * Koa, Hono and fetch), even when an outer `timeout` answered the client first, so that no
 * more than `concurrency` handlers ever run at once.
 *
 * @param queue - a `TaskQueue` (`new TaskQueue({ concurrency, maxSize })`).
 * @example
 * ```ts
 * import { TaskQueue } from 'headroom/queue';
 *
 * const queue = new TaskQueue({ concurrency: 32, maxSize: 200, timeout: '10s' });
 * app.use(toNode(compose(timeout('5s'), shed(queue))));
 * ```
 */
export function shed(queue: SheddingQueue): Middleware {
  if (typeof queue !== 'object' || queue === null || typeof queue.add !== 'function') {
    throw invalidArgument('queue', 'a TaskQueue', queue);
  }
  const peek = typeof queue.size === 'number' && typeof queue.pending === 'number' && typeof queue.concurrency === 'number';
  return async function shedMiddleware(exchange, next) {
    try {
      // A request that gets a slot at once needs no cancellation while waiting; while it runs,
      // an abort (outer timeout, client gone) answers it without the queue's help and the slot
      // is freed when the response is done, as it is when the queue hears of the abort. So the
      // exchange signal (an AbortController) and the queue's abort listener, measured at several
      // microseconds per request, are only paid by requests that wait.
      const runsNow = peek && queue.size === 0 && queue.pending < queue.concurrency;
      await queue.add(() => next(UNTIL_HANDLER), runsNow ? undefined : { signal: exchange.signal });
    } catch (err) {
      if (exchange.responded) return;
      if (!isHeadroomError(err)) {
        // Aborted while waiting: the client left, or whoever aborted has answered.
        if (exchange.signal.aborted) return;
        throw err;
      }
      const response = problemResponse(err);
      if (err.status === 503 && response.headers !== undefined && response.headers['retry-after'] === undefined) {
        response.headers['retry-after'] = '1';
      }
      exchange.respond(response);
      if (err.code === 'OPERATION_TIMEOUT') exchange.abort(err);
    }
  };
}
