import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createCache } from '../../src/cache/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { busReady, waitFor } from './helpers.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(stopAllRedis);

async function pubsubConnections(): Promise<number> {
  const list = await redis.client('LIST');
  return String(list)
    .split('\n')
    .filter((line) => /\bsub=[1-9]/.test(line)).length;
}

describe('close()', () => {
  it('quits the bus connection it made, leaves the user client open, and rejects later calls with CLOSED', async () => {
    const client = server.client();
    const cache = createCache({ redis: client, prefix: 'close1:' });
    await busReady(cache);
    await cache.set('k', 1);
    expect(await pubsubConnections()).toBe(1);
    await cache.close();
    await waitFor(async () => (await pubsubConnections()) === 0, 'the bus connection to close');
    expect(await client.ping()).toBe('PONG');
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(cache.getOrSet('k', () => 2)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(cache.set('k', 2)).rejects.toMatchObject({ code: 'CLOSED' });
    await cache.close(); // idempotent
  });

  it('aborts the signal of a running factory', async () => {
    const cache = createCache({ redis: server.client(), prefix: 'close2:' });
    let signal: AbortSignal | undefined;
    const pending = cache.getOrSet('k', (ctx) => {
      signal = ctx.signal;
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('aborted')));
    });
    await waitFor(() => signal !== undefined, 'the factory to start');
    await cache.close();
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toMatchObject({ code: 'CLOSED' });
    await pending.catch(() => undefined);
  });

  it('sends nothing to Redis after close(), even when a factory started before it finishes later', async () => {
    const client = server.client();
    const cache = createCache({ redis: client, prefix: 'close4:', bus: false });
    let finish: (value: string) => void = () => undefined;
    const pending = cache.getOrSet('k', () => new Promise<string>((resolve) => (finish = resolve)));
    await waitFor(() => cache.stats().factory.calls === 1, 'the factory to start');
    await cache.close();
    finish('late');
    await pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await redis.exists('close4:_:e:k')).toBe(0);
    await client.quit(); // nothing pending on it: no EPIPE, no unhandled error event
  });

  it('closing a namespace view closes the whole cache', async () => {
    const cache = createCache({ redis: server.client(), prefix: 'close3:' });
    await cache.namespace('api').close();
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('lets a process that used the cache exit on its own', async () => {
    const worker = fileURLToPath(new URL('./close-worker.mts', import.meta.url));
    const started = Date.now();
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', worker, String(server.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (code) => {
        clearTimeout(killer);
        resolve({ code, out, err });
      });
    });
    expect(result.err).toBe('');
    expect(result.out.trim()).toBe('done');
    expect(result.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);
});
