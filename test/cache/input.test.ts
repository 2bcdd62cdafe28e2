import { deflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, isHeadroomError, type Cache, type CacheOptions, type CacheSerializer } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { cacheSuite } from './helpers.js';

const suite = cacheSuite('in');
let server: RedisServer;
let redis: Redis;
beforeAll(() => {
  ({ server, redis } = suite);
});

function make(options: CacheOptions = {}): Cache {
  const cache = createCache({ redis, prefix: suite.nextPrefix(), ...options });
  suite.track(cache);
  return cache;
}

describe('bad keys', () => {
  it.each([
    ['an empty string', ''],
    ['a number', 42],
    ['undefined', undefined],
    ['a key over maxKeyLength', 'x'.repeat(1025)],
  ])('rejects %s with CACHE_KEY_INVALID (400) in every method', async (_label, key) => {
    const cache = make();
    const k = key as string;
    for (const call of [
      () => cache.getOrSet(k, () => 1),
      () => cache.get(k),
      () => cache.set(k, 1),
      () => cache.has(k),
      () => cache.delete(k),
      () => cache.deleteMany([k]),
    ]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isHeadroomError(error, 'CACHE_KEY_INVALID')).toBe(true);
      expect((error as { status: number }).status).toBe(400);
    }
  });

  it('accepts a key of exactly maxKeyLength', async () => {
    const cache = make({ maxKeyLength: 10 });
    await cache.set('x'.repeat(10), 1);
    expect(await cache.get('x'.repeat(10))).toBe(1);
    await expect(cache.get('x'.repeat(11))).rejects.toMatchObject({ code: 'CACHE_KEY_INVALID' });
  });
});

describe('values the serializer cannot encode', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  it.each([
    ['a function', () => 1],
    ['a cycle', cyclic],
    ['a BigInt', { n: 10n }],
    ['a symbol', Symbol('s')],
  ])('rejects %s with CACHE_INVALID_VALUE and stores nothing', async (_label, value) => {
    const cache = make();
    await cache.set('k', 'before');
    await expect(cache.set('k', value)).rejects.toMatchObject({ code: 'CACHE_INVALID_VALUE' });
    expect(await cache.get('k')).toBe('before');
    await expect(cache.getOrSet('other', () => value)).rejects.toMatchObject({ code: 'CACHE_INVALID_VALUE' });
    expect(await cache.has('other')).toBe(false);
    expect(await redis.exists(`${suite.lastPrefix}_:e:other`)).toBe(0);
  });

  it('rejects set(key, undefined) with CACHE_INVALID_VALUE', async () => {
    const cache = make();
    await expect(cache.set('k', undefined)).rejects.toMatchObject({ code: 'CACHE_INVALID_VALUE' });
  });
});

describe('unreadable stored values', () => {
  it.each([
    ['not an envelope', 'garbage'],
    ['a truncated envelope', '[1,1,2'],
    ['a malformed header', '[1,"x",2,3,0,1]'],
    ['a corrupt compressed payload', '[4,9999999999999,0,0,0,"bm90IGRlZmxhdGU="]'],
  ])('treats %s as a miss and deletes it', async (_label, stored) => {
    const cache = make({ l1: false });
    const errors: Array<{ operation: string; code: unknown }> = [];
    cache.on('error', (e) => errors.push({ operation: e.operation, code: (e.error as { code?: unknown }).code }));
    await redis.set(`${suite.lastPrefix}_:e:k`, stored);
    expect(await cache.get('k')).toBeUndefined();
    expect(errors).toEqual([{ operation: 'deserialize', code: 'CACHE_ENTRY_UNREADABLE' }]);
    expect(await redis.exists(`${suite.lastPrefix}_:e:k`)).toBe(0);
    expect(await cache.getOrSet('k', () => 'recomputed')).toBe('recomputed');
  });
});

