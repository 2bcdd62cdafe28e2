/**
 * Idempotency keys: {@link Idempotency.run} runs an operation once per key, whatever the retries
 * and concurrent duplicates, and answers them with the first result. Keys live in a scope (the
 * caller), the lock is a lease that frees the key when its holder crashes, and
 * {@link idempotencyMiddleware} speaks `Idempotency-Key` on every framework. Stores: in memory or
 * Redis (Cluster included).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { Idempotency, RedisIdempotencyStore, fingerprint } from 'headroom/idempotency';
 *
 * const idempotency = new Idempotency({ store: new RedisIdempotencyStore(new Redis()), ttl: '24h' });
 *
 * const payment = await idempotency.run(key, () => payments.charge(order), {
 *   scope: account.id, // whose key this is
 *   fingerprint: fingerprint(order), // the same key with another payload: IDEMPOTENCY_KEY_REUSED
 * });
 * ```
 *
 * @document ../../docs/idempotency.md
 * @packageDocumentation
 */
export {
  Idempotency,
  type IdempotencyOptions,
  type IdempotencyStats,
  type RunOptions,
  type IdempotencyContext,
  type IdempotentOperation,
  type IdempotencyEvents,
  type IdempotencyErrorEvent,
  type LeaseLostEvent,
} from './idempotency.js';
export type { IdempotencyStore, AcquireResult, AcquiredRecord, InProgressRecord, CompletedRecord } from './store.js';
export { MemoryIdempotencyStore, type MemoryIdempotencyStoreOptions } from './memory-store.js';
export { RedisIdempotencyStore, type IdempotencyRedis, type RedisIdempotencyStoreOptions } from './redis-store.js';
export {
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyLeaseLostError,
  IdempotencyNotStoredError,
  IdempotencyBodyTooLargeError,
} from './errors.js';
export { fingerprint, canonicalJson } from './fingerprint.js';
export { jsonSerializer, type IdempotencySerializer } from './outcome.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export type { RedisScripting } from '../core/index.js';
export { idempotencyMiddleware, DEFAULT_REPLAYED_HEADERS, type IdempotencyMiddlewareOptions } from './middleware.js';
