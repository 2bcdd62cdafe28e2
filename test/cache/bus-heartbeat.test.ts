import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type RedisOptions } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { startProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { busReady, recordBusEvents, sleep, waitFor, type BusEvent } from './helpers.js';

/** Heartbeat of these tests: silence is declared after 3 of them, and noticed within 4. */
const HEARTBEAT = 100;
/** What a loaded CI machine may add to a timer. */
const SLACK = 400;

let server: RedisServer;
let proxy: TcpProxy;
let unique = 0;
const open: Cache[] = [];
const clients: Redis[] = [];

beforeAll(async () => {
  server = await startRedis();
  proxy = await startProxy({ host: server.host, port: server.port });
});
afterEach(async () => {
  proxy.blackholeNew = false;
  await Promise.all(open.splice(0).map((c) => c.close()));
  for (const client of clients.splice(0)) client.disconnect();
});
afterAll(async () => {
  await proxy.close();
  await stopAllRedis();
});

/** A client whose connections (and its duplicates', such as the bus) go through the proxy. */
function throughProxy(options: RedisOptions = {}): Redis {
  const client = new Redis({ host: proxy.host, port: proxy.port, maxRetriesPerRequest: 1, ...options });
  client.on('error', () => {});
  clients.push(client);
  return client;
}

/** A writer on a direct connection and a reader whose connections go through the proxy. */
async function pair(options: CacheOptions = {}): Promise<{ a: Cache; b: Cache; events: BusEvent[] }> {
  const prefix = `hb${++unique}:`;
  const a = createCache({ redis: server.client(), prefix, busHeartbeat: HEARTBEAT, ...options });
  const b = createCache({ redis: throughProxy(), prefix, busHeartbeat: HEARTBEAT, ...options });
  open.push(a, b);
  await busReady(a, b);
  return { a, b, events: recordBusEvents(b) };
}

const subscriber = (c: { sent(name: string): boolean }): boolean => c.sent('SUBSCRIBE');

describe('bus heartbeat on a standalone Redis', () => {
  it('notices a black-holed subscriber connection within four heartbeats, replaces it, and catches up', async () => {
    const { a, b, events } = await pair();
    let loads = 0;
    expect(await b.getOrSet('k', () => `k-${++loads}`)).toBe('k-1');
    expect(await b.getOrSet('other', () => `other-${++loads}`)).toBe('other-2');

    const silencedAt = Date.now();
    expect(proxy.blackhole(subscriber)).toBe(1); // no close, no error: just nothing
    await a.set('k', 'k-new'); // published while b cannot hear it

    await waitFor(() => events.length >= 1, 'bus-down', 4 * HEARTBEAT + SLACK + 1_000);
    expect(events[0]).toMatchObject({ event: 'bus-down', payload: { reason: 'silent' } });
    expect(events[0]!.at - silencedAt).toBeLessThanOrEqual(4 * HEARTBEAT + SLACK);
    expect(b.stats().bus.connected).toBe(false);

    // Redis answers the heartbeat, so the subscriber connection is replaced, and the set that
    // was missed is read from the log.
    await waitFor(() => b.stats().bus.connected, 'the bus to come back', 5_000);
    expect(events[1]).toMatchObject({ event: 'bus-up', payload: { caughtUp: 1, resynced: false } });
    expect(await b.getOrSet('k', () => 'never')).toBe('k-new');
    expect(await b.getOrSet('other', () => 'never')).toBe('other-2'); // kept in L1
    expect(loads).toBe(2);
  });

  it('trusts L1 entries for busDownL1Ttl only while the bus is silent, and serves young ones', async () => {
    const { a, b, events } = await pair({ busDownL1Ttl: 200 });
    await b.getOrSet('old', () => 'old-1');
    await sleep(250); // older than busDownL1Ttl from now on
    proxy.blackholeNew = true; // the replacement connections are silent too
    proxy.blackhole(subscriber);
    await a.set('old', 'old-2'); // b misses it
    await b.getOrSet('young', () => 'young-1');
    await waitFor(() => events.length >= 1, 'bus-down', 4 * HEARTBEAT + SLACK + 1_000);
    expect(b.stats().bus.connected).toBe(false);
    expect(await b.get('old')).toBe('old-2'); // older than busDownL1Ttl: read again from L2
    expect(await b.getOrSet('young', () => 'never')).toBe('young-1'); // young: still from L1

    proxy.blackholeNew = false;
    await waitFor(() => b.stats().bus.connected, 'the bus to come back', 5_000);
    expect(events.map((e) => e.event)).toEqual(['bus-down', 'bus-up']);
  });

  it('goes down within four heartbeats while Redis is paused, and comes back by itself', async () => {
    const { b, events } = await pair();
    await b.getOrSet('k', () => 'v');
    const pausedAt = Date.now();
    server.pause();
    try {
      await waitFor(() => events.length >= 1, 'bus-down', 4 * HEARTBEAT + SLACK + 1_000);
      expect(events[0]).toMatchObject({ event: 'bus-down', payload: { reason: 'silent' } });
      expect(events[0]!.at - pausedAt).toBeLessThanOrEqual(4 * HEARTBEAT + SLACK);
      expect(await b.getOrSet('k', () => 'never')).toBe('v'); // Redis unreachable: L1 within its ttl
    } finally {
      server.resume();
    }
    await waitFor(() => b.stats().bus.connected, 'the bus to come back', 5_000);
    expect(events[1]).toMatchObject({ event: 'bus-up', payload: { caughtUp: 0, resynced: false } });
    expect(await b.getOrSet('k', () => 'never')).toBe('v');
  });

  it('sends one heartbeat per interval and nothing per read', async () => {
    const prefix = `hb${++unique}:`;
    const cache = createCache({ redis: server.client(), prefix, busHeartbeat: HEARTBEAT });
    open.push(cache);
    await busReady(cache);
    await cache.set('k', 'v');
    const stats = async (): Promise<Record<string, number>> => {
      const text = await server.client().info('commandstats');
      const calls: Record<string, number> = {};
      for (const match of text.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) calls[match[1] as string] = Number(match[2]);
      return calls;
    };
    const before = await stats();
    const started = Date.now();
    for (let i = 0; i < 20_000; i++) await cache.getOrSet('k', () => 'never');
    await sleep(3 * HEARTBEAT);
    const elapsed = Date.now() - started;
    const after = await stats();
    const sent = (name: string): number => (after[name] ?? 0) - (before[name] ?? 0);
    expect(sent('get')).toBe(0);
    // One heartbeat script per interval (plus the INFO calls of this test).
    expect(sent('evalsha')).toBeGreaterThanOrEqual(1);
    expect(sent('evalsha')).toBeLessThanOrEqual(Math.ceil(elapsed / HEARTBEAT) + 1);
  });
});
