import { beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { busReady, cacheSuite, waitFor } from './helpers.js';

const suite = cacheSuite('coh');
let server: RedisServer;
let redis: Redis;
beforeAll(() => {
  ({ server, redis } = suite);
});

/** Two instances sharing Redis (own connections), like two processes of one service. */
async function pair(options: CacheOptions = {}): Promise<[Cache, Cache]> {
  const prefix = suite.nextPrefix();
  const a = createCache({ redis: server.client(), prefix, ...options });
  const b = createCache({ redis: server.client(), prefix, ...options });
  suite.track(a, b);
  await busReady(a, b);
  return [a, b];
}

describe('coherence across instances', () => {
  it('set on one instance replaces the value in the other instance L1', async () => {
    const [a, b] = await pair();
    await a.set('k', 'v1');
    expect(await b.getOrSet('k', () => 'never')).toBe('v1'); // now in b's L1
    await a.set('k', 'v2');
    await waitFor(async () => (await b.get('k')) === 'v2', 'b to see v2');
    expect(b.stats().bus.messagesIn).toBeGreaterThanOrEqual(1);
  });

  it('delete and deleteMany on one instance remove the entry from the other L1', async () => {
    const [a, b] = await pair();
    await a.set('x', 1);
    await a.set('y', 2);
    expect(await b.get('x')).toBe(1);
    expect(await b.get('y')).toBe(2);
    await a.delete('x');
    await waitFor(async () => (await b.get('x')) === undefined, 'x to disappear from b');
    await a.deleteMany(['y']);
    await waitFor(async () => (await b.get('y')) === undefined, 'y to disappear from b');
  });

  it('invalidateTags on one instance makes tagged entries a miss on the other', async () => {
    const [a, b] = await pair();
    let calls = 0;
    const load = () => ({ n: ++calls });
    await b.getOrSet('user:1', load, { tags: ['user:1', 'users'] });
    await b.getOrSet('user:2', load, { tags: ['user:2', 'users'] });
    expect(calls).toBe(2);
    await a.invalidateTags(['user:1']);
    await waitFor(() => b.stats().bus.messagesIn > 0, 'the tag message');
    expect(await b.getOrSet('user:1', load, { tags: ['user:1', 'users'] })).toEqual({ n: 3 });
    expect(await b.getOrSet('user:2', load, { tags: ['user:2', 'users'] })).toEqual({ n: 2 });
    await a.invalidateTags('users');
    await waitFor(() => b.stats().bus.messagesIn > 1, 'the second tag message');
    expect(await b.getOrSet('user:2', load)).toEqual({ n: 4 });
  });

  it('clear on one instance empties the other L1 and Redis, not other prefixes', async () => {
    const [a, b] = await pair();
    await redis.set('unrelated:key', 'kept');
    await a.set('k1', 1);
    await a.namespace('api').set('k2', 2);
    expect(await b.get('k1')).toBe(1);
    expect(await b.namespace('api').get('k2')).toBe(2);
    await a.clear();
    await waitFor(async () => (await b.get('k1')) === undefined, 'b to lose k1');
    expect(await b.namespace('api').get('k2')).toBeUndefined();
    expect(await redis.keys(`${suite.lastPrefix}*`)).toEqual([]);
    expect(await redis.get('unrelated:key')).toBe('kept');
  });

  it('invalidatePattern removes matching keys in Redis and every L1', async () => {
    const [a, b] = await pair();
    await Promise.all(['report:2024-01', 'report:2024-02', 'report:2025-01', 'other'].map((k) => a.set(k, k)));
    for (const k of ['report:2024-01', 'report:2024-02', 'report:2025-01', 'other']) expect(await b.get(k)).toBe(k);
    expect(await a.invalidatePattern('report:2024-*')).toBe(2);
    await waitFor(async () => (await b.get('report:2024-01')) === undefined, 'pattern to reach b');
    expect(await b.get('report:2024-02')).toBeUndefined();
    expect(await b.get('report:2025-01')).toBe('report:2025-01');
    expect(await a.get('other')).toBe('other');
  });

  it('ignores its own messages and publishes keys, never values', async () => {
    const [a] = await pair();
    const sub = server.client();
    const seen: string[] = [];
    sub.on('message', (_channel: string, message: string) => seen.push(message));
    await sub.subscribe(`${suite.lastPrefix}bus`);
    await a.set('secret', { password: 'hunter2' });
    await a.delete('secret');
    await waitFor(() => seen.length === 2, 'two bus messages');
    expect(seen.join('')).not.toContain('hunter2');
    expect(seen.map((m) => (JSON.parse(m) as { o: unknown }).o)).toEqual(['s', 'd']);
    expect(a.stats().bus).toMatchObject({ messagesIn: 0, messagesOut: 2 });
    sub.disconnect();
  });

  it('after the bus was down, drops only what was invalidated meanwhile (from the catch-up log)', async () => {
    const prefix = suite.nextPrefix();
    const a = createCache({ redis: server.client(), prefix });
    // b's bus connection is a duplicate() of this client, so it inherits the slow reconnect.
    const b = createCache({ redis: server.client({ retryStrategy: () => 300 }), prefix });
    suite.track(a, b);
    await busReady(a, b);
    const events: unknown[] = [];
    b.on('bus-down', (e) => events.push(['down', e]));
    b.on('bus-up', (e) => events.push(['up', e]));
    let calls = 0;
    for (const k of ['k1', 'k2', 'k3']) await b.getOrSet(k, () => `${k}-v${++calls}`);
    await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => events.length === 1, 'bus-down');
    await a.delete('k1'); // b is deaf: it learns this from the log
    await a.set('k2', 'k2-new');
    await waitFor(() => b.stats().bus.connected, 'the bus to come back');
    expect(events).toEqual([
      ['down', { reason: 'disconnected' }],
      ['up', { caughtUp: 2, resynced: false }],
    ]);
    expect(b.stats().bus).toMatchObject({ caughtUp: 2, resyncs: 0 });
    expect(await b.getOrSet('k1', () => 'k1-reloaded')).toBe('k1-reloaded');
    expect(await b.getOrSet('k2', () => 'never')).toBe('k2-new');
    expect(await b.getOrSet('k3', () => 'never')).toBe('k3-v3'); // kept in L1
    expect(b.stats().l2.hits).toBe(1); // k2 only
  });

  it('with busLog: false, empties L1 when the bus comes back', async () => {
    const [, b] = await pair({ busLog: false });
    const events: unknown[] = [];
    b.on('bus-up', (e) => events.push(e));
    expect(await b.getOrSet('k', () => 'v1')).toBe('v1');
    expect(b.stats().l1.size).toBe(1);
    await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => events.length === 1, 'bus-up');
    expect(events).toEqual([{ caughtUp: 0, resynced: true }]);
    expect(b.stats().l1.size).toBe(0);
    expect(b.stats().bus.resyncs).toBe(1);
    expect(await b.get('k')).toBe('v1');
  });

  it('reads an entry older than busDownL1Ttl again from L2 while the bus is down', async () => {
    const prefix = suite.nextPrefix();
    // The bus connection is a duplicate() of this client, so it inherits the slow reconnect.
    const client = server.client({ retryStrategy: () => 1_000 });
    const b = createCache({ redis: client, prefix, busDownL1Ttl: 30 });
    suite.track(b);
    await busReady(b);
    await b.set('old', 'v1');
    // Another writer changes L2 without a bus message reaching b.
    const raw = (await redis.get(`${prefix}_:e:old`))!;
    await redis.set(`${prefix}_:e:old`, raw.replace('"v1"', '"v2"'));
    await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => !b.stats().bus.connected, 'the bus to drop');
    await new Promise((r) => setTimeout(r, 60));
    expect(await b.get('old')).toBe('v2'); // not trusted from L1 any more
    await b.set('young', 'y');
    expect(await b.getOrSet('young', () => 'never')).toBe('y'); // young entries still served from L1
    await waitFor(() => b.stats().bus.connected, 'the bus to reconnect', 5_000);
    expect(await b.getOrSet('young', () => 'never')).toBe('y'); // nothing invalidated it: kept
  });

  it('a set or delete during a computation wins: the computed value is returned but not cached', async () => {
    const [a, b] = await pair();
    const slow = (value: string) => async () => {
      await new Promise((r) => setTimeout(r, 150));
      return value;
    };
    const pending = a.getOrSet('k', slow('computed-before-set'));
    await new Promise((r) => setTimeout(r, 30));
    await b.set('k', 'set-by-b');
    expect(await pending).toBe('computed-before-set');
    const c = createCache({ redis: server.client(), prefix: suite.lastPrefix });
    suite.track(c);
    expect(await c.get('k')).toBe('set-by-b');
    expect(await a.get('k')).toBe('set-by-b');

    const pending2 = a.getOrSet('k2', slow('computed-before-delete'));
    await new Promise((r) => setTimeout(r, 30));
    await b.delete('k2');
    expect(await pending2).toBe('computed-before-delete');
    expect(await c.get('k2')).toBeUndefined();
  });

  it('reports a bus message it cannot read as CACHE_BUS_UNREADABLE, and goes on', async () => {
    const [a, b] = await pair();
    const errors: Array<{ operation: string; code: unknown }> = [];
    b.on('error', (e) => errors.push({ operation: e.operation, code: (e.error as { code?: unknown }).code }));
    await redis.publish(`${suite.lastPrefix}bus`, 'not a message');
    await waitFor(() => errors.length === 1, 'the error event');
    expect(errors).toEqual([{ operation: 'bus', code: 'CACHE_BUS_UNREADABLE' }]);
    await a.set('k', 'v1');
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2');
    await waitFor(async () => (await b.get('k')) === 'v2', 'b to see v2');
  });
});
