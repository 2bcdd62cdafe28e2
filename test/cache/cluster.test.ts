import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { createCache, type Cache } from '../../src/cache/index.js';
import { startCluster, stopAllRedis, type RedisCluster } from '../support/redis.js';
import { busReady, waitFor } from './helpers.js';

let cluster: RedisCluster;
let client: Cluster;
let a: Cache;
let b: Cache;

/** Keys matching `pattern` on every master (SCAN), for assertions. */
async function keysEverywhere(pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of client.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found.sort();
}

beforeAll(async () => {
  cluster = await startCluster();
  client = cluster.client();
  a = createCache({ redis: cluster.client(), prefix: 'cl:' });
  b = createCache({ redis: cluster.client(), prefix: 'cl:' });
  await busReady(a, b);
}, 60_000);
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
  await stopAllRedis();
});

describe('on a Redis Cluster', () => {
  it('stores and reads entries spread over every master', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => a.set(`k${i}`, i)));
    const perNode = await Promise.all(client.nodes('master').map((node) => node.dbsize()));
    expect(perNode.every((count) => count > 0)).toBe(true);
    const values = await Promise.all(Array.from({ length: 60 }, (_, i) => b.get(`k${i}`)));
    expect(values).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('runs the factory once under a stampede, with the lock', async () => {
    let calls = 0;
    const factory = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 50));
      return 'v';
    };
    const results = await Promise.all([
      ...Array.from({ length: 20 }, () => a.getOrSet('stampede', factory, { lock: true })),
      ...Array.from({ length: 20 }, () => b.getOrSet('stampede', factory, { lock: true })),
    ]);
    expect(results.every((r) => r === 'v')).toBe(true);
    expect(calls).toBe(1);
  });

  it('invalidatePattern scans every master and tells the other instance', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `report:${i}`);
    await Promise.all(keys.map((k) => a.set(k, k)));
    await a.set('keep', 'kept');
    for (const k of keys) expect(await b.get(k)).toBe(k); // in b's L1
    expect(await a.invalidatePattern('report:*')).toBe(30);
    expect(await keysEverywhere('cl:_:e:report:*')).toEqual([]);
    await waitFor(async () => (await b.get('report:0')) === undefined, 'b to drop the pattern');
    expect((await Promise.all(keys.map((k) => b.get(k)))).every((v) => v === undefined)).toBe(true);
    expect(await b.get('keep')).toBe('kept');
  });

  it('invalidates tags that live in different slots, across instances', async () => {
    await a.set('t1', 1, { tags: ['alpha', 'beta', 'gamma'] });
    expect(await b.get('t1')).toBe(1);
    await a.invalidateTags(['gamma', 'delta']);
    await waitFor(async () => (await b.get('t1')) === undefined, 'the tag to reach b');
    const fresh = createCache({ redis: cluster.client(), prefix: 'cl:', l1: false });
    await busReady(fresh);
    await a.set('t2', 2, { tags: ['alpha', 'gamma'] });
    expect(await fresh.get('t2')).toBe(2); // tag times read with one GET per tag (slots differ)
    await fresh.close();
  });

  it('clears the key space on every master and every instance', async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.namespace('api').set(`x${i}`, i)));
    await a.set('root-key', 1);
    expect(await b.namespace('api').get('x1')).toBe(1);
    await a.namespace('api').clear();
    expect(await keysEverywhere('cl:api:*')).toEqual([]);
    expect(await keysEverywhere('cl:_:e:root-key')).toEqual(['cl:_:e:root-key']);
    await waitFor(async () => (await b.namespace('api').get('x1')) === undefined, 'b to clear api');
    await a.clear();
    expect(await keysEverywhere('cl:*')).toEqual([]);
  });
});
