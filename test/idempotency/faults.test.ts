/**
 * The idempotency store under real faults: a Redis paused in the middle of an acquire, and a
 * Cluster master killed while operations run and clients retry. Real servers, real connections,
 * real signals (SIGSTOP, SIGKILL); the figures each test prints are the ones in
 * docs/reliability.md.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Idempotency, RedisIdempotencyStore, isHeadroomError, type IdempotencyOptions } from '../../src/idempotency/index.js';
import { eventually } from '../support/async.js';
import { keySlot } from '../support/cluster-topology.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: RedisServer;
let cluster: RedisCluster;
let unique = 0;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster({ replicas: 1, nodeTimeout: 1_000 })]);
}, 60_000);
afterAll(stopAllRedis);

describe('an acquire stalled in a paused Redis leaves no orphan lease', () => {
  it.each([
    ['ioredis commandTimeout', { commandTimeout: 150 }, { storeTimeout: '2s' }],
    ['storeTimeout', {}, { storeTimeout: 150 }],
  ] as const)('gives the key back when the stalled acquire lands (bound hit: %s)', async (_bound, clientOptions, idempotencyOptions) => {
    const client = server.client({ maxRetriesPerRequest: 1, ...clientOptions });
    const probe = server.client();
    await Promise.all([client.ping(), probe.ping()]);
    const prefix = `orphan${++unique}:`;
    const idempotency = new Idempotency({ store: new RedisIdempotencyStore(client, { prefix }), lockTtl: '30s', ...idempotencyOptions });
    const keys = Array.from({ length: 10 }, (_, i) => `order-${i}`);
    // Loads the scripts into the server: a stalled EVALSHA of a script it does not know would
    // land as NOSCRIPT and take nothing, which is not the case under test.
    await idempotency.run('warm-up', async () => 0);
    let runs = 0;

    server.pause(); // SIGSTOP: connections stay open, nothing answers
    let resumedAt: number;
    try {
      const answers = await Promise.allSettled(keys.map((key) => idempotency.run(key, async () => ++runs)));
      for (const answer of answers) {
        expect(answer.status).toBe('rejected');
        expect(answer.status === 'rejected' && isHeadroomError(answer.reason, 'SERVICE_UNAVAILABLE')).toBe(true);
      }
      await sleep(500); // a stall well past the bound
    } finally {
      server.resume();
      resumedAt = Date.now();
    }
    // A command sent now on the same connection answers after everything written before it:
    // the stalled acquires and the releases behind them have run by then.
    await client.ping();
    const freedMs = Date.now() - resumedAt;
    expect(runs).toBe(0);
    expect(idempotency.stats()).toMatchObject({ storeUnavailable: 10, compensatingReleases: 10, executions: 1 }); // the warm-up
    // No lease is left in Redis, and each key runs at once instead of answering 409 for lockTtl.
    expect(await probe.keys(`${prefix}:order-*`)).toEqual([]);
    for (const key of keys) expect(await idempotency.run(key, async () => ++runs)).toBe(runs);
    expect(runs).toBe(10);
    console.info(`idempotency: Redis paused 0.5 s past ${_bound}: 10 of 10 keys free ${freedMs} ms after it resumed (was: 409 for lockTtl)`);
  });
});

/** Keys whose slot `master` serves, from `count` candidates on. */
async function keysServedBy(master: RedisServer, prefix: string, count: number): Promise<string[]> {
  const slots = (await cluster.topology()).find((n) => n.port === master.port)?.slots ?? [];
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `order-${i}`;
    // The store's Redis key: prefix, then the scoped key (no scope: ':' + key).
    const slot = await keySlot(master.port, `${prefix}:${key}`);
    if (slots.some(([from, to]) => slot >= from && slot <= to)) keys.push(key);
  }
  return keys;
}

