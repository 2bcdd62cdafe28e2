import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { invalidArgument, numberOption, objectArgument } from '../../core/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** Options of {@link eventLoopCheck}. */
export interface EventLoopCheckOptions {
  /** Warn (degraded) once the p99 event-loop delay reaches this many ms. Default `100`. */
  degradedAtMs?: number;
  /** Fail once the p99 event-loop delay reaches this many ms. Default `1000`. */
  unhealthyAtMs?: number;
  /** Sampling resolution of the histogram, in ms. Default `20`. */
  resolutionMs?: number;
}

/**
 * A check of event-loop delay (`perf_hooks.monitorEventLoopDelay`): the 99th percentile of the
 * delay since the previous run, in ms (`eventLoopDelay`). `warn` from `degradedAtMs`, `fail`
 * from `unhealthyAtMs`.
 *
 * The histogram is enabled on the first run (which has no samples yet, and passes) and disabled
 * by the returned check's `close()`, which {@link HealthChecker.close} calls.
 *
 * @example
 * ```ts
 * health.register('eventLoop', eventLoopCheck({ degradedAtMs: 100, unhealthyAtMs: 1000 }), { critical: false });
 * ```
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheck {
  objectArgument(options, 'options');
  const degradedAtMs = numberOption(options.degradedAtMs, 'degradedAtMs', 100, { min: 0 });
  const unhealthyAtMs = numberOption(options.unhealthyAtMs, 'unhealthyAtMs', 1_000, { min: 0 });
  const resolution = numberOption(options.resolutionMs, 'resolutionMs', 20, { min: 1, max: 10_000 });
  if (degradedAtMs > unhealthyAtMs) throw invalidArgument('degradedAtMs', `a delay no greater than unhealthyAtMs (${unhealthyAtMs})`, degradedAtMs);
  let histogram: IntervalHistogram | undefined;

  const check: HealthCheck = (): CheckResult => {
    if (histogram === undefined) {
      histogram = monitorEventLoopDelay({ resolution: Math.round(resolution) });
      histogram.enable();
      return { status: 'pass', output: 'sampling started' };
    }
    if (histogram.count === 0) return { status: 'pass' };
    const p99 = Math.round(histogram.percentile(99) / 1e4) / 100;
    histogram.reset();
    if (p99 >= unhealthyAtMs)
      return { status: 'fail', observedValue: p99, observedUnit: 'ms', output: `p99 event-loop delay ${p99} ms >= ${unhealthyAtMs} ms` };
    if (p99 >= degradedAtMs) return { status: 'warn', observedValue: p99, observedUnit: 'ms', output: `p99 event-loop delay ${p99} ms >= ${degradedAtMs} ms` };
    return { status: 'pass', observedValue: p99, observedUnit: 'ms' };
  };
  check.kind = 'system';
  check.measurement = 'eventLoopDelay';
  check.close = () => {
    histogram?.disable();
    histogram = undefined;
  };
  return check;
}
