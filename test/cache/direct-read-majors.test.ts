/**
 * The cache's direct L2 read path (src/cache/get-command.ts) leans on internals of ioredis'
 * `Command`. These tests run it on every supported major in the same run, whatever
 * HEADROOM_TEST_IOREDIS says, and fail if it silently falls back to `client.get`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, type Cache } from '../../src/cache/index.js';
import { getCommandFor, type GetReceiver } from '../../src/cache/get-command.js';
import { Cluster5, Cluster6, Redis5, Redis6 } from '../support/ioredis-copies.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

let server: RedisServer;
let cluster: RedisCluster;
const open: Array<{ quit(): Promise<unknown> }> = [];
const caches: Cache[] = [];

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster()]);
});

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
  for (const client of open) await client.quit().catch(() => undefined);
  await stopAllRedis();
});

type Standalone = InstanceType<typeof Redis5> | InstanceType<typeof Redis6>;

const majors: Array<[string, (options?: Record<string, unknown>) => Standalone]> = [
  ['ioredis 5', (options = {}) => new Redis5({ port: server.port, host: '127.0.0.1', ...options })],
  ['ioredis 6, RESP3', (options = {}) => new Redis6({ port: server.port, host: '127.0.0.1', ...options })],
  ['ioredis 6, RESP2', (options = {}) => new Redis6({ port: server.port, host: '127.0.0.1', protocol: 2, ...options })],
];

function client(make: (options?: Record<string, unknown>) => Standalone, options?: Record<string, unknown>): Standalone {
  const made = make(options);
  made.on('error', () => {});
  open.push(made);
  return made;
}

function cache(redis: Standalone | InstanceType<typeof Cluster5> | InstanceType<typeof Cluster6>, prefix: string, directReads?: boolean): Cache {
  const made = createCache({ redis, prefix, l1: false, bus: false, ...(directReads === undefined ? {} : { directReads }) });
  caches.push(made);
  return made;
}

const never = (): never => {
  throw new Error('the factory must not run on an L2 hit');
};

describe.each(majors)('direct L2 reads on %s', (name, make) => {
  const prefix = `${name.replace(/\W+/g, '-')}:`;

  it('are taken: stats() says so and the hits never go through client.get', async () => {
    const redis = client(make);
    const reader = cache(redis, prefix);
    const writer = cache(client(make), prefix);
    for (let i = 0; i < 10; i++) await writer.set(`k${i}`, i);
    const get = vi.spyOn(redis, 'get');
    expect(reader.stats().l2.directReads).toBe(true);
    const values = await Promise.all(Array.from({ length: 10 }, (_, i) => reader.getOrSet(`k${i}`, never)));
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(get).not.toHaveBeenCalled();
    expect(reader.stats().l2).toMatchObject({ hits: 10, errors: 0, timeouts: 0, directReads: true });
  });

  it("settle ioredis' command: resolved, settled (ioredis 6), its commandTimeout timer cleared", async () => {
    const redis = client(make, { commandTimeout: 100 });
    await redis.set(`${prefix}raw`, 'v');
    const GetCommand = getCommandFor(redis);
    expect(GetCommand).toBeDefined();
    let settle: (value: unknown) => void = () => {};
    const outcome = new Promise<unknown>((resolve) => (settle = resolve));
    const receiver: GetReceiver = { settled: (value) => settle(value) };
    const command = new GetCommand!(`${prefix}raw`, receiver) as Record<string, unknown>;
    (redis as unknown as { sendCommand(command: object): unknown }).sendCommand(command);
    // ioredis armed its commandTimeout timer when the command was sent.
    expect(command._commandTimeoutTimer).toBeDefined();
    expect(await outcome).toBe('v');
    expect(command.isResolved).toBe(true);
    if (name.startsWith('ioredis 6')) expect(command.isSettled).toBe(true);
    expect(command._commandTimeoutTimer).toBeUndefined();
  });

  it('are off with directReads: false (every read through client.get)', async () => {
    const redis = client(make);
    const reader = cache(redis, prefix, false);
    await cache(client(make), prefix).set('off', 'v');
    const get = vi.spyOn(redis, 'get');
    expect(reader.stats().l2.directReads).toBe(false);
    expect(await reader.getOrSet('off', never)).toBe('v');
    expect(get).toHaveBeenCalledTimes(1);
  });
});

describe('direct L2 reads on a Cluster', () => {
  it.each([
    ['ioredis 5', () => new Cluster5(cluster.startupNodes)],
    ['ioredis 6', () => new Cluster6(cluster.startupNodes)],
  ])('are not used on %s (a Cluster routes its own commands)', async (_name, make) => {
    const redis = make();
    open.push(redis);
    const reader = cache(redis, 'cluster:');
    await reader.set('k', 'v');
    expect(reader.stats().l2.directReads).toBe(false);
    expect(await reader.getOrSet('k', never)).toBe('v');
  });
});
