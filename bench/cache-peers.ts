/**
 * Adapters that give every cache in the benchmark the same small shape, so the measuring loops
 * in bench/cache.ts and bench/cache-stampede-worker.ts treat them alike.
 *
 * Each adapter is built the way that library's README recommends for the scenario; nothing is
 * tuned for or against any of them.
 */
import { LRUCache } from 'lru-cache';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { Keyv } from 'keyv';
import KeyvRedis from '@keyv/redis';
import type { Redis } from 'ioredis';

/** A cache as the benchmark sees it. */
export interface Peer {
  readonly name: string;
  /** Read-through: the value under `key`, computing and caching it with `factory` on a miss. */
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** One minute: long enough that nothing expires during a run. */
export const TTL_MS = 60_000;

/**
 * BentoCache with its memory driver as the only layer (L1). Its memory driver serializes entries
 * by default (`serialize: true`); `serialize: false` keeps objects by reference, like headroom's
 * L1, and is its fastest setting.
 */
export function bentoMemory(serialize = true): Peer {
  const bento = new BentoCache({
    default: 'mem',
    stores: { mem: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize })) },
  });
  return {
    name: serialize ? 'BentoCache (memory)' : 'BentoCache (memory, serialize: false)',
    getOrSet: (key, factory) => bento.getOrSet({ key, factory, ttl: TTL_MS }),
    close: () => bento.disconnectAll(),
  };
}

/** BentoCache with memory L1 and Redis L2 (no bus: one process). */
export function bentoMemoryRedis(redis: Redis, prefix: string): Peer {
  const bento = new BentoCache({
    default: 'tiered',
    prefix,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: redis })),
    },
  });
  return {
    name: 'BentoCache (memory + redis)',
    getOrSet: (key, factory) => bento.getOrSet({ key, factory, ttl: TTL_MS }),
    close: () => bento.disconnectAll(),
  };
}

/** BentoCache with the Redis driver as its only layer (L2 only). */
export function bentoRedis(redis: Redis, prefix: string, label = 'BentoCache (redis)'): Peer {
  const bento = new BentoCache({
    default: 'redis',
    prefix,
    stores: { redis: bentostore().useL2Layer(redisDriver({ connection: redis })) },
  });
  return {
    name: label,
    getOrSet: (key, factory) => bento.getOrSet({ key, factory, ttl: TTL_MS }),
    // disconnectAll() would quit the caller's shared client; the harness closes it.
    close: async () => {},
  };
}

/** cache-manager 7 `wrap` over its default store (in-memory Keyv). */
export function cacheManagerMemory(): Peer {
  const cache = createCacheManager({ ttl: TTL_MS });
  return {
    name: 'cache-manager wrap (memory)',
    getOrSet: (key, factory) => cache.wrap(key, factory, TTL_MS),
    close: async () => {
      await cache.disconnect();
    },
  };
}

/** cache-manager 7 `wrap` over @keyv/redis (node-redis client). */
export function cacheManagerRedis(url: string, namespace: string): Peer {
  const store = new KeyvRedis(url);
  const keyv = new Keyv({ store, namespace });
  const cache = createCacheManager({ stores: [keyv], ttl: TTL_MS });
  return {
    name: 'cache-manager wrap (@keyv/redis)',
    getOrSet: (key, factory) => cache.wrap(key, factory, TTL_MS),
    close: async () => {
      await cache.disconnect();
    },
  };
}

/** cacheable 2 `getOrSet` over its default in-memory primary. */
export function cacheableMemory(): Peer {
  const cache = new Cacheable({ ttl: TTL_MS });
  return {
    name: 'cacheable getOrSet (memory)',
    getOrSet: (key, factory) => cache.getOrSet(key, factory, { ttl: TTL_MS }),
    close: async () => {
      await cache.disconnect();
    },
  };
}

/** The floor: a bare lru-cache `get` (synchronous, nothing around it). */
export function lruFloor(): { name: string; lru: LRUCache<string, object> } {
  return { name: 'lru-cache get (floor, sync)', lru: new LRUCache<string, object>({ max: 10_000 }) };
}

/** A row-shaped value of about 230 bytes of JSON, like a small Postgres result. */
export function sampleValue(i: number): object {
  return {
    id: i,
    name: `customer ${i}`,
    email: `customer${i}@example.com`,
    plan: i % 3 === 0 ? 'pro' : 'free',
    createdAt: '2024-05-01T10:20:30.000Z',
    tags: ['emea', 'retail', 'priority'],
    balance: 1234.56 + i,
    active: true,
  };
}
