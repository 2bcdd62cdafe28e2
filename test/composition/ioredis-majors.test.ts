/**
 * Every Redis-backed entry point takes the clients users have: `Redis` and `Cluster` of ioredis 5
 * and 6, RESP2 and RESP3, with either reply mapping, in one process (two ioredis copies, as a
 * project whose ioredis differs from ours has them). The assignments below are checked by the
 * typecheck; the tests run each entry point over real connections with each client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type CacheOptions, type CacheRedis } from '../../src/cache/index.js';
import { redisCheck } from '../../src/health/index.js';
import { RedisIdempotencyStore, type IdempotencyRedis } from '../../src/idempotency/index.js';
import { RateLimiter, RedisRateLimitStore, type RateLimitRedis } from '../../src/ratelimit/index.js';
import { CircuitBreaker, type BreakerShareRedis } from '../../src/resilience/index.js';
import { Cluster5, Cluster6, Redis5, Redis6 } from '../support/ioredis-copies.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

/** Compiles only when every client type is accepted by every option. */
export function typesAccepted(clients: [Redis5, Cluster5, Redis6, Redis6<'legacy'>, Redis6<'resp3'>, Cluster6, Cluster6<'resp3'>]): void {
  for (const client of clients) {
    const cache: CacheRedis = client;
    const options: CacheOptions = { redis: client };
    const idempotency: IdempotencyRedis = client;
    const rateLimit: RateLimitRedis = client;
    const share: BreakerShareRedis = client;
    void [cache, options, idempotency, rateLimit, share, redisCheck(client)];
  }
}

type AnyClient = CacheRedis & IdempotencyRedis & RateLimitRedis & BreakerShareRedis & Parameters<typeof redisCheck>[0] & { quit(): Promise<unknown> };

let server: RedisServer;
let cluster: RedisCluster;
const clients: AnyClient[] = [];

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster()]);
});

afterAll(async () => {
  for (const client of clients) await client.quit().catch(() => undefined);
  await stopAllRedis();
});

const nodes = (): Array<{ host: string; port: number }> => cluster.startupNodes;

const kinds: Array<[string, () => AnyClient]> = [
  ['ioredis 5 Redis', () => new Redis5({ port: server.port, host: '127.0.0.1' })],
  ['ioredis 5 Cluster', () => new Cluster5(nodes())],
  ['ioredis 6 Redis (RESP3)', () => new Redis6({ port: server.port, host: '127.0.0.1' })],
  ['ioredis 6 Redis (RESP3, resp3 reply mapping)', () => new Redis6({ port: server.port, host: '127.0.0.1', replyMapping: 'resp3' })],
  ['ioredis 6 Redis (RESP2)', () => new Redis6({ port: server.port, host: '127.0.0.1', protocol: 2 })],
  ['ioredis 6 Cluster (RESP3)', () => new Cluster6(nodes())],
  ['ioredis 6 Cluster (RESP2)', () => new Cluster6(nodes(), { redisOptions: { protocol: 2 } })],
];

describe.each(kinds)('headroom on %s', (name, make) => {
  const tag = name.replace(/\W+/g, '-');

  it('caches through L2 and the bus, keeps idempotency records, limits rates, shares breakers and checks health', async () => {
    const client = make();
    clients.push(client);
    (client as unknown as { on(event: string, listener: () => void): void }).on('error', () => {});

    const writer = createCache({ redis: client, prefix: `${tag}:`, l1: false });
    const reader = createCache({ redis: client, prefix: `${tag}:` });
    try {
      await writer.set('k', { v: 1 });
      expect(await reader.get('k')).toEqual({ v: 1 });
      expect(reader.stats().l2.hits).toBe(1);
      // Standalone clients of both majors take the cache's direct read path; a Cluster never does.
      expect(reader.stats().l2.directReads).toBe(!name.includes('Cluster'));
    } finally {
      await Promise.all([writer.close(), reader.close()]);
    }

    const store = new RedisIdempotencyStore(client, { prefix: `${tag}:idem:` });
    expect(await store.acquire('op', 'token-1', 'fp', 10_000)).toEqual({ status: 'acquired' });
    expect(await store.complete('op', 'token-1', 'fp', '"done"', 10_000)).toBe(true);
    expect(await store.acquire('op', 'token-2', 'fp', 10_000)).toMatchObject({ status: 'completed', value: '"done"' });

    const limiter = new RateLimiter({ name: 'api', limit: 2, window: '1m', store: new RedisRateLimitStore(client, { prefix: `${tag}:rl:` }) });
    const results = [await limiter.take('user'), await limiter.take('user'), await limiter.take('user')];
    expect(results.map((r) => r.allowed)).toEqual([true, true, false]);

    const breaker = new CircuitBreaker({ name: 'dep', trip: { consecutive: 1 }, share: { redis: client, channel: `${tag}:breakers` } });
    await breaker.close();

    const health = await redisCheck(client)(AbortSignal.timeout(5_000));
    expect(health).toMatchObject({ status: 'pass' });
  });
});
