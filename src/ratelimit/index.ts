/**
 * Rate limits that are exact on one process and across many. {@link RateLimiter} uses GCRA (one
 * timestamp per key: smooth, no window edge to game), kept in this process
 * ({@link MemoryRateLimitStore}, bounded by `maxKeys`) or in Redis or a Redis Cluster
 * ({@link RedisRateLimitStore}: one round trip per check, Redis' own clock). Several limits of one
 * request are taken all or nothing, every store call is bounded by `storeTimeout`, and a store
 * failure is never reported as "rate limited". {@link rateLimitMiddleware} answers 429 with
 * `Retry-After` and sends the IETF `RateLimit-Policy` and `RateLimit` fields on every adapter.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * import { RateLimiter, RedisRateLimitStore, rateLimitMiddleware } from 'headroom/ratelimit';
 *
 * const perAccount = new RateLimiter({ name: 'per-account', limit: 100, window: '1m', store: new RedisRateLimitStore(redis) });
 * app.use(toNode(rateLimitMiddleware(perAccount, { key: (exchange) => exchange.header('x-account-id') ?? 'anonymous' })));
 *
 * const { allowed, retryAfterMs } = await perAccount.take('account-42'); // without HTTP
 * ```
 *
 * @document ../../docs/ratelimit.md
 *
 * @packageDocumentation
 */
export { RateLimiter, type TakeAllCheck } from './rate-limiter.js';
export type { RateLimiterOptions, TakeOptions, StoreErrorPolicy, RateLimiterEvents, LimitedEvent, StoreErrorEvent, RateLimiterStats } from './types.js';
export type { RateLimitResult, RateLimitAllResult } from './result.js';
export type { RateLimitPolicy, StoreReply } from './policy.js';
export type { RateLimitStore, RateLimitCheck } from './store.js';
export { MemoryRateLimitStore, type MemoryRateLimitStoreOptions, type MemoryRateLimitStoreStats, type RateLimitClock } from './memory-store.js';
export { RedisRateLimitStore, type RateLimitRedis, type RedisRateLimitStoreOptions } from './redis-store.js';
export type { Clock } from '../core/index.js';
export { RateLimitedError, type RateLimitedErrorOptions } from './errors.js';
export { rateLimitMiddleware, type RateLimitMiddlewareOptions, type RateLimitMiddlewareLimit, type RateLimitMiddlewareListOptions } from './middleware.js';
export { forwardedClientAddress, type ForwardedClientAddressOptions } from './client-address.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export type { RedisScripting } from '../core/index.js';
