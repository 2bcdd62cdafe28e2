import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { busReady, cacheSuite, waitFor } from './helpers.js';

const suite = cacheSuite('ns');
let server: RedisServer;
let redis: Redis;
beforeAll(() => {
  ({ server, redis } = suite);
});

function make(options: CacheOptions = {}): Cache {
  const cache = createCache({
    redis: server.client(),
    prefix: suite.testPrefix,
    namespaces: { session: { ttl: '24h' }, kpi: { ttl: '1m' } },
    ...options,
  });
  suite.track(cache);
  return cache;
}

describe('namespaces', () => {
  it('gives each namespace its own key space and ttl defaults', async () => {
    const cache = make();
    const session = cache.namespace('session');
    const kpi = cache.namespace('kpi');
    expect(cache.namespace('session')).toBe(session);
    expect(session.namespaceName).toBe('session');
    await cache.set('k', 'root');
    await session.set('k', 'session');
    await kpi.set('k', 'kpi');
    expect(await cache.get('k')).toBe('root');
    expect(await session.get('k')).toBe('session');
    expect(await kpi.get('k')).toBe('kpi');
    const sessionTtl = await redis.pttl(`${suite.testPrefix}session:e:k`);
    const kpiTtl = await redis.pttl(`${suite.testPrefix}kpi:e:k`);
    const rootTtl = await redis.pttl(`${suite.testPrefix}_:e:k`);
    expect(sessionTtl).toBeGreaterThan(23 * 3_600_000);
    expect(kpiTtl).toBeLessThanOrEqual(60_000);
    expect(rootTtl).toBeLessThanOrEqual(300_000);
    expect(rootTtl).toBeGreaterThan(60_000);
  });

  it('clears one namespace only, on every instance', async () => {
    const a = make();
    const b = make();
    await busReady(a, b);
    await a.set('k', 'root');
    await a.namespace('session').set('k', 's');
    await a.namespace('kpi').set('k', 'kpi');
    expect(await b.namespace('kpi').get('k')).toBe('kpi');
    await a.namespace('kpi').clear();
    await waitFor(async () => (await b.namespace('kpi').get('k')) === undefined, 'kpi to be cleared on b');
    expect(await b.namespace('session').get('k')).toBe('s');
    expect(await b.get('k')).toBe('root');
    expect(await redis.exists(`${suite.testPrefix}kpi:e:k`)).toBe(0);
    expect(await redis.exists(`${suite.testPrefix}session:e:k`)).toBe(1);
  });

  it('keeps tags per namespace', async () => {
    const cache = make();
    const api = cache.namespace('api');
    await cache.set('k', 1, { tags: ['t'] });
    await api.set('k', 2, { tags: ['t'] });
    await api.invalidateTags('t');
    expect(await api.get('k')).toBeUndefined();
    expect(await cache.get('k')).toBe(1);
  });

  it('counts stats per namespace, and in total on the root', async () => {
    const cache = make();
    const api = cache.namespace('api');
    await api.getOrSet('x', () => 1);
    await api.getOrSet('x', () => 1);
    await cache.getOrSet('y', () => 1);
    expect(api.stats().factory.calls).toBe(1);
    expect(api.stats().l1.hits).toBe(1);
    expect(cache.stats().factory.calls).toBe(2);
  });

  it('rejects bad names and nested namespaces with INVALID_ARGUMENT', () => {
    const cache = make();
    expect(() => cache.namespace('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => cache.namespace('a:b')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => cache.namespace('_')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => cache.namespace('api').namespace('x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
