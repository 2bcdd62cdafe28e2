/**
 * The example apps (examples/<framework>/server.ts) cannot rot: each is started as its own
 * process, as the README says to run it, against the test Redis (127.0.0.1:6379, keys under a
 * prefix of this run; a throwaway redis-server when nothing answers there, as on a fresh CI
 * machine) and PostgreSQL (127.0.0.1:5432, db `test`; without it the tests are skipped with a
 * message); real requests check what each route demonstrates, then SIGTERM must end it cleanly
 * (exit code 0) with a dashboard feed open.
 *
 * The apps run side by side (one test each, concurrently). Each listens on PORT=0 and prints the
 * port the system gave it, so no two runs can race for a port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../support/redis.js';

const APPS = ['node-http', 'express', 'fastify', 'koa', 'hono'] as const;
type App = (typeof APPS)[number];

const repoRoot = join(import.meta.dirname, '..', '..');
const run = `headroom-test-examples:${process.pid}-${Date.now()}`;
const RATE_LIMIT = 20;
const DASHBOARD_TOKEN = 'test-dashboard-token';
/** How long a SIGTERM may take to end an app: SHUTDOWN_DELAY (100 ms) plus the drain, with room for a busy machine. */
const EXIT_BOUND_MS = 10_000;

interface Running {
  child: ChildProcess;
  url: string;
  /** stdout and stderr, as they came. */
  output: () => string;
}

/** Starts `examples/<app>/server.ts` and resolves once it printed the URL it listens on. */
async function start(app: App, redisUrl: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${app}/server.ts`], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      KEY_PREFIX: `${run}:${app}:`,
      RATE_LIMIT: String(RATE_LIMIT),
      DASHBOARD_TOKEN,
      SHUTDOWN_DELAY: '100ms',
      REDIS_URL: redisUrl,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
      PRICING_URL: undefined, // the app's own flaky stand-in
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${app} printed no URL within 45 s:\n${output}`)), 45_000);
    const onData = (): void => {
      const match = / listening on (http:\/\/\S+)/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      resolve(match[1]!);
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${app} exited with ${code} before listening:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

let pool: pg.Pool | undefined;
let skipReason = '';
let redisUrl = 'redis://127.0.0.1:6379';
let ownRedis: RedisServer | undefined;

/** Whether the test Redis answers PING on 127.0.0.1:6379. */
async function testRedisAnswers(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
const apps = new Map<App, Promise<Running>>();

beforeAll(async () => {
  const candidate = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 1_000, max: 2 });
  candidate.on('error', () => {});
  try {
    await candidate.query('SELECT 1');
    pool = candidate;
  } catch (err) {
    skipReason = `PostgreSQL not reachable on 127.0.0.1:5432 (user postgres, db test): ${(err as Error).message}`;
    await candidate.end().catch(() => undefined);
    return;
  }
  if (!(await testRedisAnswers())) {
    ownRedis = await startRedis();
    redisUrl = ownRedis.url;
    console.warn(`nothing answers on 127.0.0.1:6379: the examples use a throwaway redis-server at ${redisUrl}`);
  }
  for (const app of APPS) {
    const started = start(app, redisUrl);
    started.catch(() => undefined); // reported by the app's own test
    apps.set(app, started);
  }
});

afterAll(async () => {
  // Whatever a failed test left running.
  for (const started of apps.values()) {
    const app = await started.catch(() => undefined);
    if (app && app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
  }
  if (pool === undefined) return;
  await pool.query('DELETE FROM headroom_example_order WHERE sku LIKE $1', [`${run}%`]).catch(() => undefined);
  await pool.end();
  if (ownRedis !== undefined) {
    await ownRedis.stop();
    return;
  }
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${run}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
  } finally {
    redis.disconnect();
  }
});

