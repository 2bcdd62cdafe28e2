/**
 * `headroom/dashboard`: see the service live. A self-contained dashboard page with a
 * server-sent events feed (routes, health, cache, queues, idempotency, breakers, limiters and
 * alerts), one Prometheus endpoint for every module, and alert rules with a webhook.
 *
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
export type {
  DashboardFrame,
  RouteFrame,
  HealthFrame,
  HealthCheckFrame,
  CacheFrame,
  QueueFrame,
  BreakerFrame,
  LimiterFrame,
  AlertSource,
} from './frame.js';
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
