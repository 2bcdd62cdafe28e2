/**
 * Latency percentiles per key (a route, a query, a job): p50 to p99.9 over sliding windows on
 * HdrHistogram, O(1) and allocation-free per record, bounded in memory. {@link PercentileTracker}
 * fires `slow` and `budget` events, writes Prometheus text and merges histograms across
 * instances; {@link percentileMiddleware} records every request under its route template.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * import { PercentileTracker, percentileMiddleware, metricsHandler } from 'headroom/percentiles';
 *
 * const tracker = new PercentileTracker({ windows: ['1m', '1h'], slowThreshold: '1s' });
 * app.use(toNode(percentileMiddleware(tracker))); // key: 'GET /users/:id'
 * app.get('/metrics', toNode(metricsHandler(tracker))); // Prometheus text
 *
 * tracker.stats('GET /users/:id', { window: '1h' }); // { count, p50, p95, p99, p999, errorRate, ... }
 * ```
 *
 * @document ../../docs/percentiles.md
 * @packageDocumentation
 */
export { PercentileTracker } from './percentile-tracker.js';
export type { RecordOptions, WindowOptions, SlowestOptions, EncodeOptions, KeyedStats, PercentileTrackerJSON, StopTimer, WindowInfo } from './tracker-types.js';
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
export { HeadroomError, isHeadroomError, ErrorCode, type Duration, type Clock } from '../core/index.js';