describe('options', () => {
  it.each([
    [{ ttl: '5 minutes' }, 'ttl'],
    [{ ttl: 0 }, 'ttl'],
    [{ jitter: 2 }, 'jitter'],
    [{ earlyRefresh: 1 }, 'earlyRefresh'],
    [{ l1: { maxEntries: 0 } }, 'l1.maxEntries'],
    [{ l2Timeout: -1 }, 'l2Timeout'],
    [{ compressAbove: -5 }, 'compressAbove'],
    [{ factoryTimeout: { soft: 100, hard: 50 } }, 'factoryTimeout.hard'],
    [{ namespaces: { 'bad name': {} } }, 'namespaces.bad name'],
    [{ namespaces: { api: { ttl: 'soon' } } }, 'namespaces.api.ttl'],
    [{ serializer: {} }, 'serializer'],
    [{ lock: true }, 'lock'],
    [{ clock: Date.now }, 'clock'],
  ])('rejects %o with INVALID_ARGUMENT naming %s', (options, name) => {
    try {
      createCache(options as CacheOptions);
      expect.unreachable();
    } catch (error) {
      expect(isHeadroomError(error, 'INVALID_ARGUMENT')).toBe(true);
      expect((error as { argument: string }).argument).toBe(name);
    }
  });

  it("rejects a client with ioredis' keyPrefix (SCAN patterns would miss its keys)", () => {
    const prefixed = server.client({ keyPrefix: 'app:' });
    expect(() => createCache({ redis: prefixed })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument: 'redis' }));
  });

  it('rejects bad per-call options with INVALID_ARGUMENT', async () => {
    const cache = make();
    await expect(cache.getOrSet('k', () => 1, 'later' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cache.set('k', 1, { ttl: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cache.getOrSet('k', 'not a function' as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('serializer and compression', () => {
  const bytesSerializer: CacheSerializer = {
    serialize: (value) => new TextEncoder().encode(`B:${JSON.stringify(value)}`),
    deserialize: (data) => JSON.parse(new TextDecoder().decode(data as Uint8Array).slice(2)) as unknown,
  };
  const textSerializer: CacheSerializer = {
    serialize: (value) => `T:${JSON.stringify(value)}`,
    deserialize: (data) => JSON.parse((data as string).slice(2)) as unknown,
  };
  const big = { rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `row ${i}`, note: 'the same text again' })) };

  it.each([
    ['JSON, small', undefined, false, 1],
    ['JSON, compressed', undefined, true, 4],
    ['text serializer', textSerializer, false, 2],
    ['text serializer, compressed', textSerializer, true, 4],
    ['bytes serializer', bytesSerializer, false, 3],
    ['bytes serializer, compressed', bytesSerializer, true, 5],
  ])('round-trips %s through Redis, marking the payload kind', async (_label, serializer, compress, kind) => {
    const options: CacheOptions = { l1: false, compressAbove: compress ? 1024 : false };
    if (serializer !== undefined) options.serializer = serializer;
    const writer = make(options);
    const reader = createCache({ ...options, redis, prefix: suite.lastPrefix });
    suite.track(reader);
    await writer.set('big', big);
    const raw = (await redis.get(`${suite.lastPrefix}_:e:big`))!;
    expect(raw.startsWith(`[${kind},`)).toBe(true);
    if (compress) expect(raw.length).toBeLessThan(JSON.stringify(big).length / 3);
    expect(await reader.get('big')).toEqual(big);
  });

  it('does not compress values under compressAbove', async () => {
    const cache = make({ compressAbove: 1024 });
    await cache.set('small', { a: 1 });
    expect((await redis.get(`${suite.lastPrefix}_:e:small`))!.startsWith('[1,')).toBe(true);
  });

  it('reads a compressed entry written by hand in the documented format', async () => {
    const cache = make({ l1: false });
    const payload = deflateRawSync(JSON.stringify({ hello: 'world' })).toString('base64');
    const far = Date.now() + 60_000;
    await redis.set(`${suite.lastPrefix}_:e:hand`, `[4,${far},0,1000,0,"${payload}"]`);
    expect(await cache.get('hand')).toEqual({ hello: 'world' });
  });
});
