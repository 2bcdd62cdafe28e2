/**
 * See the service live. {@link dashboardHandler} serves a self-contained page (no external
 * script, style or font; a strict Content-Security-Policy) with a server-sent events feed beside
 * it: per-route throughput and p50/p95/p99 over 15 minutes, health, cache, queues, idempotency,
 * circuit breakers, rate limiters and firing alerts. {@link metricsHandler} exports every module's
 * figures as one Prometheus endpoint, and {@link alertRules} fires and resolves alerts on latency
 * budgets, error ratios and failing checks, with an optional webhook that never slows a request.
 *
 * @example
 * ```ts
 * import { alertRules, dashboardHandler, metricsHandler } from 'headroom/dashboard';
 * import { toNode } from 'headroom/http';
 *
 * const sources = { percentiles: tracker, cache, health };
 * const alerts = alertRules({ percentiles: tracker, rules: [{ name: 'slow', severity: 'warning', p99Above: '300ms', for: '1m' }] });
 * app.get('/dashboard', toNode(dashboardHandler({ ...sources, alerts, authorize: (exchange) => exchange.header('x-role') === 'ops' })));
 * app.get('/metrics', toNode(metricsHandler(sources)));
 * ```
 *
 * @document ../../docs/dashboard.md
 * @packageDocumentation
 */
export { dashboardHandler, type DashboardHandler, type DashboardOptions } from './dashboard-handler.js';
export { metricsHandler, type ServiceMetricsOptions } from './metrics-handler.js';
export { alertRules, AlertRules } from './alert-rules.js';
export type {
  Alert,
  AlertCondition,
  AlertDeliveryError,
  AlertEvents,
  AlertHealthSource,
  AlertRule,
  AlertRulesOptions,
  AlertSeverity,
  AlertWebhookOptions,
  ResolvedAlert,
} from './alert-types.js';
export type { WebhookStats } from './alert-webhook.js';
export type { DashboardFrame, RouteFrame, HealthFrame, HealthCheckFrame, CacheFrame, QueueFrame, BreakerFrame, LimiterFrame, AlertSource } from './frame.js';
export type {
  DashboardSources,
  CacheSource,
  QueueSource,
  IdempotencySource,
  HealthSource,
  BreakerSource,
  BreakerCounters,
  LimiterSource,
  LimiterCounters,
} from './sources.js';
export type { RouteOutcomes } from './route-outcomes.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
