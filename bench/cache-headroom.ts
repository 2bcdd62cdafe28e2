/**
 * headroom's cache as a benchmark {@link Peer}. Loaded lazily so the peer side of the
 * benchmark runs (and can be debugged) before src/cache exists.
 */
import type { Redis } from 'ioredis';
import { TTL_MS, type Peer } from './cache-peers.js';

interface HeadroomCacheLike {
  getOrSet(key: string, factory: () => Promise<unknown>, options?: unknown): Promise<unknown>;
  close(): Promise<void>;
}
type CreateCache = (options: Record<string, unknown>) => HeadroomCacheLike;

let createCacheFn: CreateCache | undefined;

/** Loads src/cache; false when it is not there yet. */
export async function loadHeadroom(): Promise<boolean> {
  if (createCacheFn !== undefined) return true;
  const spec = '../src/cache/index.js';
  try {
    const mod = (await import(spec)) as { createCache?: CreateCache };
    if (typeof mod.createCache !== 'function') return false;
    createCacheFn = mod.createCache;
    return true;
  } catch (error) {
    if (process.env.BENCH_DEBUG !== undefined) console.error(error);
    return false;
  }
}

/** Options for {@link headroomPeer}. */
export interface HeadroomPeerOptions {
  name: string;
  prefix: string;
  l1: boolean;
  redis?: Redis;
  lock?: boolean;
}

/** A headroom cache behind the {@link Peer} shape. */
export function headroomPeer(options: HeadroomPeerOptions): Peer {
  if (createCacheFn === undefined) throw new Error('bench: call loadHeadroom() first');
  const cache = createCacheFn({
    prefix: options.prefix,
    ttl: TTL_MS,
    l1: options.l1 ? { maxEntries: 10_000 } : false,
    ...(options.redis !== undefined ? { redis: options.redis } : {}),
    ...(options.lock === true ? { lock: true } : {}),
  });
  return {
    name: options.name,
    getOrSet: (key, factory) => cache.getOrSet(key, factory),
    close: () => cache.close(),
  };
}
