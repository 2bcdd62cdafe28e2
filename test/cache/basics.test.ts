import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache } from '../../src/cache/index.js';
import { busReady, cacheSuite, sleep } from './helpers.js';

const suite = cacheSuite('basics');
let redis: Redis;
beforeAll(() => {
  ({ redis } = suite);
});

function make(options: Parameters<typeof createCache>[0] = {}): Cache {
  const cache = createCache({ redis, prefix: suite.nextPrefix(), ...options });
  suite.track(cache);
  return cache;
}

describe('getOrSet', () => {
  it('runs the factory on a miss, then answers from L1', async () => {
    const cache = make();
    let calls = 0;
    const factory = () => ++calls;
    expect(await cache.getOrSet('a', factory)).toBe(1);
    expect(await cache.getOrSet('a', factory)).toBe(1);
    expect(calls).toBe(1);
    const s = cache.stats();
    expect(s.l1.hits).toBe(1);
    expect(s.factory.calls).toBe(1);
  });

  it('reads L2 when L1 is empty and stores the envelope as one string', async () => {
    const a = make({ prefix: 'shared-l2:' });
    const b = make({ prefix: 'shared-l2:' });
    await a.getOrSet('user:1', () => ({ id: 1, name: 'Ada' }), '1m');
    const raw = await redis.get('shared-l2:_:e:user:1');
    expect(raw).toMatch(/^\[1,\d+,\d+,\d+,0,\{"id":1,"name":"Ada"\}\]$/);
    let calls = 0;
    expect(await b.getOrSet('user:1', () => ++calls)).toEqual({ id: 1, name: 'Ada' });
    expect(calls).toBe(0);
    expect(b.stats().l2.hits).toBe(1);
    const ttl = await redis.pttl('shared-l2:_:e:user:1');
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('expires entries after their ttl', async () => {
    const cache = make();
    let calls = 0;
    await cache.getOrSet('t', () => ++calls, 60);
    await sleep(120);
    expect(await cache.getOrSet('t', () => ++calls, 60)).toBe(2);
  });

  it('lets the factory set ttl and tags, and skip caching', async () => {
    const cache = make();
    await cache.getOrSet('k', (ctx) => {
      ctx.setTtl('2s');
      ctx.setTags(['x']);
      return 'v';
    });
    const pttl = await redis.pttl(`${suite.lastPrefix}_:e:k`);
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(2000);
    await cache.invalidateTags('x');
    let calls = 0;
    expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v1');

    expect(await cache.getOrSet('skip', (ctx) => ctx.skip('not cached'))).toBe('not cached');
    expect(await cache.has('skip')).toBe(false);
    expect(await redis.exists(`${suite.lastPrefix}_:e:skip`)).toBe(0);
  });

  it('does not cache undefined results', async () => {
    const cache = make();
    let calls = 0;
    expect(
      await cache.getOrSet('u', () => {
        calls++;
        return undefined;
      }),
    ).toBeUndefined();
    expect(
      await cache.getOrSet('u', () => {
        calls++;
        return undefined;
      }),
    ).toBeUndefined();
    expect(calls).toBe(2);
    expect(await cache.getOrSet('null', () => null)).toBeNull();
    expect(await cache.getOrSet('null', () => 'other')).toBeNull();
  });

  it('passes the factory the key and a signal', async () => {
    const cache = make();
    const seen = await cache.getOrSet('ctx', ({ key, signal, stale }) => ({ key, aborted: signal.aborted, stale: stale ?? null }));
    expect(seen).toEqual({ key: 'ctx', aborted: false, stale: null });
  });
});

describe('get / set / has / delete', () => {
  it('sets, gets, checks and deletes across levels', async () => {
    const cache = make();
    await cache.set('a', { x: 1 }, { ttl: '1m' });
    expect(await cache.get('a')).toEqual({ x: 1 });
    expect(await cache.has('a')).toBe(true);
    expect(await redis.exists(`${suite.lastPrefix}_:e:a`)).toBe(1);
    await cache.delete('a');
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.has('a')).toBe(false);
    expect(await redis.exists(`${suite.lastPrefix}_:e:a`)).toBe(0);
  });

  it('deleteMany removes every key', async () => {
    const cache = make();
    await Promise.all(['a', 'b', 'c'].map((k) => cache.set(k, k)));
    await cache.deleteMany(['a', 'b']);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('c')).toBe('c');
  });

  it('returns L1 values by reference, or copies with clone: true', async () => {
    const byRef = make();
    const obj = { n: 1 };
    await byRef.set('o', obj);
    expect(await byRef.get('o')).toBe(obj);
    expect(await byRef.getOrSet('o', () => ({ n: 2 }))).toBe(obj);

    const cloning = make({ clone: true });
    await cloning.set('o', obj);
    const a = await cloning.get<{ n: number }>('o');
    expect(a).toEqual(obj);
    expect(a).not.toBe(obj);
    a!.n = 99;
    expect(await cloning.getOrSet('o', () => ({ n: 3 }))).toEqual({ n: 1 });
  });

  it('warms entries from a list or a loader', async () => {
    const cache = make();
    expect(
      await cache.warm([
        { key: 'w1', value: 1 },
        { key: 'w2', value: 2, options: '1m' },
      ]),
    ).toBe(2);
    expect(await cache.warm(async () => Array.from({ length: 100 }, (_, i) => ({ key: `l${i}`, value: i })))).toBe(100);
    expect(await cache.get('w2')).toBe(2);
    expect(await cache.get('l99')).toBe(99);
    async function* rows() {
      yield { key: 'a1', value: 'x', options: { tags: ['t'] } };
      yield { key: 'a2', value: 'y' };
    }
    expect(await cache.warm(rows())).toBe(2);
    expect(await cache.get('a1')).toBe('x');
    await expect(cache.warm(42 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('works without Redis (L1 only)', async () => {
    const cache = createCache({ l1: { maxEntries: 2 } });
    suite.track(cache);
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.set('c', 3);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(3);
    expect(cache.stats().l1.size).toBe(2);
  });

  it('bounds L1 by maxBytes, counting serialized payload size', async () => {
    const cache = make({ l1: { maxEntries: 1000, maxBytes: 100 } });
    await cache.set('a', 'x'.repeat(40));
    await cache.set('b', 'y'.repeat(40));
    await cache.set('c', 'z'.repeat(40)); // 3 x 42 bytes > 100: 'a' is evicted from L1
    expect(cache.stats().l1.size).toBe(2);
    expect(await cache.get('a')).toBe('x'.repeat(40)); // still in L2
  });

  it('counts entries read from L2 by their stored size for maxBytes', async () => {
    const writer = make();
    await Promise.all(Array.from({ length: 50 }, (_, i) => writer.set(`s${i}`, 'x'.repeat(100))));
    const reader = make({ prefix: suite.lastPrefix, l1: { maxEntries: 1000, maxBytes: 1000 } });
    for (let i = 0; i < 50; i++) expect(await reader.get(`s${i}`)).toBe('x'.repeat(100));
    expect(reader.stats().l1.size).toBeLessThan(10);
  });

  it('spreads expiries with jitter, never past the ttl', async () => {
    const cache = make({ ttl: '100s', jitter: 0.5 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.set(`j${i}`, i)));
    const ttls = await Promise.all(Array.from({ length: 20 }, (_, i) => redis.pttl(`${suite.lastPrefix}_:e:j${i}`)));
    expect(Math.max(...ttls)).toBeLessThanOrEqual(100_000);
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(49_000);
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(3);
  });

  it('reports hits, misses and hit rate', async () => {
    const cache = make();
    await busReady(cache);
    await cache.getOrSet('s', () => 1);
    await cache.getOrSet('s', () => 1);
    await cache.get('nope');
    const s = cache.stats();
    expect(s.l1).toMatchObject({ hits: 1, misses: 2 });
    expect(s.l2).toMatchObject({ hits: 0, misses: 2 });
    expect(s.hitRate).toBeCloseTo(1 / 3);
    expect(s.breaker.state).toBe('closed');
  });
});

describe('events', () => {
  it('emits hit, miss and refresh with payloads, and stops after the disposer', async () => {
    const cache = make();
    const seen: string[] = [];
    const offHit = cache.on('hit', (e) => seen.push(`hit:${e.layer}:${e.key}`));
    cache.on('miss', (e) => seen.push(`miss:${e.key}`));
    await cache.getOrSet('e', () => 1);
    await cache.getOrSet('e', () => 1);
    offHit();
    await cache.getOrSet('e', () => 1);
    expect(seen).toEqual(['miss:e', 'hit:l1:e']);
  });
});
