import { tracingChannel } from 'node:diagnostics_channel';
import type { Redis, RedisOptions } from 'ioredis';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createCache, type Cache, type CacheOptions } from '../../src/cache/index.js';
import type { RedisServer } from '../support/redis.js';
import { busReady, cacheSuite, sleep } from './helpers.js';

// L2 reads on a standalone client go to ioredis as direct commands (src/cache/get-command.ts),
// not through `client.get`: these tests pin what that path must keep of ioredis' behaviour.

const suite = cacheSuite('direct');
let server: RedisServer;
beforeAll(() => {
  ({ server } = suite);
});

/** A writer (with L1) and a reader without L1 over its own client, sharing one key space. */
async function pair(clientOptions: RedisOptions = {}, options: CacheOptions = {}): Promise<{ writer: Cache; reader: Cache; client: Redis }> {
  const prefix = suite.nextPrefix();
  const client = server.client(clientOptions);
  const writer = createCache({ redis: server.client(clientOptions), prefix });
  const reader = createCache({ redis: client, prefix, l1: false, ...options });
  suite.track(writer, reader);
  await busReady(writer);
  return { writer, reader, client };
}

const never = (): never => {
  throw new Error('the factory must not run on an L2 hit');
};

describe('direct L2 reads (standalone client)', () => {
  it('answers hits without client.get, and sends the GETs of one tick in one corked write', async () => {
    const { writer, reader, client } = await pair();
    for (let i = 0; i < 20; i++) await writer.set(`k${i}`, { n: i });
    const get = vi.spyOn(client, 'get');

    const reads = Array.from({ length: 20 }, (_, i) => reader.getOrSet(`k${i}`, never));
    // The socket stays corked until the end of the tick that started the reads...
    expect(client.stream.writableCorked).toBe(1);
    await Promise.resolve();
    // ...and is uncorked in the microtask that arms the batch's deadline.
    expect(client.stream.writableCorked).toBe(0);

    expect(await Promise.all(reads)).toEqual(Array.from({ length: 20 }, (_, i) => ({ n: i })));
    expect(get).not.toHaveBeenCalled();
    expect(reader.stats().l2).toMatchObject({ hits: 20, misses: 0, errors: 0, timeouts: 0 });
  });

  it("clears ioredis' own commandTimeout timer when the reply arrives", async () => {
    const { writer, reader } = await pair({ commandTimeout: 100 });
    const errors: string[] = [];
    reader.on('error', (e) => errors.push(e.error instanceof Error ? e.error.message : String(e.error)));
    await writer.set('k', 'v');
    expect(await reader.getOrSet('k', never)).toBe('v');
    await sleep(200); // past commandTimeout: a timer left armed would reject the settled command
    expect(errors).toEqual([]);
    expect(reader.stats().l2).toMatchObject({ hits: 1, errors: 0 });
  });

  it('reports a command that passes ioredis commandTimeout as an L2 error and fails open', async () => {
    const { writer, reader } = await pair({ commandTimeout: 50 }, { l2Timeout: '5s' });
    await writer.set('k', 'v');
    server.pause();
    try {
      expect(await reader.getOrSet('k', () => 'from factory')).toBe('from factory');
      expect(reader.stats().l2).toMatchObject({ timeouts: 0 });
      expect(reader.stats().l2.errors).toBeGreaterThanOrEqual(1);
    } finally {
      server.resume();
    }
  });

  it('takes the ordinary client.get path while ioredis commands are traced, so tracers see them', async () => {
    const { writer, reader, client } = await pair();
    await writer.set('k', 'v');
    const traced: string[] = [];
    const channel = tracingChannel<unknown, { command?: string; args?: string[] }>('ioredis:command');
    const handlers = {
      start(context: { command?: string; args?: string[] }) {
        if (context.command === 'get') traced.push(String(context.args?.[0]));
      },
      end() {},
      asyncStart() {},
      asyncEnd() {},
      error() {},
    };
    channel.subscribe(handlers);
    try {
      const get = vi.spyOn(client, 'get');
      expect(await reader.getOrSet('k', never)).toBe('v');
      expect(get).toHaveBeenCalledTimes(1);
      expect(traced).toEqual([`${suite.lastPrefix}_:e:k`]);
    } finally {
      channel.unsubscribe(handlers);
    }
  });

  it('fails open at once on a client that was closed (ioredis rejects the command synchronously)', async () => {
    const { writer, reader, client } = await pair();
    await writer.set('k', 'v');
    client.disconnect();
    await sleep(20);
    expect(client.status).toBe('end');
    expect(await reader.getOrSet('k', () => 'from factory')).toBe('from factory');
    expect(await reader.get('k')).toBeUndefined();
    expect(reader.stats().l2.errors).toBeGreaterThanOrEqual(2);
  });

  it('treats a reply error (WRONGTYPE) as an L2 failure that does not open the breaker', async () => {
    const { reader } = await pair({}, { breaker: { threshold: 2, cooldown: '5s' } });
    await suite.redis.hset(`${suite.lastPrefix}_:e:k`, 'field', 'value');
    // skip(): the hash stays in place, so every read hits it.
    for (let i = 0; i < 4; i++) expect(await reader.getOrSet('k', (ctx) => ctx.skip(i))).toBe(i);
    expect(reader.stats().breaker.state).toBe('closed');
    expect(reader.stats().l2.errors).toBeGreaterThanOrEqual(4);
  });
});
