import { getHeapStatistics } from 'node:v8';
import { numberOption, objectArgument } from '../../core/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** Options of {@link memoryCheck}. */
export interface MemoryCheckOptions {
  /** Warn (degraded) once used heap / heap limit reaches this fraction. Default `0.9`. */
  degradedAtRatio?: number;
}

/**
 * A check of V8 heap usage: used heap as a percentage of the heap limit (`--max-old-space-size`),
 * reported as `utilization`. `warn` from `degradedAtRatio`; it never fails, since a process near
 * its heap limit still answers and restarting it is the liveness probe's call, not readiness'.
 *
 * @example
 * ```ts
 * health.register('memory', memoryCheck({ degradedAtRatio: 0.85 }), { critical: false });
 * ```
 */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheck {
  objectArgument(options, 'options');
  const degradedAtRatio = numberOption(options.degradedAtRatio, 'degradedAtRatio', 0.9, { min: 0, max: 1 });
  const check: HealthCheck = (): CheckResult => {
    const heap = getHeapStatistics();
    const ratio = heap.used_heap_size / heap.heap_size_limit;
    const observedValue = Math.round(ratio * 1000) / 10;
    if (ratio >= degradedAtRatio) {
      const usedMb = Math.round(heap.used_heap_size / 1_048_576);
      const limitMb = Math.round(heap.heap_size_limit / 1_048_576);
      return { status: 'warn', observedValue, observedUnit: 'percent', output: `heap ${usedMb} MB of ${limitMb} MB (${observedValue}%)` };
    }
    return { status: 'pass', observedValue, observedUnit: 'percent' };
  };
  check.kind = 'system';
  check.measurement = 'utilization';
  return check;
}
