/**
 * Health checks and graceful shutdown. {@link HealthChecker} runs your dependency checks in
 * parallel, each under a deadline, and folds them into healthy, degraded or unhealthy; concurrent
 * probes share one run. Liveness and readiness handlers speak `application/health+json`, and
 * {@link HealthChecker.shutdown} takes the instance out of rotation on SIGTERM, drains, and exits
 * within a deadline.
 *
 * @example
 * ```ts
 * import { HealthChecker, redisCheck, pgCheck, livenessHandler, readinessHandler } from 'headroom/health';
 * import { toNode } from 'headroom/http';
 *
 * const health = new HealthChecker({ timeout: '500ms', cacheFor: '1s' })
 *   .register('postgres', pgCheck(pool)) // down: unhealthy, 503
 *   .register('redis', redisCheck(redis), { critical: false }); // down: degraded, 200
 *
 * app.get('/live', toNode(livenessHandler(health)));
 * app.get('/ready', toNode(readinessHandler(health)));
 * health.shutdown({ server: app.listen(3000), timeout: '25s', onShutdown: () => pool.end() });
 * ```
 *
 * @document ../../docs/health.md
 * @packageDocumentation
 */
export { HealthChecker } from './health-checker.js';
export type {
  CheckStatus,
  HealthStatus,
  CheckResult,
  CheckOutcome,
  HealthCheck,
  RegisterOptions,
  CheckReport,
  HealthReport,
  HealthCheckerOptions,
} from './types.js';
export type { ShutdownOptions, ShutdownResult, ShutdownContext, ClosableServer, DrainableQueue } from './graceful-shutdown.js';
export { toHealthJson, healthJsonStatus, type HealthJson, type HealthJsonCheck, type HealthJsonOptions, type HealthDetail } from './health-json.js';
export { redisCheck, type PingableRedis, type RedisCheckOptions, type RedisClusterLike, type RedisNodeLike } from './checks/redis-check.js';
export { pgCheck, type Queryable } from './checks/pg-check.js';
export { queueCheck, type MeasurableQueue, type QueueCheckOptions } from './checks/queue-check.js';
export { eventLoopCheck, type EventLoopCheckOptions } from './checks/event-loop-check.js';
export { memoryCheck, type MemoryCheckOptions } from './checks/memory-check.js';
export { httpCheck, type HttpCheckOptions } from './checks/http-check.js';
export { livenessHandler, type LivenessOptions } from './liveness-handler.js';
export { readinessHandler, type ReadinessOptions } from './readiness-handler.js';
export { degradedHeaders, type DegradedHeadersOptions } from './degraded-headers.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