describe('example apps', () => {
  it.concurrent.for(APPS)('%s serves every module and exits cleanly on SIGTERM', { timeout: 90_000 }, async (app, ctx) => {
    if (pool === undefined) {
      console.warn(`skipped: ${skipReason}`);
      ctx.skip(skipReason);
      return;
    }
    const { child, url, output } = await apps.get(app)!;
    const get = (path: string, caller: string, headers: Record<string, string> = {}) =>
      fetch(url + path, { headers: { authorization: `Bearer ${caller}`, ...headers } });

    // cache in front of Postgres: the second read is served by the cache
    const first = await get('/products/1', 'reader');
    expect(first.status, output()).toBe(200);
    expect(first.headers.get('x-cache')).toBe('miss');
    const product = await first.json();
    expect(product).toEqual({ id: 1, name: 'kettle', priceCents: expect.any(Number) });
    const second = await get('/products/1', 'reader');
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(await second.json()).toEqual(product);
    expect((await get('/products/404', 'reader')).status).toBe(404);

    // idempotent POST: the same key twice, one order placed, the same answer twice
    const sku = `${run}:${app}`;
    const post = (key: string | undefined, caller: string) =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${caller}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
        body: JSON.stringify({ sku, quantity: 2 }),
      });
    const placed = await post('order-1', 'buyer');
    expect(placed.status, output()).toBe(201);
    const order = (await placed.json()) as { id: string };
    expect(order).toEqual({ id: expect.any(Number), sku, quantity: 2 });
    const retried = await post('order-1', 'buyer');
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(await retried.json()).toEqual(order);
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM headroom_example_order WHERE sku = $1', [sku]);
    expect(rows[0]!.n).toBe(1);
    // the key belongs to its caller: another one with the same key places its own order
    const other = await post('order-1', 'another-buyer');
    expect(other.status).toBe(201);
    expect(((await other.json()) as { id: string }).id).not.toBe(order.id);
    expect((await post(undefined, 'buyer')).status).toBe(400); // Idempotency-Key required

    // rate limit: a burst of RATE_LIMIT per caller, then 429 (the budget refills one request every
    // 60 s / RATE_LIMIT, so on a slow machine a request or two more may get through first)
    let allowed = 0;
    let limited = await get('/products/2', 'greedy');
    while (limited.status === 200 && allowed < RATE_LIMIT + 10) {
      allowed += 1;
      limited = await get('/products/2', 'greedy');
    }
    expect(allowed).toBeGreaterThanOrEqual(RATE_LIMIT);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('ratelimit-policy')).toBe(`"per-caller";q=${RATE_LIMIT};w=60`);
    expect((await get('/products/2', 'polite')).status).toBe(200); // another caller, its own budget

    // a deadline on the slow call: 504, not a 5 s wait
    const slow = await get('/slow', 'patient');
    expect(slow.status).toBe(504);
    expect(await slow.json()).toMatchObject({ status: 504, code: 'OPERATION_TIMEOUT' });

    // shedding: 2 reports at work, 2 waiting, the rest refused at once with Retry-After
    const burst = await Promise.all(Array.from({ length: 12 }, () => get('/report', 'analyst')));
    const statuses = burst.map((r) => r.status).sort();
    expect(statuses, `statuses ${statuses.join(' ')}`).toContain(200);
    expect(statuses).toContain(503);
    expect(
      statuses.every((s) => s === 200 || s === 503),
      `statuses ${statuses.join(' ')}`,
    ).toBe(true);
    const shed = burst.find((r) => r.status === 503)!;
    expect(Number(shed.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await shed.json()).toMatchObject({ code: 'QUEUE_FULL' });
    const report = await burst.find((r) => r.status === 200)!.json();
    expect(report).toEqual({ products: expect.any(Number), averageCents: expect.any(Number) });

    // resilience: the stand-in upstream fails every other call, the retry gets the answer
    const quote = await get('/quote/7', 'shopper');
    expect(quote.status, output()).toBe(200);
    expect(await quote.json()).toEqual({ id: 7, priceCents: 1007, currency: 'EUR' });

    // probes
    expect((await get('/health/live', 'probe')).status).toBe(200);
    const ready = await get('/health/ready', 'probe');
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toContain('application/health+json');

    // one Prometheus scrape with every module's families, routes under their templates
    const metrics = await get('/metrics', 'prometheus');
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    for (const family of [
      'headroom_duration_seconds{key="GET /products/:id"',
      'headroom_cache_hits_total{layer="l1"}',
      'headroom_cache_factory_runs_total',
      'headroom_queue_rejected_total{queue="reports"}',
      'headroom_idempotency_replays_total',
      'headroom_ratelimit_limited_total{limiter="per-caller"}',
      'headroom_breaker_state{breaker="pricing",state="closed"} 1',
      'headroom_health_check_status{check="postgres",status="pass"} 1',
    ]) {
      expect(text, family).toContain(family);
    }
    expect(text).not.toContain('/products/1"'); // never a raw path

    // the dashboard: only with the token
    expect((await get('/dashboard', 'stranger')).status).toBe(403);
    const page = await get('/dashboard', DASHBOARD_TOKEN);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    await page.arrayBuffer();

    // SIGTERM with a dashboard feed open: the feed ends, the app drains and exits with 0
    const feed = new AbortController();
    const events = await fetch(`${url}/dashboard?events`, { headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` }, signal: feed.signal });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const reader = events.body!.getReader();
    await reader.read(); // the feed is open
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const signalledAt = performance.now();
    child.kill('SIGTERM');
    const bound = setTimeout(() => child.kill('SIGKILL'), EXIT_BOUND_MS);
    const [code, signal] = await exited;
    clearTimeout(bound);
    feed.abort();
    expect({ code, signal }, output()).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(EXIT_BOUND_MS);
    expect(output(), 'no stack trace in the output').not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
  });
});
