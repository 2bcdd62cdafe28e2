import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimitStore, RateLimiter, RedisRateLimitStore, isHeadroomError, type StoreErrorEvent } from '../../src/ratelimit/index.js';
import { clusterSlot } from '../../src/ratelimit/cluster-slot.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';
import { storeContract } from './store-contract.js';
import { timerLag } from './timer-lag.js';

/**
 * For tests whose subject is not time: a loaded machine must not turn a slow answer into a
 * degraded one, and a failure must show as one.
 */
const steady = { storeTimeout: '10s', onStoreError: 'deny' } as const;

let server: RedisServer;
let redis: Redis;
let cluster: RedisCluster;
let clusterClient: Cluster;

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster()]);
  redis = server.client();
  clusterClient = cluster.client();
});
afterAll(stopAllRedis);

storeContract('MemoryRateLimitStore', () => new MemoryRateLimitStore(), { atomic: true });
storeContract('RedisRateLimitStore on Redis', () => new RedisRateLimitStore(redis, { prefix: 'contract:' }), { atomic: true });
storeContract('RedisRateLimitStore on a Cluster', () => new RedisRateLimitStore(clusterClient, { prefix: 'contract:' }), { atomic: false });

/** Calls per command since the last reset, from INFO commandstats (script-internal commands included). */
async function commandCalls(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2]);
  return calls;
}

describe('RedisRateLimitStore on Redis', () => {
  it('costs at most one round trip per check (exactly one for a lone caller), loading the script once', async () => {
    const store = new RedisRateLimitStore(redis, { prefix: `rt-${randomUUID()}:` });
    const limiter = new RateLimiter({ ...steady, limit: 100, window: '1h', store });
    await redis.script('FLUSH');
    await redis.config('RESETSTAT');
    // Concurrent checks started in one tick share script calls: commands per check <= 1.
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => limiter.take(`k${i % 7}`)));
    const calls = await commandCalls(redis);
    // The first call met NOSCRIPT and loaded the script with EVAL; later ones are EVALSHA.
    const loads = calls.eval ?? 0;
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(calls.evalsha).toBeGreaterThanOrEqual(1);
    expect(calls.evalsha).toBeLessThan(200);
    expect(answers.every((a) => a.allowed && !a.degraded)).toBe(true);
    // Same-key checks in one batch apply in order: 200 units over 7 keys were all taken.
    const left = await Promise.all(Array.from({ length: 7 }, (_, i) => limiter.peek(`k${i}`)));
    expect(left.map((r) => r.remaining)).toEqual(Array.from({ length: 7 }, (_, i) => 100 - Math.ceil((200 - i) / 7)));
    await redis.config('RESETSTAT');
    // A lone caller: exactly one EVALSHA per check.
    for (let i = 0; i < 50; i++) await limiter.take(`k${i % 7}`);
    await limiter.peek('k1');
    const warm = await commandCalls(redis);
    expect(warm.evalsha).toBe(51);
    expect(warm.eval).toBeUndefined();
  });

  it('applies takes and peeks of one key started in one tick in order', async () => {
    const store = new RedisRateLimitStore(redis, { prefix: `order-${randomUUID()}:` });
    const limiter = new RateLimiter({ ...steady, limit: 2, window: '1h', store });
    await redis.config('RESETSTAT');
    const [first, peek, second, third] = await Promise.all([limiter.take('a'), limiter.peek('a'), limiter.take('a'), limiter.take('a')]);
    expect([first.allowed, peek.allowed, second.allowed, third.allowed]).toEqual([true, true, true, false]);
    expect([first.remaining, peek.remaining, second.remaining]).toEqual([1, 1, 0]);
    expect((await commandCalls(redis)).evalsha).toBe(1);
  });

  it('checks several limits of one request in one round trip', async () => {
    const store = new RedisRateLimitStore(redis, { prefix: `multi-${randomUUID()}:` });
    const a = new RateLimiter({ ...steady, name: 'a', limit: 5, window: '1m', store });
    const b = new RateLimiter({ ...steady, name: 'b', limit: 5, window: '1m', store });
    const c = new RateLimiter({ ...steady, name: 'c', limit: 5, window: '1m', store });
    await RateLimiter.takeAll([{ limiter: a, key: 'x' }]);
    await redis.config('RESETSTAT');
    const result = await RateLimiter.takeAll([
      { limiter: a, key: 'x' },
      { limiter: b, key: 'y' },
      { limiter: c, key: 'z' },
    ]);
    expect(result.allowed).toBe(true);
    const calls = await commandCalls(redis);
    expect(calls.evalsha).toBe(1);
  });

  it("keeps Redis' time, one number per key, expiring when the budget is whole again", async () => {
    const prefix = `time-${randomUUID()}:`;
    const limiter = new RateLimiter({ ...steady, name: 'n', limit: 10, window: '10s', burst: 3, store: new RedisRateLimitStore(redis, { prefix }) });
    await limiter.take('k', { cost: 2 });
    const [seconds, micros] = (await redis.time()) as [string | number, string | number];
    const redisNowUs = Number(seconds) * 1e6 + Number(micros);
    const stored = Number(await redis.get(`${prefix}n:k`));
    // The TAT is Redis' now plus 2 intervals of 1 s, in microseconds.
    expect(stored - redisNowUs).toBeGreaterThan(1_900_000);
    expect(stored - redisNowUs).toBeLessThanOrEqual(2_000_000);
    const pttl = await redis.pttl(`${prefix}n:k`);
    expect(pttl).toBeGreaterThan(1_900);
    expect(pttl).toBeLessThanOrEqual(2_000);
  });

  it('answers correctly after the script cache is flushed (NOSCRIPT handled)', async () => {
    const limiter = new RateLimiter({ ...steady, limit: 2, window: '1h', store: new RedisRateLimitStore(redis, { prefix: `flush-${randomUUID()}:` }) });
    await limiter.take('k');
    await redis.script('FLUSH');
    expect(await limiter.take('k')).toMatchObject({ allowed: true, remaining: 0, degraded: false });
    await redis.script('FLUSH');
    expect(await limiter.peek('k')).toMatchObject({ allowed: false, degraded: false });
    await redis.script('FLUSH');
    expect((await RateLimiter.takeAll([{ limiter, key: 'other' }])).allowed).toBe(true);
  });

  it('refuses a client that is not a Redis client', () => {
    expect(() => new RedisRateLimitStore({} as Redis)).toThrow(/redis must be an ioredis/);
    expect(() => new RedisRateLimitStore(redis, { prefix: '' })).toThrow(/prefix/);
  });
});

