/**
 * What to put between a service and what it calls: {@link RetryPolicy} retries transient
 * failures with jittered backoff and, with a shared {@link RetryBudget}, cannot multiply the load
 * on a dependency that is failing; {@link CircuitBreaker} fails fast while a dependency is down
 * and, with `share`, opens across the fleet over Redis pub/sub; {@link HedgePolicy} races a second
 * attempt against a slow first one; {@link TimeoutPolicy} bounds each attempt and
 * {@link FallbackPolicy} answers when all else fails. {@link pipeline} composes them, outermost
 * first, each stage's signal wired to the next; {@link retryingFetch} gives every attempt of a
 * POST the same `Idempotency-Key`.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, FallbackPolicy, RetryBudget, RetryPolicy, TimeoutPolicy, pipeline } from 'headroom/resilience';
 *
 * const inventory = pipeline(
 *   new FallbackPolicy({ value: null }),
 *   new RetryPolicy({ maxAttempts: 3, budget: new RetryBudget() }),
 *   new CircuitBreaker({ name: 'inventory', share: { redis, channel: 'shop:breakers' } }),
 *   new TimeoutPolicy('500ms'),
 * );
 * const stock = await inventory.execute(({ signal }) => fetch(`https://inventory.internal/stock/${id}`, { signal }).then((r) => r.json()));
 * ```
 *
 * @document ../../docs/resilience.md
 * @packageDocumentation
 */
export type { Attempt, Clock, ExecuteContext, ExecuteOptions, Policy } from './policy.js';
export { RetryPolicy, type GiveUpReason, type RetryPolicyEvents, type RetryPolicyOptions } from './retry-policy.js';
export type { BackoffOptions, Jitter } from './backoff.js';
export { RetryBudget, type RetryBudgetEvents, type RetryBudgetOptions, type RetryBudgetStats } from './retry-budget.js';
export { CircuitBreaker } from './circuit-breaker.js';
export type { CircuitBreakerEvents, CircuitBreakerOptions, CircuitBreakerStats, CircuitState, ConsecutiveTrip, RatioTrip } from './breaker-options.js';
export type { BreakerShareOptions, BreakerShareRedis } from './breaker-share.js';
export { BrokenCircuitError } from './broken-circuit-error.js';
export { HedgePolicy, type HedgePolicyEvents, type HedgePolicyOptions } from './hedge-policy.js';
export { TimeoutPolicy, type TimeoutPolicyOptions } from './timeout-policy.js';
export { FallbackPolicy, type FallbackPolicyOptions } from './fallback-policy.js';
export { Pipeline, pipeline, type ExtraOf } from './pipeline.js';
export { isTransientFailure, parseRetryAfter } from './transient.js';
export { retryingFetch, RetryableResponseError, type FetchFunction, type RetryingFetchOptions } from './retrying-fetch.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export type { RedisEventListener, RedisPubSub, RedisSubscriber } from '../core/index.js';
export { TimeoutError } from '../timeout/index.js';
