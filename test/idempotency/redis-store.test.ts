import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Idempotency, RedisIdempotencyStore, isHeadroomError, type IdempotencyStore } from '../../src/idempotency/index.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';
import { storeContract } from './store-contract.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

storeContract('RedisIdempotencyStore on Redis', () => new RedisIdempotencyStore(redis, { prefix: 'contract:' }));
storeContract('RedisIdempotencyStore on a Cluster', () => new RedisIdempotencyStore(clusterClient, { prefix: 'contract:' }));

/** Calls of the commands clients sent (EVALSHA, EVAL, ...), from INFO commandstats. */
async function roundTrips(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+)/gm)) {
    // Commands run inside the Lua scripts are counted too: they are not round trips.
    if (SCRIPT_INTERNAL.has(match[1]!) || match[1] === 'info' || match[1] === 'config|resetstat') continue;
    total += Number(match[2]);
  }
  return total;
}
const SCRIPT_INTERNAL = new Set(['hmget', 'hset', 'pexpire', 'pttl', 'del']);

describe.each([
  ['Redis', () => redis],
  ['a Cluster', () => clusterClient],
] as const)('Idempotency with RedisIdempotencyStore on %s', (_name, client) => {
  it('runs the operation exactly once for 200 concurrent duplicates; the others replay or get 409, none fails otherwise', async () => {
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client()) });
    const key = randomUUID();
    let runs = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        idem.run(key, async () => {
          runs++;
          await sleep(30);
          return { charged: 100 };
        }),
      ),
    );
    expect(runs).toBe(1);
    let replays = 0;
    for (const o of outcomes) {
      if (o.status === 'fulfilled') {
        expect(o.value).toEqual({ charged: 100 });
        replays++;
      } else {
        expect(isHeadroomError(o.reason, 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
      }
    }
    expect(replays).toBeGreaterThanOrEqual(1);
    // After the first completed, every duplicate replays.
    expect(await idem.run(key, async () => ({ charged: -1 }))).toEqual({ charged: 100 });
  });

  it('runs once when the first complete fails: it is retried, and a client retry loop replays', async () => {
    // The real store, whose first complete() rejects as one did with MOVED during a failover.
    const real = new RedisIdempotencyStore(client());
    let failures = 1;
    const store: IdempotencyStore = {
      acquire: (...args) => real.acquire(...args),
      complete: (...args) => (failures-- > 0 ? Promise.reject(new Error('MOVED 3999 127.0.0.1:1')) : real.complete(...args)),
      renew: (...args) => real.renew(...args),
      release: (...args) => real.release(...args),
    };
    const idem = new Idempotency({ store });
    const key = randomUUID();
    let runs = 0;
    const answers: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) answers.push(await idem.run(key, async () => `order #${++runs}`));
    expect(runs).toBe(1);
    expect(new Set(answers)).toEqual(new Set(['order #1']));
    expect(idem.stats()).toMatchObject({ executions: 1, replays: 4, completionRetries: 1 });
  });

  it('lets waiting duplicates get the result through the store', async () => {
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client()) });
    const key = randomUUID();
    let runs = 0;
    const all = await Promise.all(
      Array.from({ length: 20 }, () =>
        idem.run(
          key,
          async () => {
            runs++;
            await sleep(100);
            return 'once';
          },
          { wait: '5s' },
        ),
      ),
    );
    expect(runs).toBe(1);
    expect(new Set(all)).toEqual(new Set(['once']));
  });

  it('keeps two scopes apart in Redis', async () => {
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client()) });
    const key = randomUUID();
    expect(await idem.run(key, async () => 'A', { scope: 'tenant-a' })).toBe('A');
    expect(await idem.run(key, async () => 'B', { scope: 'tenant-b' })).toBe('B');
    expect(await idem.run(key, async () => '?', { scope: 'tenant-a' })).toBe('A');
    expect(await idem.run(key, async () => '?', { scope: 'tenant-b' })).toBe('B');
  });

  it('renews the lease of an operation longer than lockTtl', async () => {
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client()), lockTtl: 200 });
    const key = randomUUID();
    let runs = 0;
    const first = idem.run(key, async () => {
      runs++;
      await sleep(700);
      return 'long';
    });
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      await idem.run(key, async () => ++runs).catch(() => undefined);
    }
    expect(await first).toBe('long');
    expect(runs).toBe(1);
  });
});

