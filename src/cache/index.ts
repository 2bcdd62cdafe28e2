// For contributors: docs/cache.md ends with "Where it lives", the file of this folder that holds
// each behaviour of the guide.
/**
 * A multi-level cache: an in-process L1 (lru-cache) in front of Redis (L2), kept coherent across
 * instances through Redis pub/sub. {@link createCache} builds it; `getOrSet` runs each factory
 * once under a stampede, tags are invalidated everywhere without scanning keys, stale values are
 * served when the source fails (`grace`), and when Redis is slow or down the cache answers from
 * L1, stale values or the factory, never with an error.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createCache } from 'headroom/cache';
 *
 * const cache = createCache({ redis: new Redis(process.env.REDIS_URL!), prefix: 'shop:', ttl: '5m', grace: '1h' });
 *
 * const product = await cache.getOrSet(`product:${id}`, ({ signal }) => loadProduct(id, signal), {
 *   tags: [`product:${id}`],
 * });
 * await cache.invalidateTags([`product:${id}`]); // after an update: a miss on every instance
 * ```
 *
 * @document ../../docs/cache.md
 * @packageDocumentation
 */
export { createCache } from './create-cache.js';
export { cacheJsonSerializer } from './serializer.js';
export type { Cache, Factory, FactoryContext, WarmEntry, WarmSource } from './cache.js';
export type {
  BreakerOptions,
  CacheOptions,
  CacheRedis,
  CacheSerializer,
  EntryDefaults,
  FactoryTimeoutOptions,
  GetOrSetOptions,
  L1Options,
  LockOptions,
  NamespaceOptions,
  SetOptions,
} from './cache-options.js';
export type { BreakerState, CacheStats } from './cache-stats.js';
export type { BusDownReason, CacheEvents, CacheLayer } from './cache-events.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
export type { RedisEventListener, RedisPubSub, RedisScripting, RedisSubscriber } from '../core/index.js';
export { TimeoutError } from '../timeout/index.js';
