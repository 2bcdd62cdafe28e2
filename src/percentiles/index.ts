/**
 * `headroom/percentiles`: per-key p50 to p99.9 over sliding windows on HdrHistogram, O(1) per
 * record, bounded in memory, exportable to Prometheus and mergeable across instances.
 *
 * @packageDocumentation
 */
export {
  PercentileTracker,
  type RecordOptions,
  type WindowOptions,
  type SlowestOptions,
  type EncodeOptions,
  type KeyedStats,
  type PercentileTrackerJSON,
  type StopTimer,
  type WindowInfo,
} from './percentile-tracker.js';
export type { PercentileTrackerOptions } from './tracker-options.js';
export type { PercentileStats, RequestOutcome } from './stats.js';
export type { Budget, BudgetMetric, BudgetViolation } from './budgets.js';
export { OVERFLOW_KEY, type PercentileTrackerEvents, type SlowEvent, type BudgetEvent, type OverflowEvent } from './events.js';
export { escapeLabelValue, type PrometheusOptions } from './prometheus.js';
export { ENCODING_FORMAT } from './encoding.js';
export {
  percentileMiddleware,
  metricsHandler,
  UNMATCHED_ROUTE,
  requestOutcome,
  type PercentileMiddlewareOptions,
  type MetricsHandlerOptions,
} from './middleware.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
