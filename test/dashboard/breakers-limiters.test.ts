/**
 * headroom's own CircuitBreaker and RateLimiter on the dashboard, as they are (no adapter): their
 * state and counters in the feed's frames and on the metrics endpoint, over real HTTP, with the
 * limiter's store a real Redis that is paused to make its failure counters move.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { dashboardHandler, metricsHandler, type DashboardSources } from '../../src/dashboard/index.js';
import { toNode } from '../../src/http/index.js';
import { RateLimiter, RedisRateLimitStore } from '../../src/ratelimit/index.js';
import { CircuitBreaker } from '../../src/resilience/index.js';
import { startRedis, stopAllRedis } from '../support/redis.js';
import { expectDocumentedFrame, readEvents } from './sse.js';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const NO_PROMTOOL = 'skipped: promtool not found (apt-get install prometheus; .ci/run installs it)';

const payments = new CircuitBreaker({ name: 'payments', trip: { consecutive: 2 }, cooldown: '1m' });
const search = new CircuitBreaker({ name: 'search' });
const legacy = new CircuitBreaker({ name: 'legacy' });
let perIp: RateLimiter;
let perAccount: RateLimiter;
let sources: DashboardSources;
const servers: Server[] = [];

async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer((req, res) => handle(req, res));
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  // Breakers: one open (two failures, then a refusal), one closed after a success, one isolated.
  for (let i = 0; i < 2; i++) await payments.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
  await payments.execute(() => 'refused').catch(() => undefined);
  await search.execute(() => 'ok');
  legacy.isolate();

  // Limiters on one Redis: 3 allowed and 1 refused by the limit, then a store that stops answering.
  // storeTimeout is long enough that a busy machine never times out the takes before the pause.
  const redis = await startRedis();
  const store = new RedisRateLimitStore(redis.client());
  perIp = new RateLimiter({ name: 'per-ip', limit: 3, window: '1m', store, storeTimeout: '1s' });
  perAccount = new RateLimiter({ name: 'per-account', limit: 100, window: '1h', store, storeTimeout: '1s', onStoreError: 'deny' });
  for (let i = 0; i < 4; i++) await perIp.take('203.0.113.7');
  await perAccount.take('account-42');
  redis.pause();
  try {
    expect((await perIp.take('198.51.100.1')).degraded).toBe(true); // 'allow': let through past storeTimeout
    const refused = await perAccount.take('account-42').catch((error: unknown) => error);
    expect(isHeadroomError(refused, 'SERVICE_UNAVAILABLE')).toBe(true);
  } finally {
    redis.resume();
  }
  sources = { breakers: { payments, search, legacy }, limiters: { 'per-ip': perIp, 'per-account': perAccount } };
});

afterAll(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
  await Promise.all([payments.close(), search.close(), legacy.close()]);
  await stopAllRedis();
});

describe("headroom's CircuitBreaker and RateLimiter on the dashboard", () => {
  it('appear in the feed with their state and every counter they keep', async () => {
    const dashboard = dashboardHandler(sources);
    const url = await serve(toNode(dashboard));
    try {
      const { events } = await readEvents(`${url}/dashboard?events`, { ms: 3_000, until: (received) => received.length >= 1 });
      const frame = (events[0] as (typeof events)[number]).frame;
      expectDocumentedFrame(frame);
      expect(frame.breakers).toEqual([
        { name: 'payments', state: 'open', counters: { opened: 1, rejected: 1, successes: 0, failures: 2 } },
        { name: 'search', state: 'closed', counters: { opened: 0, rejected: 0, successes: 1, failures: 0 } },
        { name: 'legacy', state: 'isolated', counters: { opened: 0, rejected: 0, successes: 0, failures: 0 } },
      ]);
      expect(frame.limiters).toEqual([
        { name: 'per-ip', counters: { allowed: 4, limited: 1, degraded: 1, unavailable: 0, storeErrors: 1, storeTimeouts: 1 } },
        { name: 'per-account', counters: { allowed: 1, limited: 0, degraded: 0, unavailable: 1, storeErrors: 1, storeTimeouts: 1 } },
      ]);
    } finally {
      dashboard.close();
    }
  });

  it('export their state sets and counters on the metrics endpoint', async () => {
    const url = await serve(toNode(metricsHandler(sources)));
    const text = await (await fetch(`${url}/metrics`)).text();
    const lines = text.split('\n');
    for (const line of [
      'headroom_breaker_state{breaker="payments",state="open"} 1',
      'headroom_breaker_state{breaker="payments",state="closed"} 0',
      'headroom_breaker_state{breaker="search",state="closed"} 1',
      'headroom_breaker_state{breaker="legacy",state="isolated"} 1',
      'headroom_breaker_state{breaker="legacy",state="open"} 0',
      'headroom_breaker_opened_total{breaker="payments"} 1',
      'headroom_breaker_rejected_total{breaker="payments"} 1',
      'headroom_breaker_failures_total{breaker="payments"} 2',
      'headroom_breaker_successes_total{breaker="search"} 1',
      'headroom_ratelimit_allowed_total{limiter="per-ip"} 4',
      'headroom_ratelimit_limited_total{limiter="per-ip"} 1',
      'headroom_ratelimit_degraded_total{limiter="per-ip"} 1',
      'headroom_ratelimit_store_errors_total{limiter="per-ip"} 1',
      'headroom_ratelimit_store_timeouts_total{limiter="per-ip"} 1',
      'headroom_ratelimit_unavailable_total{limiter="per-account"} 1',
      'headroom_ratelimit_unavailable_total{limiter="per-ip"} 0',
    ]) {
      expect(lines).toContain(line);
    }
    // Every state of every breaker is a sample, so a series never appears out of nowhere.
    expect(lines.filter((line) => line.startsWith('headroom_breaker_state{'))).toHaveLength(3 * 4);
    expect(lines).toContain('# TYPE headroom_ratelimit_store_timeouts_total counter');
  });

  (PROMTOOL ? it : it.skip)(PROMTOOL ? 'pass promtool check metrics' : `pass promtool check metrics (${NO_PROMTOOL})`, async () => {
    const url = await serve(toNode(metricsHandler(sources)));
    const text = await (await fetch(`${url}/metrics`)).text();
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });
});
