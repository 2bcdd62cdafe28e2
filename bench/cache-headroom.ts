/**
 * headroom's cache as a benchmark {@link Peer}.
 */
import { createCache, type Cache, type CacheRedis } from '../src/cache/index.js';
import { TTL_MS, type Peer } from './cache-peers.js';

/** Options for {@link headroomPeer}. */
export interface HeadroomPeerOptions {
  name: string;
  prefix: string;
  /** `true`: the default L1 sized for the benchmark; `false`: no L1 (every read goes to Redis). */
  l1: boolean;
  redis?: CacheRedis;
  /** Cross-process stampede lock (`lock: true`). */
  lock?: boolean;
}

/** A headroom cache behind the {@link Peer} shape, configured as a user would; `cache` is the cache itself. */
export function headroomPeer(options: HeadroomPeerOptions): Peer & { cache: Cache } {
  const cache = createCache({
    prefix: options.prefix,
    ttl: TTL_MS,
    l1: options.l1 ? { maxEntries: 10_000 } : false,
    ...(options.redis !== undefined ? { redis: options.redis } : {}),
    ...(options.lock === true ? { lock: true } : {}),
  });
  return {
    name: options.name,
    cache,
    getOrSet: (key, factory) => cache.getOrSet(key, factory),
    close: () => cache.close(),
  };
}
