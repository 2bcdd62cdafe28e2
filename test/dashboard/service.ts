/**
 * A small service built from every module, with the dashboard at /dashboard and the metrics at
 * /metrics, plus a bounded load generator. Routes:
 *
 * - `GET /fast`    -> 2-5 ms
 * - `GET /slow`    -> 20-40 ms, through a circuit breaker (`pricing`)
 * - `GET /report`  -> cached for 1 s (`getOrSet`, 30 ms factory)
 * - `POST /orders` -> idempotent (memory store), 10 ms
 *
 * Every request first passes a generous rate limit (`per-client`, never reached by the load).
 * The health checker has a `db` check whose result the test sets (`service.db`).
 */
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createCache, type Cache } from '../../src/cache/index.js';
import { alertRules, dashboardHandler, metricsHandler, type AlertRules, type DashboardHandler } from '../../src/dashboard/index.js';
import { HealthChecker, type CheckResult } from '../../src/health/index.js';
import { compose, requestSignal, shed, toNode } from '../../src/http/index.js';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from '../../src/idempotency/index.js';
import { PercentileTracker, percentileMiddleware } from '../../src/percentiles/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { RateLimiter, rateLimitMiddleware } from '../../src/ratelimit/index.js';
import { CircuitBreaker } from '../../src/resilience/index.js';

/** The parts a test reads or changes. */
export interface Parts {
  tracker: PercentileTracker;
  health: HealthChecker;
  db: { result: CheckResult };
  queue: TaskQueue;
  cache: Cache;
  idempotency: Idempotency;
  alerts: AlertRules;
  breaker: CircuitBreaker;
  limiter: RateLimiter;
  close(): Promise<void>;
}

/** One listening server over {@link Parts}; a restart makes a new one (and a new dashboard). */
export interface Listening {
  url: string;
  port: number;
  dashboard: DashboardHandler;
  close(): Promise<void>;
}

/** The modules, made once per test; `redis` gives the cache an L2 and a bus. */
export function makeParts(redis?: Redis, prefix = 'dash:'): Parts {
  const tracker = new PercentileTracker({ windows: ['1m', '15m'] });
  const health = new HealthChecker({ timeout: '200ms', cacheFor: '250ms', version: '1.0.0' });
  const db = { result: { status: 'pass', observedValue: 1, observedUnit: 'ms' } as CheckResult };
  health.register('db', () => db.result);
  health.register('disk', () => ({ status: 'pass' }), { critical: false });
  const queue = new TaskQueue({ concurrency: 8, maxSize: 16, name: 'http' });
  const cache = createCache({ l1: { maxEntries: 100 }, ...(redis === undefined ? {} : { redis, prefix }) });
  const idempotency = new Idempotency({ store: new MemoryIdempotencyStore({ maxEntries: 1_000 }) });
  const breaker = new CircuitBreaker({ name: 'pricing' });
  const limiter = new RateLimiter({ name: 'per-client', limit: 10_000, window: '1s' });
  const alerts = alertRules({
    percentiles: tracker,
    health,
    rules: [
      { name: 'slow-slow', severity: 'warning', key: 'GET /slow', p99Above: '25ms', for: 0 },
      { name: 'db-down', severity: 'critical', checkFailing: 'db', for: 0 },
    ],
  });
  return {
    tracker,
    health,
    db,
    queue,
    cache,
    idempotency,
    alerts,
    breaker,
    limiter,
    close: async () => {
      await alerts.close();
      await breaker.close();
      await queue.close({ drain: false });
      await cache.close();
      health.close();
      tracker.close();
    },
  };
}

/** Serves `parts` on `port` (0: a free one). */
export async function listen(parts: Parts, port = 0): Promise<Listening> {
  const { tracker, health, queue, cache, idempotency, alerts, breaker, limiter } = parts;
  const sources = {
    percentiles: tracker,
    health,
    cache,
    idempotency,
    queues: { http: queue },
    breakers: { pricing: breaker },
    limiters: { 'per-client': limiter },
  };
  const dashboard = dashboardHandler({ ...sources, alerts, title: 'test service' });
  const metrics = toNode(metricsHandler(sources));
  const page = toNode(dashboard);
  const guard = toNode(
    compose(
      rateLimitMiddleware(limiter, { key: (e) => e.header('x-client-id') ?? 'anonymous' }),
      percentileMiddleware(tracker, { key: (e) => `${e.method} ${e.path}` }),
      shed(queue),
      idempotencyMiddleware(idempotency),
    ),
  );
  const server: Server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/dashboard') return page(req, res);
    if (path === '/metrics') return metrics(req, res);
    guard(req, res, () => {
      const signal = requestSignal(req);
      const work = async (): Promise<void> => {
        if (path === '/fast') await sleep(2 + Math.random() * 3, undefined, { signal });
        else if (path === '/slow') await breaker.execute(({ signal: s }) => sleep(20 + Math.random() * 20, undefined, { signal: s }), { signal });
        else if (path === '/report') await cache.getOrSet('report', ({ signal: s }) => sleep(30, { total: 42 }, { signal: s }), '1s');
        else if (path === '/orders') await sleep(10, undefined, { signal });
        else {
          res.statusCode = 404;
        }
        res.end(res.statusCode === 404 ? 'not found' : 'ok');
      };
      work().catch(() => res.destroy());
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    dashboard,
    close: async () => {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A load generator: `clients` loops sending requests until `stop()`. Bounded by `maxMs`. */
export function load(url: () => string, clients = 4, maxMs = 60_000): { paused: boolean; sent: number; settle(): Promise<void>; stop(): Promise<void> } {
  const state = { paused: false, sent: 0, stopped: false, inFlight: 0 };
  const end = Date.now() + maxMs;
  const loop = async (i: number): Promise<void> => {
    let n = 0;
    while (!state.stopped && Date.now() < end) {
      if (state.paused) {
        await sleep(20);
        continue;
      }
      n++;
      const pick = (i + n) % 4;
      const init: RequestInit | undefined =
        pick === 3 ? { method: 'POST', headers: { 'idempotency-key': `order-${(i * 7 + n) % 20}` }, body: '{}' } : undefined;
      const path = ['/fast', '/slow', '/report', '/orders'][pick] as string;
      state.inFlight++;
      try {
        const res = await fetch(url() + path, { ...init, signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        state.sent++;
      } catch {
        await sleep(50); // the server is restarting
      } finally {
        state.inFlight--;
      }
    }
  };
  const loops = Array.from({ length: clients }, (_, i) => loop(i));
  return {
    get paused() {
      return state.paused;
    },
    set paused(value: boolean) {
      state.paused = value;
    },
    get sent() {
      return state.sent;
    },
    /** Pauses and waits until no request is in flight (and the server has recorded the last). */
    settle: async () => {
      state.paused = true;
      while (state.inFlight > 0) await sleep(10);
      await sleep(100);
    },
    stop: async () => {
      state.stopped = true;
      await Promise.all(loops);
    },
  };
}
