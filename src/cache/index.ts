/**
 * `headroom/cache`: a multi-level cache (in-process lru-cache L1, Redis L2) that stays coherent
 * across instances through Redis pub/sub, runs each factory once under a stampede, supports tags
 * without scanning keys, and fails open when Redis is slow or down.
 *
 * @packageDocumentation
 */
export { createCache } from './create-cache.js';
export { cacheJsonSerializer } from './serializer.js';
export type {
  Cache,
  CacheEvents,
  CacheLayer,
  CacheOptions,
  CacheRedis,
  CacheStats,
  BreakerOptions,
  BreakerState,
  BusDownReason,
  EntryDefaults,
  Factory,
  FactoryContext,
  FactoryTimeoutOptions,
  GetOrSetOptions,
  L1Options,
  LockOptions,
  NamespaceOptions,
  CacheSerializer,
  SetOptions,
  WarmEntry,
  WarmSource,
} from './types.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export { TimeoutError } from '../timeout/index.js';
