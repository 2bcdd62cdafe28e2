/**
 * A bounded task queue: at most `concurrency` tasks run at once and at most `maxSize` wait.
 * Beyond that {@link TaskQueue.add} rejects at once with a {@link QueueFullError} (`QUEUE_FULL`,
 * 503) whose `retryAfterMs` says when to come back, so an overloaded service sheds load instead of
 * letting waits and memory grow without limit. Each task gets its own `AbortSignal`, made when
 * it first reads it, for its `timeout`, its caller's signal and `close({ drain: false })`.
 *
 * @example
 * ```ts
 * import { TaskQueue, QueueFullError } from 'headroom/queue';
 *
 * const renders = new TaskQueue({ concurrency: 4, maxSize: 100, timeout: '10s', name: 'render' });
 *
 * app.post('/reports', async (req, res) => {
 *   try {
 *     res.type('pdf').send(await renders.add(({ signal }) => renderReport(req.body, { signal })));
 *   } catch (err) {
 *     if (!(err instanceof QueueFullError)) throw err;
 *     res.set('retry-after', String(Math.ceil(err.retryAfterMs / 1000))).status(503).end();
 *   }
 * });
 * ```
 *
 * @packageDocumentation
 */
export { TaskQueue } from './task-queue.js';
export type { Task, TaskContext, TaskQueueOptions, AddOptions, CloseOptions, TaskQueueStats, TaskQueueEvents } from './queue-types.js';
export { QueueFullError, QueueClosedError } from './queue-errors.js';
export { TimeoutError } from '../timeout/index.js';
