/**
 * `headroom/resilience`: retries that cannot amplify an outage (retry budgets), circuit breakers
 * shared across instances over Redis, latency-driven hedging, per-attempt timeouts and
 * fallbacks, composed with {@link pipeline}.
 *
 * @packageDocumentation
 */
export type { Attempt, Clock, ExecuteContext, ExecuteOptions, Policy } from './policy.js';
export { RetryPolicy, type GiveUpReason, type RetryPolicyEvents, type RetryPolicyOptions } from './retry-policy.js';
export type { BackoffOptions, Jitter } from './backoff.js';
export { RetryBudget, type RetryBudgetEvents, type RetryBudgetOptions, type RetryBudgetStats } from './retry-budget.js';
export {
  CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  type CircuitState,
  type ConsecutiveTrip,
  type RatioTrip,
} from './circuit-breaker.js';
export type { BreakerShareOptions } from './breaker-share.js';
export { BrokenCircuitError } from './broken-circuit-error.js';
export { HedgePolicy, type HedgePolicyEvents, type HedgePolicyOptions } from './hedge-policy.js';
export { TimeoutPolicy, type TimeoutPolicyOptions } from './timeout-policy.js';
export { FallbackPolicy, type FallbackPolicyOptions } from './fallback-policy.js';
export { Pipeline, pipeline, type ExtraOf } from './pipeline.js';
export { isTransientFailure, parseRetryAfter } from './transient.js';
export { retryingFetch, RetryableResponseError, type FetchFunction, type RetryingFetchOptions } from './retrying-fetch.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export { TimeoutError } from '../timeout/index.js';
