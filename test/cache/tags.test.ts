import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { busReady, cacheSuite, deferred, waitFor } from './helpers.js';

const suite = cacheSuite('tag');
let server: RedisServer;
let redis: Redis;
beforeAll(() => {
  ({ server, redis } = suite);
});

function make(options: CacheOptions = {}): Cache {
  const cache = createCache({ redis: server.client(), prefix: suite.testPrefix, ...options });
  suite.track(cache);
  return cache;
}

describe('tags', () => {
  it('makes every entry carrying an invalidated tag a miss, and leaves others alone', async () => {
    const cache = make();
    let version = 0;
    const load = () => ++version;
    await cache.getOrSet('a', load, { tags: ['t1'] });
    await cache.getOrSet('b', load, { tags: ['t1', 't2'] });
    await cache.getOrSet('c', load, { tags: ['t2'] });
    await cache.set('d', 'plain');
    await cache.invalidateTags(['t1']);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
    expect(await cache.get('d')).toBe('plain');
    expect(await cache.getOrSet('a', load, { tags: ['t1'] })).toBe(4);
  });

  it('writes the invalidation time to Redis, without scanning or deleting entries', async () => {
    const cache = make();
    await cache.set('k', 1, { tags: ['t'] });
    const scans = await suite.commandCalls('scan');
    await cache.invalidateTags('t');
    expect(await suite.commandCalls('scan')).toBe(scans);
    expect(Number(await redis.get(`${suite.testPrefix}_:t:t`))).toBeGreaterThan(0);
    expect(await redis.exists(`${suite.testPrefix}_:e:k`)).toBe(1); // left to expire; reads judge it stale
  });

  it('an instance started after the invalidation still treats old entries as misses', async () => {
    const writer = make();
    await writer.set('k', 'old', { tags: ['t'] });
    await writer.invalidateTags('t');
    const fresh = make();
    await busReady(fresh);
    expect(await fresh.get('k')).toBeUndefined();
    await writer.set('k', 'new', { tags: ['t'] });
    expect(await fresh.get('k')).toBe('new');
  });

  it('costs no extra round trip for L2 reads of tags already known, one MGET for unknown ones', async () => {
    const writer = make();
    await writer.set('k1', 1, { tags: ['shared'] });
    await writer.set('k2', 2, { tags: ['shared'] });
    const reader = make({ l1: false });
    await busReady(reader);
    const before = await suite.commandCalls('mget');
    expect(await reader.get('k1')).toBe(1);
    expect(await suite.commandCalls('mget')).toBe(before + 1); // 'shared' never seen: one MGET
    expect(await reader.get('k2')).toBe(2);
    expect(await reader.get('k1')).toBe(1);
    expect(await suite.commandCalls('mget')).toBe(before + 1); // known (kept current by the bus): none
  });

  it('gives each key its own value when the tag times of several L2 reads must be fetched at once', async () => {
    // The replies of one tick's reads are decoded together; each read must carry its own entry
    // to the tag check (they once shared one field, and every key got the last key's value).
    const writer = make();
    for (let i = 0; i < 20; i++) await writer.set(`k${i}`, `v${i}`, { tags: [`t${i}`] });
    const reader = make({ l1: false, bus: false });
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => reader.getOrSet(`k${i}`, () => `computed ${i}`)));
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
    expect(reader.stats().factory.calls).toBe(0);
  });

  it('treats a value computed while its tag was invalidated as stale', async () => {
    const cache = make();
    const gate = deferred<string>();
    const pending = cache.getOrSet('k', () => gate.promise, { tags: ['t'] });
    await waitFor(() => cache.stats().factory.calls === 1, 'the factory to start');
    await cache.invalidateTags('t'); // the factory read its data before this
    gate.resolve('computed-from-old-data');
    expect(await pending).toBe('computed-from-old-data');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('keeps tagged entries in Redis no longer than tagRetention', async () => {
    const cache = make({ tagRetention: '2s' });
    await cache.set('k', 1, { ttl: '1h', tags: ['t'] });
    const pttl = await redis.pttl(`${suite.testPrefix}_:e:k`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2_000);
  });

  it('lets the factory replace the tags with setTags', async () => {
    const cache = make();
    let v = 0;
    await cache.getOrSet(
      'k',
      (ctx) => {
        ctx.setTags(['from-factory']);
        return ++v;
      },
      { tags: ['from-options'] },
    );
    await cache.invalidateTags('from-options');
    expect(await cache.get('k')).toBe(1);
    await cache.invalidateTags('from-factory');
    expect(await cache.get('k')).toBeUndefined();
  });

  it('rejects malformed tags with INVALID_ARGUMENT', async () => {
    const cache = make();
    await expect(cache.invalidateTags([''])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cache.set('k', 1, { tags: 'oops' as unknown as string[] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
