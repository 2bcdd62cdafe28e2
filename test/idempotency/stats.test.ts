/** Idempotency.stats(): what a dashboard and a metrics scrape read, on both store paths. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Idempotency,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  type IdempotencyStore,
} from '../../src/idempotency/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(stopAllRedis);

describe.each([
  ['memory store', () => new MemoryIdempotencyStore()],
  ['Redis store', () => new RedisIdempotencyStore(server.client(), { prefix: `stats:${Math.random()}:` })],
] as [string, () => IdempotencyStore][])('Idempotency.stats() with the %s', (_name, makeStore) => {
  it('counts executions, replays, 409s and 422s', async () => {
    const idempotency = new Idempotency({ store: makeStore() });
    expect(idempotency.stats()).toEqual({
      executions: 0,
      replays: 0,
      conflicts: 0,
      keyReused: 0,
      storeUnavailable: 0,
      running: 0,
      completionRetries: 0,
      notStored: 0,
      compensatingReleases: 0,
    });
    let finish!: (value: string) => void;
    const first = idempotency.run('order-1', () => new Promise<string>((resolve) => (finish = resolve)), { fingerprint: 'a' });
    await expect(idempotency.run('order-1', () => 'twice', { fingerprint: 'a' })).rejects.toBeInstanceOf(IdempotencyInProgressError);
    expect(idempotency.stats()).toMatchObject({ executions: 1, conflicts: 1, running: 1 });
    finish('placed');
    await first;
    expect(await idempotency.run('order-1', () => 'twice', { fingerprint: 'a' })).toBe('placed');
    expect(await idempotency.run('order-1', () => 'twice', { fingerprint: 'a' })).toBe('placed');
    await expect(idempotency.run('order-1', () => 'other', { fingerprint: 'b' })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await idempotency.run('order-2', () => 'placed');
    expect(idempotency.stats()).toEqual({
      executions: 2,
      replays: 2,
      conflicts: 1,
      keyReused: 1,
      storeUnavailable: 0,
      running: 0,
      completionRetries: 0,
      notStored: 0,
      compensatingReleases: 0,
    });
  });
});

it('counts calls refused because the store could not be reached', async () => {
  const down = await startRedis();
  const client = down.client({ enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  const idempotency = new Idempotency({ store: new RedisIdempotencyStore(client) });
  await down.kill();
  await expect(idempotency.run('k', () => 'never')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  // The acquire failed on our side: a release of its token was sent after it.
  expect(idempotency.stats()).toMatchObject({ executions: 0, storeUnavailable: 1, compensatingReleases: 1 });
});
