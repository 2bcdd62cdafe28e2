import { invalidArgument, objectArgument, writeFamilies, type Middleware } from '../core/index.js';
import type { HealthReport } from '../health/index.js';
import { metricsHandler as trackerMetricsHandler, type MetricsHandlerOptions, type PercentileTracker, type PrometheusOptions } from '../percentiles/index.js';
import { sourceFamilies } from './source-families.js';
import { resolveSources, type DashboardSources, type HealthSource } from './sources.js';

/** Options of {@link metricsHandler} given sources: what to export, and where. */
export interface ServiceMetricsOptions extends DashboardSources {
  /**
   * Answer only this path (and pass other requests on with `next()`), so it can be mounted
   * app-wide. Default: answer every request it sees.
   */
  path?: string;
  /** Options of the tracker's latency summaries (name, window, label): see `toPrometheus`. */
  latency?: PrometheusOptions;
}

const HEADERS = { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' };

function isTracker(value: unknown): value is PercentileTracker {
  return typeof value === 'object' && value !== null && typeof (value as PercentileTracker).toPrometheus === 'function';
}

async function readReport(health: HealthSource | undefined): Promise<HealthReport | undefined> {
  if (health === undefined) return undefined;
  try {
    return await health.check();
  } catch {
    // A closed checker exports no health figures rather than failing the scrape.
    return undefined;
  }
}

/**
 * One Prometheus endpoint for the whole service: the tracker's latency summaries (quantiles per
 * route, `_sum`, `_count`, errors) next to counters and gauges of every other source given:
 *
 * | source | families (all prefixed `headroom_`) |
 * | --- | --- |
 * | `cache` | `cache_hits_total{layer}`, `cache_misses_total{layer}`, `cache_coalesced_total`, `cache_stale_served_total`, `cache_factory_runs_total`, `cache_breaker_state{state}`, `cache_bus_connected`, ... |
 * | `queues` | `queue_waiting{queue}`, `queue_running`, `queue_rejected_total`, `queue_wait_seconds_total`, `queue_started_total`, ... |
 * | `idempotency` | `idempotency_executions_total`, `idempotency_replays_total`, `idempotency_conflicts_total`, ... |
 * | `health` | `health_status{status}`, `health_check_status{check,status}`, `health_check_duration_seconds{check}` |
 * | `breakers` | `breaker_state{breaker,state}`, `breaker_opened_total`, `breaker_rejected_total`, ... (the counters the breaker reports: all of them for a `CircuitBreaker`) |
 * | `limiters` | `ratelimit_allowed_total{limiter}`, `ratelimit_limited_total`, `ratelimit_degraded_total`, `ratelimit_store_errors_total`, ... (the counters the limiter reports: all of them for a `RateLimiter`) |
 *
 * Every family has `# HELP` and `# TYPE`; counters end in `_total`, times are in seconds, states
 * are state sets (one sample per state, 1 for the current one). Average queue wait over any
 * range: `rate(headroom_queue_wait_seconds_total[5m]) / rate(headroom_queue_started_total[5m])`.
 * Health is read through the checker (its `cacheFor` and coalescing apply), so a scrape waits
 * at most the checks' timeouts.
 *
 * Given a tracker alone, this is the tracker's own metrics handler from `headroom/percentiles`.
 *
 * @throws `INVALID_ARGUMENT` naming a bad source or option.
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * import { metricsHandler } from 'headroom/dashboard';
 *
 * app.get('/metrics', toNode(metricsHandler({ percentiles: tracker, cache, health, idempotency, queues: { http: queue } })));
 * ```
 */
export function metricsHandler(sources: ServiceMetricsOptions): Middleware;
/**
 * The tracker's latency summaries alone, as `metricsHandler` of `headroom/percentiles`.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 *
 * app.get('/metrics', toNode(metricsHandler(tracker, { window: '1m' })));
 * ```
 */
export function metricsHandler(tracker: PercentileTracker, options?: MetricsHandlerOptions): Middleware;
export function metricsHandler(first: ServiceMetricsOptions | PercentileTracker, options?: MetricsHandlerOptions): Middleware {
  if (isTracker(first)) return trackerMetricsHandler(first, options);
  if (first === null || typeof first !== 'object') throw invalidArgument('sources', 'an object of sources, or a PercentileTracker', first);
  objectArgument(first, 'sources');
  if (options !== undefined) throw invalidArgument('options', 'nothing: path and latency go in the sources object', options);
  const sources = resolveSources(first);
  const path = first.path;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) throw invalidArgument('path', 'a path starting with "/"', path);
  objectArgument(first.latency, 'latency');
  const latency = first.latency;
  const tracker = sources.percentiles;
  // Validate the summary options now rather than on the first scrape.
  tracker?.toPrometheus(latency);
  return async (exchange, next) => {
    if (path !== undefined && exchange.path !== path) {
      await next();
      return;
    }
    const health = await readReport(sources.health);
    const body = (tracker?.toPrometheus(latency) ?? '') + writeFamilies(sourceFamilies({ sources, health }));
    exchange.respond({ status: 200, headers: HEADERS, body });
  };
}
