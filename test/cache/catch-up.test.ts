import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { busReady, sleep, waitFor } from './helpers.js';

let server: RedisServer;
let admin: Redis;
let unique = 0;
const open: Cache[] = [];

beforeAll(async () => {
  server = await startRedis();
  admin = server.client();
});
afterEach(async () => {
  server.resume();
  await Promise.all(open.splice(0).map((c) => c.close()));
});
afterAll(stopAllRedis);

function make(options: CacheOptions & { redis?: Redis }): Cache {
  const cache = createCache({ redis: server.client(), busHeartbeat: 100, ...options });
  open.push(cache);
  return cache;
}

describe('catching up after the bus was down', () => {
  it('after a Redis outage, the source sees only the keys that changed, not a cold L1', async () => {
    const prefix = `cu${++unique}:`;
    // The writer's breaker opens on its second timeout and stays open long after the outage:
    // its late announcements wait in the outbox and go out with its next heartbeat, which the
    // breaker does not gate.
    const a = make({ prefix, l2Timeout: 150, breaker: { threshold: 2, cooldown: '10s' } });
    const b = make({ prefix, l2Timeout: 150 });
    await busReady(a, b);
    const keys = Array.from({ length: 50 }, (_, i) => `item:${i}`);
    let sourceReads = 0;
    const source = (key: string) => () => `${key}@${++sourceReads}`;
    for (const key of keys) await b.getOrSet(key, source(key));
    expect(sourceReads).toBe(50);

    server.pause();
    try {
      await waitFor(() => !b.stats().bus.connected, 'b to notice', 2_000);
      // Both writes time out on the writer's side but reach Redis when it resumes.
      await a.delete('item:1');
      await a.set('item:2', 'item:2@writer');
      expect(a.stats().breaker.state).toBe('open');
      // b keeps answering from L1 (Redis unreachable, entries within their ttl).
      for (const key of keys) await b.getOrSet(key, source(key));
      expect(sourceReads).toBe(50);
    } finally {
      server.resume();
    }
    await waitFor(() => b.stats().bus.connected && a.stats().bus.pending === 0, 'b to catch up and a to send what it owed', 5_000);
    await waitFor(async () => (await b.getOrSet('item:2', source('item:2'))) === 'item:2@writer', 'the announcement of item:2 to reach b', 3_000);
    const before = sourceReads;
    const values = [];
    for (const key of keys) values.push(await b.getOrSet(key, source(key)));
    expect(sourceReads - before).toBe(1); // item:1, deleted during the outage
    expect(values[1]).toBe(`item:1@${before + 1}`);
    expect(values[2]).toBe('item:2@writer');
    expect(values[3]).toBe('item:3@4'); // untouched: still the L1 copy
    expect(b.stats().bus.resyncs).toBe(0);
  });

  it('applies the tags, patterns and clears it missed, and keeps the rest of L1', async () => {
    const prefix = `cu${++unique}:`;
    const a = make({ prefix });
    // b's bus connection is a duplicate() of this client and inherits its slow reconnect.
    const b = make({ prefix, redis: server.client({ retryStrategy: () => 300 }) });
    await busReady(a, b);
    let loads = 0;
    const load = () => ++loads;
    await b.getOrSet('tagged', load, { tags: ['t1'] });
    await b.getOrSet('report:1', load);
    await b.getOrSet('keep', load);
    await b.namespace('ns').getOrSet('x', load);
    const events: unknown[] = [];
    b.on('bus-up', (e) => events.push(e));
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await waitFor(() => !b.stats().bus.connected, 'b to notice');
    await a.invalidateTags('t1');
    await a.invalidatePattern('report:*');
    await a.namespace('ns').clear();
    await waitFor(() => b.stats().bus.connected, 'b to come back', 5_000);
    expect(events).toEqual([{ caughtUp: 3, resynced: false }]);
    expect(await b.getOrSet('tagged', load, { tags: ['t1'] })).toBe(5);
    expect(await b.getOrSet('report:1', load)).toBe(6);
    expect(await b.namespace('ns').getOrSet('x', load)).toBe(7);
    expect(await b.getOrSet('keep', load)).toBe(3);
  });

  it('empties L1 when Redis came back empty (the log cannot tell what was missed)', async () => {
    const prefix = `cu${++unique}:`;
    const a = make({ prefix, l2Timeout: 100 });
    const b = make({ prefix, l2Timeout: 100 });
    await busReady(a, b);
    await a.set('announced', 1); // b's cursor is past 0 now
    await waitFor(() => b.stats().bus.messagesIn === 1, 'the message');
    await b.getOrSet('k', () => 'v');
    const events: unknown[] = [];
    b.on('bus-up', (e) => events.push(e));
    await server.restart();
    await a.set('after', 2); // the new log starts again at 1
    await waitFor(() => events.length === 1, 'b to come back', 10_000);
    expect(events).toEqual([{ caughtUp: 0, resynced: true }]);
    expect(b.stats().l1.size).toBe(0);
    expect(b.stats().bus.resyncs).toBe(1);
  });

  it('announces a set with one script after its SET: two commands per set, as with PUBLISH alone', async () => {
    const prefix = `cu${++unique}:`;
    const writerClient = server.client();
    const a = make({ prefix, redis: writerClient, busHeartbeat: '1h' });
    await busReady(a);
    // One announcement first, so the script is known to this server (the test before restarted
    // it, which empties its script cache): what follows is the steady state, EVALSHA only.
    await a.set('warm-up', 'v');
    await writerClient.ping();
    const writer = `127.0.0.1:${writerClient.stream.localPort}`;
    const monitor = await server.client().monitor();
    const seen: Array<{ source: string; command: string }> = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ source, command: String(args[0]).toLowerCase() }));
    await sleep(50);
    await a.set('k', 'v');
    await a.delete('k');
    await waitFor(() => seen.filter((s) => s.source === 'lua').length >= 6, 'the scripts to show');
    monitor.disconnect();
    expect(seen.filter((s) => s.source === writer).map((s) => s.command)).toEqual(['set', 'evalsha', 'unlink', 'evalsha']);
    expect(seen.filter((s) => s.source === 'lua').map((s) => s.command)).toEqual(['xrevrange', 'xadd', 'publish', 'xrevrange', 'xadd', 'publish']);
  });
});