describe('a Cluster master killed while operations run and clients retry', () => {
  it('at the recommended settings: exactly one execution and one answer per key', { timeout: 60_000 }, async () => {
    const KEYS = 30;
    const OPERATION_MS = 100;
    const prefix = `failover${++unique}:`;
    const master = (await cluster.masters())[0]!;
    const keys = await keysServedBy(master, prefix, KEYS);
    /** The recommended client settings (docs/reliability.md): fail fast, refresh the slots soon. */
    const clusterClient = (): Cluster =>
      cluster.client({ redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 1_500 }, retryDelayOnFailover: 100, retryDelayOnClusterDown: 100 });
    /** The library defaults: lockTtl 30 s (above the failover time), storeTimeout 1 s, holdUntilStored. */
    const settings: Omit<IdempotencyOptions, 'store'> = {};
    // Two instances of a service, each with its own client; each key is sent to both.
    const instances = [0, 1].map(() => new Idempotency({ store: new RedisIdempotencyStore(clusterClient(), { prefix }), ...settings }));
    const t0 = Date.now();
    if (process.env.DEBUG_FAILOVER) for (const i of instances) i.on('error', (e) => console.info(Date.now() - t0, e.phase, e.key, String(e.error)));
    const executions = new Map<string, number>();
    // Operations finish only after the master is killed: their completions meet the failover.
    let killIssued!: () => void;
    const killed = new Promise<void>((resolve) => (killIssued = resolve));
    const orderIds = new Map<string, string>();
    let fiveHundreds = 0;
    let worstMs = 0;

    /** A client that retries until it gets an answer: 409 and 503 are retried, as clients do. */
    async function clientLoop(instance: Idempotency, key: string): Promise<string> {
      const started = Date.now();
      for (;;) {
        try {
          const answer = await instance.run(key, async () => {
            const n = (executions.get(key) ?? 0) + 1;
            executions.set(key, n);
            await killed;
            await sleep(OPERATION_MS);
            return `${key}/execution-${n}`;
          });
          worstMs = Math.max(worstMs, Date.now() - started);
          if (process.env.DEBUG_FAILOVER) console.info(Date.now() - t0, 'answer', key, answer);
          return answer;
        } catch (err) {
          if (!isHeadroomError(err) || ![409, 503].includes(err.status)) throw err;
          if (err.status >= 500) fiveHundreds++;
          if (process.env.DEBUG_FAILOVER) console.info(Date.now() - t0, 'refused', key, err.code);
          if (Date.now() - started > 40_000) throw new Error(`no answer for ${key} after 40 s`, { cause: err });
          await sleep(100 + Math.random() * 100);
        }
      }
    }

    const all = keys.flatMap((key) => instances.map((instance) => clientLoop(instance, key).then((answer) => ({ key, answer, at: Date.now() }))));
    await eventually(() => expect(executions.size).toBe(KEYS)); // every key acquired, every operation running
    await cluster.waitForReplication(master); // the acquires reached the replica (see the async-failover window in the docs)
    const killedAt = Date.now();
    if (process.env.DEBUG_FAILOVER) console.info(killedAt - t0, 'kill');
    const failover = cluster.killMaster(master);
    killIssued();
    const { failoverMs } = await failover;
    const answers = await Promise.all(all);
    const recoveredMs = Math.max(...answers.map((a) => a.at)) - killedAt;

    for (const { key, answer } of answers) {
      const first = orderIds.get(key);
      if (first === undefined) orderIds.set(key, answer);
      else expect(answer, key).toBe(first); // both clients got the same answer
    }
    for (const key of keys) expect(executions.get(key), key).toBe(1);
    // And it is what a later retry replays, from either instance.
    for (const key of keys) expect(await instances[1]!.run(key, async () => 'again')).toBe(orderIds.get(key));
    const retries = instances.reduce((sum, i) => sum + i.stats().completionRetries, 0);
    const notStored = instances.reduce((sum, i) => sum + i.stats().notStored, 0);
    expect(notStored).toBe(0);
    // The completions were sent after the kill, into a failover that takes longer than storeTimeout.
    expect(retries).toBeGreaterThan(0);
    console.info(
      `idempotency: master killed with ${KEYS} keys in flight on it, 2 clients per key: executions ${[...executions.values()].reduce((a, b) => a + b, 0)} for ${KEYS} keys, ` +
        `5xx answers ${fiveHundreds} (retried), completion retries ${retries}, worst client latency ${worstMs} ms, failover ${failoverMs} ms, ` +
        `last answer ${recoveredMs} ms after the kill`,
    );
    await cluster.rejoin(master);
  });
});
