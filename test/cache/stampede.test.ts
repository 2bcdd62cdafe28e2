import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { cacheSuite, sleep } from './helpers.js';

const suite = cacheSuite('st');
let server: RedisServer;
let redis: Redis;
beforeAll(() => {
  ({ server, redis } = suite);
});

function make(options: CacheOptions = {}, client: Redis = redis): Cache {
  const cache = createCache({ redis: client, prefix: suite.testPrefix, ...options });
  suite.track(cache);
  return cache;
}

describe('stampede protection in one process', () => {
  it('runs the factory once for 500 concurrent getOrSet of a cold key', async () => {
    const cache = make();
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(30);
      return { rows: [1, 2, 3] };
    };
    const results = await Promise.all(Array.from({ length: 500 }, () => cache.getOrSet('cold', factory)));
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual({ rows: [1, 2, 3] });
  });

  it('shares one failure among concurrent callers and runs the factory again afterwards', async () => {
    const cache = make();
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(10);
      throw new Error('db down');
    };
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => cache.getOrSet('f', failing)));
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'db down')).toBe(true);
    expect(calls).toBe(1);
    expect(await cache.getOrSet('f', () => 'ok')).toBe('ok');
  });

  it('coalesces concurrent L2 reads of one key into one GET', async () => {
    const writer = make({ l1: false });
    await writer.set('hot', { v: 1 });
    const reader = make({ l1: false });
    const before = await suite.commandCalls('get');
    const values = await Promise.all([
      ...Array.from({ length: 100 }, () => reader.get('hot')),
      ...Array.from({ length: 100 }, () => reader.getOrSet('hot', () => ({ v: 2 }))),
    ]);
    const after = await suite.commandCalls('get');
    expect(values.every((v) => (v as { v: number }).v === 1)).toBe(true);
    // One GET for the get() calls, one for the getOrSet() calls, plus the INFO round itself does no GET.
    expect(after - before).toBeLessThanOrEqual(2);
  });
});

describe('coalesced get() reads', () => {
  it('counts and reports each caller of a shared L2 read', async () => {
    const writer = make({ l1: false });
    await writer.set('hot', { v: 1 });
    await writer.set('hot2', { v: 2 });
    const reader = make({ l1: false });
    const hits: string[] = [];
    const misses: string[] = [];
    reader.on('hit', (e) => hits.push(`${e.key}:${e.layer}`));
    reader.on('miss', (e) => misses.push(e.key));
    const values = await Promise.all([...Array.from({ length: 5 }, () => reader.get('hot')), ...Array.from({ length: 3 }, () => reader.get('absent'))]);
    expect(values).toEqual([...Array.from({ length: 5 }, () => ({ v: 1 })), undefined, undefined, undefined]);
    expect(hits).toEqual(Array.from({ length: 5 }, () => 'hot:l2'));
    expect(misses).toEqual(['absent', 'absent', 'absent']);
    expect(reader.stats().l2).toMatchObject({ hits: 5, misses: 3 });
    expect(await reader.get('hot2')).toEqual({ v: 2 });
    expect(reader.stats().l2.hits).toBe(6);
  });

  it('gives each caller its own copy with clone: true', async () => {
    const writer = make({ l1: false });
    await writer.set('obj', { list: [1] });
    const reader = make({ clone: true });
    const [a, b] = (await Promise.all([reader.get('obj'), reader.get('obj')])) as [{ list: number[] }, { list: number[] }];
    expect(a).toEqual({ list: [1] });
    expect(b).toEqual({ list: [1] });
    expect(a).not.toBe(b);
    a.list.push(2);
    expect(await reader.get('obj')).toEqual({ list: [1] });
  });
});

describe('cross-process stampede lock (lock: true)', () => {
  it('runs the factory once across 4 instances, each with its own connection', async () => {
    const clients = [0, 1, 2, 3].map(() => server.client());
    const caches = clients.map((c) => make({ lock: true }, c));
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(100);
      return 'computed';
    };
    const results = await Promise.all(caches.flatMap((cache) => Array.from({ length: 25 }, () => cache.getOrSet('shared', factory))));
    expect(results.every((r) => r === 'computed')).toBe(true);
    expect(calls).toBe(1);
    const waited = caches.reduce((sum, c) => sum + c.stats().lock.waited, 0);
    expect(waited).toBeGreaterThanOrEqual(1); // 3 unless a cache started after the value was written
    expect(waited).toBeLessThanOrEqual(3);
    expect(await redis.exists(`${suite.testPrefix}_:l:shared`)).toBe(0); // released
  });

  it('without the lock, each instance runs its own factory', async () => {
    const caches = [0, 1, 2].map(() => make({}, server.client()));
    let calls = 0;
    const factory = async () => {
      calls++;
      await sleep(50);
      return 1;
    };
    await Promise.all(caches.map((cache) => cache.getOrSet('k', factory)));
    expect(calls).toBe(3);
  });

  it('stops waiting after lock.wait and runs the factory itself', async () => {
    const holder = make({ lock: { ttl: '5s', wait: '5s' } }, server.client());
    const waiter = make({ lock: { ttl: '5s', wait: 150 } }, server.client());
    let release!: () => void;
    const slow = holder.getOrSet('k', () => new Promise<string>((resolve) => (release = () => resolve('holder'))));
    await sleep(50);
    const started = Date.now();
    expect(await waiter.getOrSet('k', () => 'waiter')).toBe('waiter');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(waiter.stats().lock.timedOut).toBe(1);
    release();
    expect(await slow).toBe('holder');
  });

  it('runs the factory once across real child processes', async () => {
    const worker = fileURLToPath(new URL('./lock-worker.mts', import.meta.url));
    const prefix = `${suite.testPrefix}proc:`;
    const counterKey = `${prefix}factory-calls`;
    const start = Date.now() + 1500; // all processes fire together
    const runs = [0, 1, 2].map(
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', worker, String(server.port), prefix, counterKey, String(start)], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`worker exited ${code}: ${err}`))));
        }),
    );
    const outputs = await Promise.all(runs);
    expect(outputs).toEqual(['value-from-factory', 'value-from-factory', 'value-from-factory']);
    expect(Number(await redis.get(counterKey))).toBe(1);
  }, 20_000);
});
