import { cacheTime } from './clock.js';
import { integerOption, invalidArgument, objectArgument, optionalDuration, parseDuration, stringOption } from '../core/index.js';
import { CacheCore } from './cache-core.js';
import { resolveDefaults, resolveL1 } from './entry-settings.js';
import { cacheJsonSerializer } from './serializer.js';
import type { Cache } from './cache.js';
import type { CacheOptions, CacheSerializer, NamespaceOptions } from './cache-options.js';

/**
 * Creates a multi-level cache: an in-process L1 (lru-cache), an optional Redis L2 shared by every
 * instance, and an invalidation bus (Redis pub/sub) that keeps each instance's L1 coherent.
 *
 * Every option is validated here, once (`INVALID_ARGUMENT` naming the option). See
 * {@link CacheOptions} for each option and its default, and {@link Cache} for the methods.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createCache } from 'headroom/cache';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { enableAutoPipelining: true });
 * redis.on('error', (err) => console.warn('redis:', err.message));
 * const cache = createCache({
 *   redis,
 *   prefix: 'shop:',
 *   ttl: '5m',
 *   grace: '1h',
 *   earlyRefresh: 0.8,
 *   l1: { maxEntries: 50_000 },
 *   namespaces: { session: { ttl: '24h' }, kpi: { ttl: '1m' } },
 * });
 *
 * const product = await cache.getOrSet(`product:${id}`, ({ signal }) => loadProduct(id, signal), {
 *   tags: [`product:${id}`],
 * });
 * await cache.invalidateTags([`product:${id}`]); // after an update, on every instance
 * ```
 */
export function createCache(options: CacheOptions = {}): Cache {
  objectArgument(options, 'options');
  const prefix = stringOption(options.prefix, 'prefix', 'hr:');
  const l1 = resolveL1(options.l1, 'l1', { maxEntries: 10_000 });
  const redis = options.redis;
  if (
    redis !== undefined &&
    (redis === null ||
      typeof redis !== 'object' ||
      typeof (redis as { get?: unknown }).get !== 'function' ||
      typeof (redis as { duplicate?: unknown }).duplicate !== 'function')
  ) {
    throw invalidArgument('redis', 'an ioredis Redis or Cluster', redis);
  }
  if (redis !== undefined) {
    // SCAN MATCH patterns are not prefixed by ioredis, so clear()/invalidatePattern() would miss keys.
    const clientOptions = (redis as { options?: { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } } }).options;
    const keyPrefix = clientOptions?.keyPrefix ?? clientOptions?.redisOptions?.keyPrefix;
    if (typeof keyPrefix === 'string' && keyPrefix.length > 0) {
      throw invalidArgument(
        'redis',
        "a client without ioredis' keyPrefix (use the cache's prefix option)",
        `a client with keyPrefix ${JSON.stringify(keyPrefix)}`,
      );
    }
  }
  const l2TimeoutMs = parseDuration(options.l2Timeout ?? '1s', 'l2Timeout', { positive: true });
  objectArgument(options.breaker, 'breaker');
  const breakerThreshold = integerOption(options.breaker?.threshold, 'breaker.threshold', 5, { min: 1 });
  const breakerCooldownMs = optionalDuration(options.breaker?.cooldown, 'breaker.cooldown', 5_000, { positive: true });
  if (options.bus !== undefined && typeof options.bus !== 'boolean') throw invalidArgument('bus', 'a boolean', options.bus);
  if (options.directReads !== undefined && typeof options.directReads !== 'boolean') throw invalidArgument('directReads', 'a boolean', options.directReads);
  const busDownL1Ttl = optionalDuration(options.busDownL1Ttl, 'busDownL1Ttl', 5_000);
  const busHeartbeatMs = optionalDuration(options.busHeartbeat, 'busHeartbeat', 500, { positive: true });
  let busLog: number | false = 10_000;
  if (options.busLog === false) busLog = false;
  else if (options.busLog !== undefined) {
    busLog = integerOption(options.busLog, 'busLog', 10_000, { min: 1 });
    if (busLog === Infinity) throw invalidArgument('busLog', 'false or a finite whole number >= 1', options.busLog);
  }
  const serializer: CacheSerializer = options.serializer ?? cacheJsonSerializer;
  if (serializer === null || typeof serializer !== 'object' || typeof serializer.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw invalidArgument('serializer', 'an object with serialize() and deserialize()', serializer);
  }
  let compressAbove = Infinity;
  if (options.compressAbove !== undefined && options.compressAbove !== false) {
    compressAbove = integerOption(options.compressAbove, 'compressAbove', 0, { min: 0 });
  }
  objectArgument(options.namespaces, 'namespaces');
  const namespaces: Record<string, NamespaceOptions> = options.namespaces ?? {};
  if (options.clone !== undefined && typeof options.clone !== 'boolean') throw invalidArgument('clone', 'a boolean', options.clone);
  const maxKeyLength = integerOption(options.maxKeyLength, 'maxKeyLength', 1024, { min: 1 });
  const tagRetention = optionalDuration(options.tagRetention, 'tagRetention', 7 * 86_400_000, { positive: true });
  const maxTrackedTags = integerOption(options.maxTrackedTags, 'maxTrackedTags', 10_000, { min: 1 });
  const time = cacheTime(options.clock);
  const defaults = resolveDefaults(options, '');
  if (defaults.lock !== undefined && redis === undefined) throw invalidArgument('lock', 'used with redis (it is a Redis lock)', options.lock);

  const core = new CacheCore({
    prefix,
    l1,
    redis,
    l2TimeoutMs,
    breakerThreshold,
    breakerCooldownMs,
    directReads: options.directReads !== false,
    bus: redis !== undefined && options.bus !== false,
    busDownL1Ttl,
    busHeartbeatMs,
    busLog,
    serializer,
    compressAbove,
    namespaces,
    clone: options.clone === true,
    maxKeyLength,
    tagRetention,
    maxTrackedTags,
    defaults,
    time,
  });
  return core.root;
}
