/**
 * `headroom/health`: deadline-bound dependency checks folded into healthy / degraded /
 * unhealthy, coalesced and cached runs, `application/health+json`, liveness and readiness
 * probes, and graceful shutdown.
 *
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
export type {
  ShutdownOptions,
  ShutdownResult,
  ShutdownContext,
  ClosableServer,
  DrainableQueue,
} from './graceful-shutdown.js';
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
