import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HttpExchange } from '../../src/core/index.js';
import { compose, shed } from '../../src/http/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { RateLimiter, RedisRateLimitStore, forwardedClientAddress, rateLimitMiddleware, type RateLimitClock } from '../../src/ratelimit/index.js';
import { KINDS, startApp, type App, type Kind } from '../http/apps.js';
import { eventually } from '../support/async.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';

/** A clock standing still: the budgets in these tests only move when requests spend them. */
const still: RateLimitClock = { now: () => 1_765_000_000_000 };

const byClient = (exchange: HttpExchange): string => exchange.header('x-client') ?? 'anonymous';

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client({ maxRetriesPerRequest: null });
});
afterAll(stopAllRedis);

function get(app: App, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${app.url}${path}`, { headers });
}

describe.each(KINDS)('rateLimitMiddleware on %s', (kind: Kind) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('answers 429 problem+json with Retry-After past the limit, and the RateLimit fields on every answer', async () => {
    const limiter = new RateLimiter({ name: 'per-client', limit: 2, window: '1m', clock: still });
    app = await startApp(kind, rateLimitMiddleware(limiter, { key: byClient }));
    const first = await get(app, '/fast', { 'x-client': 'a' });
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('fast');
    expect(first.headers.get('ratelimit-policy')).toBe('"per-client";q=2;w=60');
    expect(first.headers.get('ratelimit')).toBe('"per-client";r=1;t=30');
    const second = await get(app, '/users/7', { 'x-client': 'a' });
    expect(second.status).toBe(200);
    expect(second.headers.get('ratelimit')).toBe('"per-client";r=0;t=30');

    const refused = await get(app, '/fast', { 'x-client': 'a' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('ratelimit-policy')).toBe('"per-client";q=2;w=60');
    expect(refused.headers.get('ratelimit')).toBe('"per-client";r=0;t=30');
    expect(await refused.json()).toEqual({
      type: 'about:blank',
      title: 'Too Many Requests',
      status: 429,
      code: 'RATE_LIMITED',
      detail: 'Rate limited by per-client; retry in 30 s.',
      'violated-policies': ['per-client'],
    });
    // The refused request never reached the handler; another client has its own budget.
    expect(app.log.handled).toEqual(['/fast', '/users/7']);
    expect((await get(app, '/fast', { 'x-client': 'b' })).status).toBe(200);
  });

  it('spends what cost() says, and skips what skip() says without a header', async () => {
    const limiter = new RateLimiter({ name: 'units', limit: 10, window: '10s', clock: still });
    app = await startApp(
      kind,
      rateLimitMiddleware(limiter, {
        key: byClient,
        cost: (exchange) => (exchange.path.startsWith('/users/') ? 6 : 1),
        skip: (exchange) => exchange.path === '/slow',
        policyName: 'api units',
      }),
    );
    const costly = await get(app, '/users/1');
    expect(costly.headers.get('ratelimit')).toBe('"api units";r=4;t=1');
    expect((await get(app, '/users/2')).status).toBe(429);
    const skipped = await get(app, '/slow');
    expect(skipped.status).toBe(200);
    expect(skipped.headers.get('ratelimit-policy')).toBeNull();
    expect(skipped.headers.get('ratelimit')).toBeNull();
    expect((await get(app, '/fast')).headers.get('ratelimit')).toBe('"api units";r=3;t=1');
  });

  it('checks several limits together, spends on none when one refuses, and lists every policy', async () => {
    const perClient = new RateLimiter({ name: 'per-client', limit: 5, window: '1m', clock: still });
    const perAccount = new RateLimiter({ name: 'per-account', limit: 2, window: '1h', clock: still });
    app = await startApp(
      kind,
      rateLimitMiddleware([
        { limiter: perClient, key: byClient },
        { limiter: perAccount, key: (exchange) => exchange.header('x-account') ?? 'none' },
      ]),
    );
    const headers = { 'x-client': 'c', 'x-account': 'acct' };
    const ok = await get(app, '/fast', headers);
    expect(ok.headers.get('ratelimit-policy')).toBe('"per-client";q=5;w=60, "per-account";q=2;w=3600');
    expect(ok.headers.get('ratelimit')).toBe('"per-client";r=4;t=12, "per-account";r=1;t=1800');
    await get(app, '/fast', headers);
    const refused = await get(app, '/fast', headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1800');
    expect(refused.headers.get('ratelimit')).toBe('"per-client";r=3;t=12, "per-account";r=0;t=1800');
    expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED', 'violated-policies': ['per-account'] });
    expect((await perClient.peek('c')).remaining).toBe(3);
  });

  it('answers 400 INVALID_ARGUMENT for an empty key, and keys by address behind one proxy without trusting a forged X-Forwarded-For', async () => {
    const limiter = new RateLimiter({ name: 'per-ip', limit: 1, window: '1m', clock: still });
    app = await startApp(kind, rateLimitMiddleware(limiter, { key: (exchange) => forwardedClientAddress(exchange, { trustedProxies: 1 }) ?? '' }));
    const noProxy = await get(app, '/fast');
    expect(noProxy.status).toBe(400);
    expect(await noProxy.json()).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(noProxy.headers.get('ratelimit-policy')).toBe('"per-ip";q=1;w=60');
    expect((await get(app, '/fast', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    // The client forges entries on the left; the proxy appended the address it really saw.
    const forged = await get(app, '/fast', { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' });
    expect(forged.status).toBe(429);
    expect((await get(app, '/fast', { 'x-forwarded-for': '203.0.113.9, 192.0.2.44' })).status).toBe(200);
  });

  it("answers 503 SERVICE_UNAVAILABLE (never 429) within storeTimeout when Redis is paused under 'deny', and lets requests through under 'allow'", async () => {
    const store = new RedisRateLimitStore(redis, { prefix: `mw-${kind}:` });
    const deny = new RateLimiter({ name: 'deny', limit: 100, window: '1m', store, storeTimeout: '100ms', onStoreError: 'deny' });
    const allow = new RateLimiter({ name: 'allow', limit: 100, window: '1m', store, storeTimeout: '100ms' });
    app = await startApp(
      kind,
      rateLimitMiddleware([
        { limiter: deny, key: byClient },
        { limiter: allow, key: byClient },
      ]),
    );
    const open = await startApp(kind, rateLimitMiddleware(allow, { key: byClient }));
    try {
      await get(app, '/fast', { 'x-client': 'warm-up' }); // loads the script (a first check costs two round trips)
      expect((await get(app, '/fast')).headers.get('ratelimit')).toBe('"deny";r=99;t=1, "allow";r=99;t=1');
      server.pause();
      // No hang (the tight storeTimeout + 20 ms bound is checked on the limiter, in redis-store.test.ts).
      let started = performance.now();
      const refused = await get(app, '/fast');
      expect(performance.now() - started).toBeLessThan(100 + 1_000);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('ratelimit-policy')).toBe('"deny";q=100;w=60, "allow";q=100;w=60');
      expect(refused.headers.get('ratelimit')).toBeNull();
      expect(await refused.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
      started = performance.now();
      const through = await get(open, '/fast');
      expect(performance.now() - started).toBeLessThan(100 + 1_000);
      expect(through.status).toBe(200);
      expect(through.headers.get('ratelimit-policy')).toBe('"allow";q=100;w=60');
      expect(through.headers.get('ratelimit')).toBeNull();
    } finally {
      server.resume();
      await open.close();
    }
    expect((await get(app, '/fast')).status).toBe(200);
  });

  it('refuses before shed() when composed in front of it: a 429 never takes a queue slot', async () => {
    const limiter = new RateLimiter({ name: 'per-client', limit: 1, window: '1m', clock: still });
    const queue = new TaskQueue({ concurrency: 1, maxSize: 0 });
    app = await startApp(kind, compose(rateLimitMiddleware(limiter, { key: byClient }), shed(queue)));
    const slow = get(app, '/slow', { 'x-client': 'slow' });
    const log = app.log;
    await eventually(() => expect(log.handled).toEqual(['/slow']));
    const limited = await get(app, '/fast', { 'x-client': 'slow' });
    expect(limited.status).toBe(429);
    const shedded = await get(app, '/fast', { 'x-client': 'other' });
    expect(shedded.status).toBe(503);
    expect(await shedded.json()).toMatchObject({ code: 'QUEUE_FULL' });
    expect((await slow).status).toBe(200);
    await queue.close();
  });
});

describe('rateLimitMiddleware options', () => {
  const limiter = new RateLimiter({ limit: 1, window: '1s' });
  it('rejects bad options with INVALID_ARGUMENT naming them', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => rateLimitMiddleware(limiter, undefined as never), 'options'],
      [() => rateLimitMiddleware(limiter, { key: 'ip' as never }), 'options.key'],
      [() => rateLimitMiddleware(limiter, { key: byClient, cost: 2 as never }), 'options.cost'],
      [() => rateLimitMiddleware(limiter, { key: byClient, skip: true as never }), 'options.skip'],
      [() => rateLimitMiddleware(limiter, { key: byClient, policyName: 'naïve' }), 'options.policyName'],
      [() => rateLimitMiddleware(limiter, { key: byClient, policyName: '' }), 'options.policyName'],
      [() => rateLimitMiddleware({} as never, { key: byClient }), 'options.limiter'],
      [() => rateLimitMiddleware([]), 'limits'],
      [
        () =>
          rateLimitMiddleware([
            { limiter, key: byClient },
            { limiter, key: byClient },
          ]),
        'policyName',
      ],
      [() => rateLimitMiddleware([{ limiter: null as never, key: byClient }]), 'limits[0].limiter'],
    ];
    for (const [make, argument] of cases) {
      expect(make, argument).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', argument }));
    }
  });

  it('escapes quotes and backslashes in a policy name as an sf-string', async () => {
    const app = await startApp('node', rateLimitMiddleware(limiter, { key: byClient, policyName: 'say "hi" \\o/' }));
    try {
      const response = await fetch(`${app.url}/fast`);
      expect(response.headers.get('ratelimit-policy')).toBe('"say \\"hi\\" \\\\o/";q=1;w=1');
    } finally {
      await app.close();
    }
  });
});

describe('forwardedClientAddress', () => {
  const exchange = (xff: string | undefined): HttpExchange => ({ header: (name: string) => (name === 'x-forwarded-for' ? xff : undefined) }) as HttpExchange;

  it('reads the entry trustedProxies hops from the right', () => {
    expect(forwardedClientAddress(exchange('198.51.100.1, 203.0.113.9'), { trustedProxies: 1 })).toBe('203.0.113.9');
    expect(forwardedClientAddress(exchange('198.51.100.1, 203.0.113.9, 10.0.0.2'), { trustedProxies: 2 })).toBe('203.0.113.9');
    expect(forwardedClientAddress(exchange('2001:db8::1,10.0.0.2'), { trustedProxies: 2 })).toBe('2001:db8::1');
    expect(forwardedClientAddress(exchange(' 203.0.113.9 '), { trustedProxies: 1 })).toBe('203.0.113.9');
  });

  it('answers undefined when the request did not come through every proxy, and refuses a bad count', () => {
    expect(forwardedClientAddress(exchange(undefined), { trustedProxies: 1 })).toBeUndefined();
    expect(forwardedClientAddress(exchange('203.0.113.9'), { trustedProxies: 2 })).toBeUndefined();
    expect(forwardedClientAddress(exchange('203.0.113.9, '), { trustedProxies: 1 })).toBeUndefined();
    for (const trustedProxies of [0, 1.5, -1, Number.NaN]) {
      expect(() => forwardedClientAddress(exchange('a'), { trustedProxies })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
