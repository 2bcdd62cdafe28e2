/**
 * `headroom/idempotency`: run an operation once per idempotency key, whatever the retries and
 * concurrent duplicates, with a lease that frees the key when its holder crashes, keys scoped to
 * the caller, and an HTTP middleware speaking `Idempotency-Key`.
 *
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
export { RedisIdempotencyStore, type RedisIdempotencyStoreOptions } from './redis-store.js';
export { IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyLeaseLostError } from './errors.js';
export { fingerprint, canonicalJson } from './fingerprint.js';
export { jsonSerializer, type IdempotencySerializer } from './outcome.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export { idempotencyMiddleware, DEFAULT_REPLAYED_HEADERS, type IdempotencyMiddlewareOptions } from './middleware.js';
