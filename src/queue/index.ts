/**
 * `headroom/queue`: a bounded task queue that sheds load with `QUEUE_FULL` and a `retryAfterMs`
 * hint instead of letting waits and memory grow without limit.
 *
 * @packageDocumentation
 */
export {
  TaskQueue,
  type Task,
  type TaskQueueOptions,
  type AddOptions,
  type CloseOptions,
  type TaskQueueStats,
  type TaskQueueEvents,
} from './task-queue.js';
export { QueueFullError, QueueClosedError } from './queue-errors.js';
export { TimeoutError } from '../timeout/index.js';
