import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { createCache, type Cache } from '../../src/cache/index.js';
import { logKey } from '../../src/cache/invalidation-log.js';
import { startCluster, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';
import { proxiesNatMap, startProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { busReady, recordBusEvents, waitFor, type BusEvent } from './helpers.js';

/** Heartbeat of these tests: silence is declared after 3 of them, and noticed within 4. */
const HEARTBEAT = 100;
/** What a loaded CI machine may add to timers and failovers. */
const SLACK = 600;

let cluster: RedisCluster;
let unique = 0;
const open: Cache[] = [];
const killed: RedisServer[] = [];

beforeAll(async () => {
  cluster = await startCluster({ replicas: 1, nodeTimeout: 1_000 });
}, 60_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  for (const node of cluster.nodes) if (node.isPaused) node.resume();
  for (const node of killed.splice(0)) await cluster.rejoin(node);
  await cluster.waitForState();
}, 60_000);
afterAll(stopAllRedis);

/** A writer and a reader on their own Cluster clients; the reader's connections are named. */
async function pair(readerClient?: Cluster): Promise<{ a: Cache; b: Cache; prefix: string; events: BusEvent[]; name: string }> {
  const prefix = `cf${++unique}:`;
  const name = `reader${unique}`;
  const a = createCache({ redis: cluster.client(), prefix, busHeartbeat: HEARTBEAT, l2Timeout: 300 });
  const b = createCache({
    redis: readerClient ?? cluster.client({ redisOptions: { connectionName: name, maxRetriesPerRequest: 1 } }),
    prefix,
    busHeartbeat: HEARTBEAT,
    l2Timeout: 300,
  });
  open.push(a, b);
  await busReady(a, b);
  return { a, b, prefix, events: recordBusEvents(b), name };
}

/** A key whose master is not `node` (so writing it does not wait for a failover of `node`). */
async function keyAwayFrom(node: RedisServer, prefix: string, base: string): Promise<string> {
  for (let i = 0; ; i++) {
    const key = `${base}${i}`;
    if ((await cluster.masterOf(`${prefix}_:e:${key}`)) !== node) return key;
  }
}

describe('the bus on a 3 + 3 Redis Cluster', () => {
  it('when the subscriber node dies, a set made 1 ms later still reaches the reader within the bound', async () => {
    const { a, b, events, name, prefix } = await pair();
    const node = await cluster.pubsubNode(name);
    const key = await keyAwayFrom(node, prefix, 'k');
    await b.set(key, 'old'); // in b's L1, and in Redis before a writes
    const killedAt = Date.now();
    const failover = (await cluster.masters()).includes(node) ? cluster.killMaster(node) : node.kill();
    killed.push(node);
    await new Promise((resolve) => setTimeout(resolve, 1));
    await a.set(key, 'new');
    await waitFor(async () => (await b.get(key)) === 'new', 'the reader to see the new value', 15_000);
    const coherentMs = Date.now() - killedAt;
    console.info(
      `cluster: subscriber node killed; reader saw the set made 1 ms later after ${coherentMs} ms; events ${JSON.stringify(events.map((e) => [e.event, e.at - killedAt, e.payload]))}`,
    );
    expect(coherentMs).toBeLessThan(10_000); // it was ttl (30 s in the report) before
    await failover;
    await waitFor(() => b.stats().bus.connected, 'the bus to be up', 15_000);
  });

  it('notices a hung subscriber node within four heartbeats and catches up what was set meanwhile', async () => {
    const { a, b, events, name, prefix } = await pair();
    const node = await cluster.pubsubNode(name);
    const key = await keyAwayFrom(node, prefix, 'h');
    await b.set(key, 'old'); // in b's L1, and in Redis before a writes
    const pausedAt = Date.now();
    node.pause();
    await a.set(key, 'new');
    await waitFor(() => events.length >= 1, 'bus-down', 4 * HEARTBEAT + SLACK + 2_000);
    const detectedMs = events[0]!.at - pausedAt;
    expect(events[0]!.event).toBe('bus-down');
    expect(detectedMs).toBeLessThanOrEqual(4 * HEARTBEAT + SLACK);
    expect(b.stats().bus.connected).toBe(false);
    await waitFor(async () => (await b.get(key)) === 'new', 'the reader to see the new value', 15_000);
    node.resume();
    await waitFor(() => b.stats().bus.connected, 'the bus to be up', 15_000);
    console.info(
      `cluster: subscriber node paused; bus-down after ${detectedMs} ms; events ${JSON.stringify(events.map((e) => [e.event, e.at - pausedAt, e.payload]))}`,
    );
  });

  it('when the log node fails over, invalidations wait in the outbox and every reader catches up', async () => {
    const { a, b, prefix, events } = await pair();
    const logMaster = await cluster.masterOf(logKey(prefix));
    const keys: string[] = [];
    for (let i = 0; keys.length < 5; i++) {
      const key = `f${i}`;
      if ((await cluster.masterOf(`${prefix}_:e:${key}`)) !== logMaster) keys.push(key);
    }
    for (const key of keys) await b.set(key, 'old'); // in b's L1, and in Redis before a writes
    await cluster.waitForReplication(logMaster); // else the promoted replica may lack the last entries (then b resyncs)
    const killedAt = Date.now();
    const failover = cluster.killMaster(logMaster);
    killed.push(logMaster);
    for (const key of keys) await a.set(key, 'new'); // the values land; their announcements cannot
    const { failoverMs } = await failover;
    await waitFor(async () => (await Promise.all(keys.map((k) => b.get(k)))).every((v) => v === 'new'), 'the reader to see every new value', 15_000);
    const coherentMs = Date.now() - killedAt;
    await waitFor(() => b.stats().bus.connected && a.stats().bus.pending === 0, 'both buses up, nothing pending', 15_000);
    console.info(
      `cluster: log master killed; failover ${failoverMs} ms; reader coherent after ${coherentMs} ms; events ${JSON.stringify(events.map((e) => [e.event, e.at - killedAt, e.payload]))}`,
    );
    expect(events.some((e) => e.event === 'bus-down')).toBe(true);
    expect(b.stats().bus.resyncs).toBe(0);
  });

  it('replaces a black-holed subscriber connection on a Cluster (through proxies)', async () => {
    const proxies: TcpProxy[] = await Promise.all(cluster.nodes.map((n) => startProxy({ host: n.host, port: n.port })));
    try {
      const name = `proxied${unique}`;
      const readerClient = cluster.client({
        natMap: proxiesNatMap(proxies),
        redisOptions: { connectionName: name, maxRetriesPerRequest: 1 },
      });
      const { a, b, events } = await pair(readerClient);
      await b.set('p', 'old');
      const silencedAt = Date.now();
      const holed = proxies.reduce((n, p) => n + p.blackhole((c) => c.sent('SUBSCRIBE')), 0);
      expect(holed).toBe(1);
      await a.set('p', 'new');
      await waitFor(() => events.length >= 1, 'bus-down', 4 * HEARTBEAT + SLACK + 2_000);
      expect(events[0]).toMatchObject({ event: 'bus-down', payload: { reason: 'silent' } });
      expect(events[0]!.at - silencedAt).toBeLessThanOrEqual(4 * HEARTBEAT + SLACK);
      await waitFor(async () => (await b.get('p')) === 'new' && b.stats().bus.connected, 'the reader to come back and catch up', 15_000);
      console.info(`cluster: subscriber black-holed; events ${JSON.stringify(events.map((e) => [e.event, e.at - silencedAt, e.payload]))}`);
    } finally {
      await Promise.all(open.splice(0).map((c) => c.close()));
      await Promise.all(proxies.map((p) => p.close()));
    }
  });
});