describe('RedisRateLimitStore on a Cluster', () => {
  it('answers concurrent checks of keys in many slots from one call per slot, each key in order', async () => {
    const limiter = new RateLimiter({
      ...steady,
      name: 'b',
      limit: 3,
      window: '1h',
      store: new RedisRateLimitStore(clusterClient, { prefix: `batch-${randomUUID()}:` }),
    });
    const keys = Array.from({ length: 40 }, (_, i) => `client-${i}`);
    // Each key four times in one tick: three allowed (remaining 2, 1, 0), the fourth refused.
    const answers = await Promise.all([...keys, ...keys, ...keys, ...keys].map((k) => limiter.take(k)));
    for (let i = 0; i < keys.length; i++) {
      const mine = [0, 1, 2, 3].map((round) => answers[round * keys.length + i]!);
      expect(mine.map((a) => a.allowed)).toEqual([true, true, true, false]);
      expect(mine.slice(0, 3).map((a) => a.remaining)).toEqual([2, 1, 0]);
    }
  });

  it('spreads keys over the slots, one key per check', async () => {
    const prefix = `spread-${randomUUID()}:`;
    const limiter = new RateLimiter({ ...steady, name: 'n', limit: 10, window: '1m', store: new RedisRateLimitStore(clusterClient, { prefix }) });
    const keys = Array.from({ length: 30 }, (_, i) => `client-${i}`);
    await Promise.all(keys.map((k) => limiter.take(k)));
    const owners = new Set<number>();
    for (const node of cluster.nodes) {
      const client = node.client();
      for (const k of keys) if ((await client.exists(`${prefix}n:${k}`).catch(() => 0)) === 1) owners.add(node.port);
    }
    expect(owners.size).toBe(3);
  });

  it('computes the slots Redis computes, hash tags included', async () => {
    for (const key of ['a', 'headroom:rl:per-ip:10.0.0.7', '{acct:42}:x', 'x{}y', 'é-ü', '{user1000}.following']) {
      expect(clusterSlot(key)).toBe(Number(await clusterClient.cluster('KEYSLOT', key)));
    }
  });

  it('takes keys of several slots all or none, giving back what one slot took when another refused', async () => {
    const store = new RedisRateLimitStore(clusterClient, { prefix: `slots-${randomUUID()}:` });
    const perIp = new RateLimiter({ ...steady, name: 'per-ip', limit: 60, window: '1h', burst: 10, store });
    const perAccount = new RateLimiter({ ...steady, name: 'per-account', limit: 60, window: '1h', burst: 1, store });
    expect(clusterSlot(`${store.prefix}per-ip:10.0.0.7`)).not.toBe(clusterSlot(`${store.prefix}per-account:acct-9`));
    const request = () =>
      RateLimiter.takeAll([
        { limiter: perIp, key: '10.0.0.7' },
        { limiter: perAccount, key: 'acct-9' },
      ]);
    expect((await request()).allowed).toBe(true);
    const refused = await request();
    expect(refused.allowed).toBe(false);
    expect(refused.results[0]).toMatchObject({ allowed: true, remaining: 9 });
    expect((await perIp.peek('10.0.0.7')).remaining).toBe(9);
  });

  it('checks hash-tagged keys of one request in one script on one node', async () => {
    const store = new RedisRateLimitStore(clusterClient, { prefix: `tags-${randomUUID()}:` });
    const perIp = new RateLimiter({ ...steady, name: 'per-ip', limit: 60, window: '1h', burst: 10, store });
    const perAccount = new RateLimiter({ ...steady, name: 'per-account', limit: 60, window: '1h', burst: 2, store });
    const slot = clusterSlot('{acct-7}');
    const owner = cluster.nodes.find((node) => {
      const ranges = [
        [0, 5460],
        [5461, 10922],
        [10923, 16383],
      ][cluster.nodes.indexOf(node)]!;
      return slot >= ranges[0]! && slot <= ranges[1]!;
    })!;
    const nodeClient = owner.client();
    await RateLimiter.takeAll([{ limiter: perIp, key: '{acct-7}:10.0.0.7' }]);
    await nodeClient.config('RESETSTAT');
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(
        await RateLimiter.takeAll([
          { limiter: perIp, key: '{acct-7}:10.0.0.7' },
          { limiter: perAccount, key: '{acct-7}' },
        ]),
      );
    }
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);
    const calls = await commandCalls(nodeClient);
    expect(calls.evalsha).toBe(3);
    expect((await perIp.peek('{acct-7}:10.0.0.7')).remaining).toBe(7);
  });
});

