/**
 * Every call that leaves the process for Redis is bounded, whatever state the server is in:
 * frozen (SIGSTOP: the connection stays open, nothing answers) or refusing connections (ioredis
 * retrying with its defaults). Real time is the subject: these measure how long an answer takes.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HealthChecker, readinessHandler, redisCheck } from '../../src/health/index.js';
import { toNode } from '../../src/http/index.js';
import { Idempotency, RedisIdempotencyStore, isHeadroomError } from '../../src/idempotency/index.js';
import { freePort, startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const BOUND_MS = 150;

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await stopAllRedis();
});
afterEach(() => {
  server.resume();
});

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T | undefined; error: unknown }> {
  const started = performance.now();
  try {
    const value = await work();
    return { ms: performance.now() - started, value, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, value: undefined, error };
  }
}

describe('with Redis frozen', () => {
  it('idempotency.run fails with SERVICE_UNAVAILABLE within storeTimeout, without running', { retry: 2 }, async () => {
    const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis, { prefix: 'stalled:' }), storeTimeout: BOUND_MS });
    expect(await idempotency.run('warm', () => 'ok')).toBe('ok');
    server.pause();
    let ran = false;
    const { ms, error } = await timed(() => idempotency.run('k', () => (ran = true)));
    expect(isHeadroomError(error, 'SERVICE_UNAVAILABLE')).toBe(true);
    expect((error as { status: number; retryAfterMs: number }).status).toBe(503);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBe(1000);
    expect((error as Error).message).toContain(`did not answer within ${BOUND_MS} ms`);
    expect(ms).toBeLessThan(BOUND_MS + 50);
    server.resume();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toBe(false);
  });

  it('readiness answers 503 within the check timeout, the Redis check failing as timed out', { retry: 2 }, async () => {
    const health = new HealthChecker({ timeout: BOUND_MS, cacheFor: 0 }).register('redis', redisCheck(redis));
    const guard = toNode(readinessHandler(health, { verbose: true, detail: 'full' }));
    const app = http.createServer((req, res) => guard(req, res)).listen(0, '127.0.0.1');
    await once(app, 'listening');
    const url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/ready`;
    try {
      expect((await fetch(url)).status).toBe(200);
      server.pause();
      const { ms, value } = await timed(() => fetch(url));
      expect(value!.status).toBe(503);
      expect(ms).toBeLessThan(BOUND_MS + 50);
      const body = (await value!.json()) as { checks: Record<string, { output?: string }[]> };
      expect(body.checks['redis:responseTime']?.[0]?.output).toBe(`timed out after ${BOUND_MS} ms`);
    } finally {
      server.resume();
      health.close();
      app.closeAllConnections();
      app.close();
    }
  });
});

describe('with Redis refusing connections', () => {
  it('idempotency.run fails within storeTimeout, where ioredis alone retried for seconds', { retry: 2 }, async () => {
    // ioredis' defaults: reconnect with backoff, queue commands offline, 20 retries per request.
    const refused = new Redis({ host: '127.0.0.1', port: await freePort(), lazyConnect: false });
    refused.on('error', () => undefined);
    try {
      const idempotency = new Idempotency({ store: new RedisIdempotencyStore(refused), storeTimeout: BOUND_MS });
      const { ms, error } = await timed(() => idempotency.run('k', () => 'ran'));
      expect(isHeadroomError(error, 'SERVICE_UNAVAILABLE')).toBe(true);
      expect(ms).toBeLessThan(BOUND_MS + 50);
    } finally {
      refused.disconnect();
    }
  });
});