describe('RedisIdempotencyStore', () => {
  it('takes 2 round trips for a first request and 1 for a replay (INFO commandstats)', async () => {
    const probe = server.client();
    const idem = new Idempotency({ store: new RedisIdempotencyStore(server.client()) });
    await idem.run('warm-up', async () => 0); // loads the scripts (NOSCRIPT -> EVAL) once
    await probe.config('RESETSTAT');
    const before = await roundTrips(probe);
    const n = 50;
    for (let i = 0; i < n; i++) await idem.run(`first-${i}`, async () => i);
    const afterFirst = await roundTrips(probe);
    for (let i = 0; i < n; i++) await idem.run(`first-${i}`, async () => -1);
    const afterReplay = await roundTrips(probe);
    // Each INFO call is excluded; each idempotency call is one EVALSHA.
    expect((afterFirst - before) / n).toBe(2);
    expect((afterReplay - afterFirst) / n).toBe(1);
    const stats = await probe.info('commandstats');
    expect(stats).toMatch(/cmdstat_evalsha:calls=150\b/);
  });

  it('falls back to EVAL when the server lost its scripts (SCRIPT FLUSH)', async () => {
    const store = new RedisIdempotencyStore(redis, { prefix: 'flush:' });
    const idem = new Idempotency({ store });
    await idem.run('a', async () => 1);
    await redis.script('FLUSH');
    expect(await idem.run('b', async () => 2)).toBe(2);
    expect(await idem.run('b', async () => 3)).toBe(2);
  });

  it('stores one hash per record under the prefix, with the scope length-prefixed', async () => {
    const store = new RedisIdempotencyStore(redis, { prefix: 'layout:' });
    const idem = new Idempotency({ store, ttl: '1h' });
    await idem.run('order-7', async () => ({ ok: true }), { scope: 'acme', fingerprint: 'fp1' });
    const record = await redis.hgetall('layout:4:acme:order-7');
    // t: the token that completed it (a retried complete that already landed is answered 1).
    expect(record).toEqual({ s: 'd', t: expect.any(String), f: 'fp1', v: 'v{"ok":true}' });
    const ttl = await redis.pttl('layout:4:acme:order-7');
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('rejects a client that is not an ioredis client, and a bad prefix', () => {
    expect(() => new RedisIdempotencyStore({} as never)).toThrow(/redis/);
    expect(() => new RedisIdempotencyStore(redis, { prefix: '' })).toThrow(/prefix/);
  });

  it('loses the record when Redis restarts between the first request and its retry: the retry runs again', async () => {
    const own = await startRedis();
    const client = own.client({ maxRetriesPerRequest: 20 });
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client) });
    let runs = 0;
    expect(await idem.run('pay-1', async () => `charge #${++runs}`)).toBe('charge #1');
    expect(await idem.run('pay-1', async () => `charge #${++runs}`)).toBe('charge #1');
    await own.restart(); // no persistence: the data set is empty afterwards
    expect(await idem.run('pay-1', async () => `charge #${++runs}`)).toBe('charge #2');
    expect(runs).toBe(2);
    expect(await idem.run('pay-1', async () => `charge #${++runs}`)).toBe('charge #2');
  });

  it('still stores the result when Redis restarts while the operation runs', async () => {
    const own = await startRedis();
    const client = own.client({ maxRetriesPerRequest: 20 });
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client) });
    let runs = 0;
    const first = idem.run('pay-2', async () => {
      runs++;
      await own.restart();
      return 'charged';
    });
    expect(await first).toBe('charged');
    expect(await idem.run('pay-2', async () => `again ${++runs}`)).toBe('charged');
    expect(runs).toBe(1);
  });

  it('answers SERVICE_UNAVAILABLE without running the operation while Redis is down', async () => {
    const own = await startRedis();
    const client = own.client({ maxRetriesPerRequest: 0, enableOfflineQueue: false });
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const idem = new Idempotency({ store: new RedisIdempotencyStore(client) });
    await idem.run('warm', async () => 1);
    await own.kill();
    await sleep(50);
    let runs = 0;
    const err = await idem.run('k', async () => ++runs).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(runs).toBe(0);
  });

  it('spreads records over the Cluster slots (each record is a single key)', async () => {
    const idem = new Idempotency({ store: new RedisIdempotencyStore(clusterClient, { prefix: 'spread:' }) });
    for (let i = 0; i < 30; i++) await idem.run(`k${i}`, async () => i);
    const perNode = await Promise.all(clusterClient.nodes('master').map((n) => n.dbsize()));
    expect(perNode.filter((n) => n > 0).length).toBe(3);
    for (let i = 0; i < 30; i++) expect(await idem.run(`k${i}`, async () => -1)).toBe(i);
  });
});