describe('RedisRateLimitStore with Redis paused', () => {
  it('answers every policy within storeTimeout + 20 ms, hangs nothing, and recovers alone', async () => {
    const paused = await startRedis();
    const client = paused.client({ maxRetriesPerRequest: null });
    const store = new RedisRateLimitStore(client, { prefix: 'pause:' });
    const common = { limit: 100, window: '1m', store, storeTimeout: '200ms' } as const;
    const allow = new RateLimiter({ ...common, name: 'allow' });
    const deny = new RateLimiter({ ...common, name: 'deny', onStoreError: 'deny' });
    const local = new RateLimiter({ ...common, name: 'local', onStoreError: 'local', instances: 50, burst: 4 });
    const errors: StoreErrorEvent[] = [];
    for (const limiter of [allow, deny, local]) limiter.on('store-error', (event) => errors.push(event));
    for (const limiter of [allow, deny, local]) expect((await limiter.take('warm')).degraded).toBe(false);

    paused.pause();
    const ATTEMPTS = 3;
    try {
      const timed = async <T>(work: () => Promise<T>): Promise<{ ms: number; outcome: PromiseSettledResult<T> }> => {
        const started = performance.now();
        const [outcome] = await Promise.allSettled([work()]);
        return { ms: performance.now() - started, outcome };
      };
      // The same batch a few times while Redis stays paused: every answer of every attempt must
      // come without a hang; the tight bound must hold for at least one attempt (a machine shared
      // with other work can preempt this process in the middle of any single one).
      const overruns: number[] = [];
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const [lag, a, d, l, many] = await Promise.all([
          timerLag(200),
          timed(() => allow.take(`k${attempt}`)),
          timed(() => deny.take(`k${attempt}`)),
          timed(() => local.take(`k${attempt}`)),
          timed(() => Promise.all(Array.from({ length: 6 }, () => local.take(`greedy${attempt}`)))),
        ]);
        for (const { ms } of [a, d, l, many]) {
          expect(ms).toBeGreaterThanOrEqual(199);
          expect(ms).toBeLessThan(200 + 1_000);
        }
        // Beyond storeTimeout and what the scheduler added to a plain 200 ms timer meanwhile.
        overruns.push(Math.max(a.ms, d.ms, l.ms, many.ms) - 200 - lag);
        expect(a.outcome).toMatchObject({ status: 'fulfilled', value: { allowed: true, degraded: true } });
        expect(d.outcome.status).toBe('rejected');
        expect(isHeadroomError((d.outcome as PromiseRejectedResult).reason, 'SERVICE_UNAVAILABLE')).toBe(true);
        expect(isHeadroomError((d.outcome as PromiseRejectedResult).reason, 'RATE_LIMITED')).toBe(false);
        expect(l.outcome).toMatchObject({ status: 'fulfilled', value: { allowed: true, degraded: true, limit: 2 } });
        // The local share: burst 4 / 50 instances, rounded up to 1.
        const greedy = (many.outcome as PromiseFulfilledResult<Array<{ allowed: boolean }>>).value;
        expect(greedy.filter((r) => r.allowed)).toHaveLength(1);
      }
      expect(Math.min(...overruns), overruns.map((o) => o.toFixed(1)).join(', ')).toBeLessThan(20);
      expect(errors).toHaveLength(9 * ATTEMPTS);
      expect(errors.every((e) => e.timedOut)).toBe(true);
    } finally {
      paused.resume();
    }
    // Back without anyone's help: the next checks are answered by Redis again.
    for (const limiter of [allow, deny, local]) expect(await limiter.take('after')).toMatchObject({ allowed: true, degraded: false });
    expect(allow.stats()).toMatchObject({ degraded: ATTEMPTS, storeTimeouts: ATTEMPTS });
    expect(deny.stats()).toMatchObject({ unavailable: ATTEMPTS, limited: 0, storeTimeouts: ATTEMPTS });
    await paused.stop();
  });
});
