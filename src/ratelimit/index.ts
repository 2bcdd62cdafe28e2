/**
 * `headroom/ratelimit`: rate limits that are exact on one process and across many, with GCRA
 * (one timestamp per key), an in-process store bounded by `maxKeys` or a Redis / Redis Cluster
 * store (one round trip per check, Redis' clock), several limits per request taken all or
 * nothing, every store call bounded, and an HTTP middleware speaking the IETF `RateLimit-Policy`
 * and `RateLimit` fields on every adapter.
 *
 * @packageDocumentation
 */
export { RateLimiter } from './rate-limiter.js';
export type {
  RateLimiterOptions,
  TakeOptions,
  TakeAllCheck,
  StoreErrorPolicy,
  RateLimiterEvents,
  LimitedEvent,
  StoreErrorEvent,
  RateLimiterStats,
} from './types.js';
export type { RateLimitResult, RateLimitAllResult } from './result.js';
export type { RateLimitPolicy, StoreReply } from './policy.js';
export type { RateLimitStore, RateLimitCheck } from './store.js';
export {
  MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type MemoryRateLimitStoreStats,
  type RateLimitClock,
} from './memory-store.js';
export { RedisRateLimitStore, type RedisRateLimitStoreOptions } from './redis-store.js';
export { RateLimitedError, type RateLimitedErrorOptions } from './errors.js';
export {
  rateLimitMiddleware,
  type RateLimitMiddlewareOptions,
  type RateLimitMiddlewareLimit,
  type RateLimitMiddlewareListOptions,
} from './middleware.js';
export { forwardedClientAddress, type ForwardedClientAddressOptions } from './client-address.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
