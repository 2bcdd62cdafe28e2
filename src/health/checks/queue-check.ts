import { invalidArgument, numberOption, objectArgument } from '../../core/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** What {@link queueCheck} reads of a queue, e.g. a `TaskQueue`. */
export interface MeasurableQueue {
  /** Tasks waiting (not running). */
  readonly size: number;
  /** The most tasks allowed to wait; `Infinity` for an unbounded queue. */
  readonly maxSize: number;
}

/** Options of {@link queueCheck}. */
export interface QueueCheckOptions {
  /** Warn (degraded) once `size / maxSize` reaches this fraction. Default `0.5`. */
  degradedAt?: number;
  /** Fail once `size / maxSize` reaches this fraction. Default `1` (the queue is full). */
  unhealthyAt?: number;
}

/**
 * A check of a bounded queue's depth as a fraction of its `maxSize`, reported as `utilization`
 * in percent: `warn` from `degradedAt`, `fail` from `unhealthyAt`. A synchronous read, so it
 * never times out. An unbounded queue (`maxSize: Infinity`) always passes.
 *
 * @param queue - a `TaskQueue`, or anything with `size` and `maxSize`.
 * @example
 * ```ts
 * import { TaskQueue } from 'headroom/queue';
 *
 * const jobs = new TaskQueue({ concurrency: 4, maxSize: 200 });
 * health.register('jobs', queueCheck(jobs, { degradedAt: 0.5, unhealthyAt: 0.9 }), { critical: false });
 * ```
 */
export function queueCheck(queue: MeasurableQueue, options: QueueCheckOptions = {}): HealthCheck {
  if (queue === null || typeof queue !== 'object' || typeof queue.size !== 'number' || typeof queue.maxSize !== 'number') {
    throw invalidArgument('queue', 'a queue with numeric size and maxSize', queue);
  }
  objectArgument(options, 'options');
  const degradedAt = numberOption(options.degradedAt, 'degradedAt', 0.5, { min: 0, max: 1 });
  const unhealthyAt = numberOption(options.unhealthyAt, 'unhealthyAt', 1, { min: 0, max: 1 });
  if (degradedAt > unhealthyAt) throw invalidArgument('degradedAt', `a fraction no greater than unhealthyAt (${unhealthyAt})`, degradedAt);
  const check: HealthCheck = (): CheckResult => {
    const size = queue.size;
    const maxSize = queue.maxSize;
    const ratio = maxSize > 0 && Number.isFinite(maxSize) ? size / maxSize : 0;
    const observedValue = Math.round(ratio * 1000) / 10;
    if (ratio < degradedAt || ratio === 0) return { status: 'pass', observedValue, observedUnit: 'percent' };
    const output = `${size} of ${maxSize} tasks waiting (${observedValue}%)`;
    return { status: ratio >= unhealthyAt ? 'fail' : 'warn', observedValue, observedUnit: 'percent', output };
  };
  check.kind = 'component';
  check.measurement = 'utilization';
  return check;
}
