/** The dashboard's feed over real HTTP on loopback (node:http), and its frames. */
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { createCache } from '../../src/cache/index.js';
import { alertRules, dashboardHandler, type DashboardHandler, type DashboardOptions } from '../../src/dashboard/index.js';
import { FrameBuilder } from '../../src/dashboard/frame.js';
import { resolveSources } from '../../src/dashboard/sources.js';
import { HealthChecker } from '../../src/health/index.js';
import { toNode } from '../../src/http/index.js';
import { Idempotency, MemoryIdempotencyStore } from '../../src/idempotency/index.js';
import { PercentileTracker } from '../../src/percentiles/index.js';
import { TaskQueue, type TaskContext } from '../../src/queue/index.js';
import { eventually } from '../support/async.js';
import { expectDocumentedFrame, readEvents } from './sse.js';

const open: { server: Server; dashboard: DashboardHandler }[] = [];
afterEach(async () => {
  for (const { server, dashboard } of open.splice(0)) {
    dashboard.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  vi.restoreAllMocks();
  vi.useRealTimers();
});

async function serve(options: DashboardOptions): Promise<{ url: string; dashboard: DashboardHandler }> {
  const dashboard = dashboardHandler(options);
  const handle = toNode(dashboard);
  const server = http.createServer((req, res) => handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push({ server, dashboard });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dashboard`, dashboard };
}

describe('dashboard feed', () => {
  it('sends one event per second with the documented JSON to a client reading it for 5 s', async () => {
    const tracker = new PercentileTracker();
    for (let i = 1; i <= 200; i++) tracker.record('GET /users/:id', i / 4, { error: i % 50 === 0 });
    const health = new HealthChecker({ cacheFor: 0 });
    health.register('db', () => ({ status: 'warn', output: 'slow replica' }));
    const queue = new TaskQueue({ name: 'jobs', maxSize: 5 });
    const cache = createCache({ l1: { maxEntries: 10 } });
    const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
    const alerts = alertRules({ percentiles: tracker, rules: [{ name: 'slow', severity: 'warning', p99Above: 10, for: 0 }] });
    alerts.evaluate();
    const { url } = await serve({
      percentiles: tracker,
      health,
      queues: { jobs: queue },
      cache,
      idempotency,
      alerts,
      breakers: { payments: { state: 'half-open', stats: () => ({ opened: 2, rejected: 7 }) } },
      limiters: { api: { stats: () => ({ allowed: 10, limited: 1 }) } },
    });
    try {
      const { status, headers, events, retry } = await readEvents(`${url}?events`, { ms: 5_000 });
      expect(status).toBe(200);
      expect(headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(headers.get('cache-control')).toBe('no-store, no-transform');
      expect(retry).toBe(1_000);
      // The first frame comes at once, then one a second: 5 in 5 s (a 6th may squeeze in at the end).
      expect(events.length).toBeGreaterThanOrEqual(5);
      expect(events.length).toBeLessThanOrEqual(6);
      const gaps = events.slice(1).map((e, i) => e.frame.time - (events[i] as (typeof events)[number]).frame.time);
      for (const gap of gaps) expect(Math.abs(gap - 1_000)).toBeLessThan(150);
      expect(events.map((e) => Number(e.id))).toEqual(events.map((_, i) => i + 1));

      const frame = (events.at(-1) as (typeof events)[number]).frame;
      expectDocumentedFrame(frame);
      const stats = tracker.stats('GET /users/:id');
      expect(frame.window).toBe('1m');
      expect(frame.routes).toEqual([
        {
          key: 'GET /users/:id',
          requestsPerSec: expect.any(Number),
          count: 200,
          p50: stats.p50,
          p95: stats.p95,
          p99: stats.p99,
          errors: 4,
          errorRatio: 4 / 200,
          shed: 0,
          timedOut: 0,
        },
      ]);
      expect(frame.health).toEqual({
        status: 'degraded',
        message: 'degraded: db warned',
        checks: [{ name: 'db', status: 'warn', durationMs: expect.any(Number), output: 'slow replica', critical: true }],
      });
      expect(frame.queues).toEqual([{ name: 'jobs', waiting: 0, running: 0, concurrency: 1, maxSize: 5, rejected: 0, rejectedPerSec: 0, avgWaitMs: null }]);
      expect(frame.cache).toMatchObject({ breaker: 'closed', busConnected: null, factoryRuns: 0, l1HitRatio: null });
      expect(frame.idempotency).toEqual({
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
      expect(frame.breakers).toEqual([{ name: 'payments', state: 'half-open', counters: { opened: 2, rejected: 7 } }]);
      expect(frame.limiters).toEqual([{ name: 'api', counters: { allowed: 10, limited: 1 } }]);
      expect(frame.alerts).toMatchObject([{ rule: 'slow', subject: 'GET /users/:id', value: stats.p99, threshold: 10 }]);
    } finally {
      await alerts.close();
      await cache.close();
      health.close();
      tracker.close();
    }
  }, 15_000);

  it('closes the stream when the client goes away, and its timer with the last client', async () => {
    const setSpy = vi.spyOn(globalThis, 'setInterval');
    const clearSpy = vi.spyOn(globalThis, 'clearInterval');
    const { url, dashboard } = await serve({ interval: 333 });
    const feedTimers = (): unknown[] => setSpy.mock.calls.flatMap((call, i) => (call[1] === 333 ? [setSpy.mock.results[i]?.value as unknown] : []));

    const first = readEvents(`${url}?events`, { ms: 5_000, until: (events) => events.length >= 3 });
    await eventually(() => expect(dashboard.clients).toBe(1));
    const second = await readEvents(`${url}?events`, { ms: 5_000, until: (events) => events.length >= 1 });
    expect(second.events).toHaveLength(1);
    // The second page shared the first one's timer, and leaving did not stop it.
    expect(feedTimers()).toHaveLength(1);
    await eventually(() => expect(dashboard.clients).toBe(1));
    expect(clearSpy.mock.calls.map((c) => c[0])).not.toContain(feedTimers()[0]);

    expect((await first).events).toHaveLength(3);
    await eventually(() => expect(dashboard.clients).toBe(0));
    expect(clearSpy.mock.calls.map((c) => c[0])).toContain(feedTimers()[0]);
  });

  it('ends open streams on close() and answers 503 afterwards', async () => {
    const { url, dashboard } = await serve({ interval: 250 });
    const reading = readEvents(`${url}?events`, { ms: 5_000 });
    await eventually(() => expect(dashboard.clients).toBe(1));
    const started = Date.now();
    dashboard.close();
    const { events } = await reading;
    expect(Date.now() - started).toBeLessThan(2_000); // ended by close(), not by the 5 s bound
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(dashboard.clients).toBe(0);
    const later = await fetch(url);
    expect(later.status).toBe(503);
    expect(await later.json()).toMatchObject({ code: 'CLOSED' });
  });

  it('refuses a feed beyond maxClients with 503 and Retry-After', async () => {
    const { url, dashboard } = await serve({ maxClients: 1, interval: 250 });
    const first = readEvents(`${url}?events`, { ms: 3_000, until: (events) => events.length >= 2 });
    await eventually(() => expect(dashboard.clients).toBe(1));
    const refused = await fetch(`${url}?events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect((await first).events).toHaveLength(2);
    // The page itself is still served.
    expect((await fetch(url)).status).toBe(200);
  });

  it('answers 403 FORBIDDEN when authorize says no, for the page and the feed alike', async () => {
    const seen: string[] = [];
    const { url } = await serve({
      authorize: async (exchange) => {
        seen.push(exchange.url);
        return exchange.header('authorization') === 'Bearer let-me-in';
      },
    });
    for (const target of [url, `${url}?events`]) {
      const denied = await fetch(target);
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toBe('application/problem+json');
      expect(await denied.json()).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    const allowed = await fetch(url, { headers: { authorization: 'Bearer let-me-in' } });
    expect(allowed.status).toBe(200);
    expect(seen).toEqual(['/dashboard', '/dashboard?events', '/dashboard']);
  });

  it('shows nothing when authorize throws: the error goes to the framework', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { url } = await serve({
      authorize: () => {
        throw new Error('token service down');
      },
    });
    const answer = await fetch(url);
    expect(answer.status).toBe(500);
    expect(await answer.text()).not.toContain('<html');
    expect(errors).toHaveBeenCalled();
  });

  it('rejects bad options with INVALID_ARGUMENT naming them', () => {
    const tracker = new PercentileTracker({ windows: ['1m', '5m'] });
    const cases: [unknown, string][] = [
      [{ percentiles: {} }, 'percentiles'],
      [{ queues: { jobs: {} } }, 'queues.jobs'],
      [{ queues: [] }, 'queues'],
      [{ breakers: { b: { state: 1 } } }, 'breakers.b'],
      [{ breakers: { b: { state: 'closed', stats: { opened: 1 } } } }, 'breakers.b.stats'],
      [{ breakers: { b: { state: 'closed', stats: null } } }, 'breakers.b.stats'],
      [{ limiters: { l: null } }, 'limiters.l'],
      [{ limiters: { l: {} } }, 'limiters.l.stats'],
      [{ limiters: { l: { stats: { allowed: 1 } } } }, 'limiters.l.stats'],
      [{ health: { latest() {} } }, 'health'],
      [{ alerts: {} }, 'alerts'],
      [{ title: '' }, 'title'],
      [{ authorize: 'yes' }, 'authorize'],
      [{ path: 'dashboard' }, 'path'],
      [{ interval: '100ms' }, 'interval'],
      [{ maxClients: 0 }, 'maxClients'],
      [{ maxRoutes: 1.5 }, 'maxRoutes'],
      [{ percentiles: tracker, window: '10m' }, 'window'],
    ];
    for (const [options, argument] of cases) {
      let error: unknown;
      try {
        dashboardHandler(options as DashboardOptions);
      } catch (err) {
        error = err;
      }
      expect(isHeadroomError(error, 'INVALID_ARGUMENT'), argument).toBe(true);
      expect((error as { argument: string }).argument).toBe(argument);
    }
    expect(() => dashboardHandler({ percentiles: tracker, window: '5m' })).not.toThrow();
    tracker.close();
  });
});

describe('dashboard frames', () => {
  it('turns queue and cache counters into rates and ratios over the last 10 s', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date'] });
    const queue = new TaskQueue({ name: 'jobs', concurrency: 1, maxSize: 0 });
    const cache = createCache({ l1: { maxEntries: 10 } });
    const builder = new FrameBuilder({
      sources: resolveSources({ queues: { jobs: queue }, cache }),
      alerts: undefined,
      window: {},
      windowLabel: null,
      intervalMs: 1_000,
      maxRoutes: 50,
    });
    try {
      // The first task holds the slot until close(); with maxSize 0 every other is refused.
      const hold = ({ signal }: TaskContext): Promise<never> => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      const refuse = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) await queue.add(hold).catch(() => undefined);
      };
      queue.add(hold).catch(() => undefined);
      const first = await builder.build();
      expect(first.queues[0]).toMatchObject({ rejected: 0, rejectedPerSec: 0 });

      await refuse(10);
      vi.advanceTimersByTime(2_000);
      expect((await builder.build()).queues[0]).toMatchObject({ rejected: 10, rejectedPerSec: 5 });

      // 10 s later the early refusals have left the span.
      vi.advanceTimersByTime(10_000);
      await refuse(4);
      vi.advanceTimersByTime(1_000);
      const late = await builder.build();
      expect(late.queues[0]?.rejected).toBe(14);
      expect(late.queues[0]?.rejectedPerSec).toBeCloseTo(4 / 11, 6);

      await cache.getOrSet('a', () => 1);
      await cache.getOrSet('a', () => 1);
      await cache.getOrSet('a', () => 1);
      vi.advanceTimersByTime(1_000);
      expect((await builder.build()).cache).toMatchObject({ l1HitRatio: 2 / 3, l2HitRatio: null, factoryRuns: 1 });
    } finally {
      await queue.close({ drain: false });
      await cache.close();
    }
  });

  it('averages the wait of the tasks started since the span began', async () => {
    const queue = new TaskQueue({ name: 'jobs', concurrency: 1 });
    const builder = new FrameBuilder({
      sources: resolveSources({ queues: { jobs: queue } }),
      alerts: undefined,
      window: {},
      windowLabel: null,
      intervalMs: 1_000,
      maxRoutes: 50,
    });
    await queue.add(() => undefined); // before the first frame: outside the span
    expect((await builder.build()).queues[0]?.avgWaitMs).toBeNull();
    const pause = (ms: number) => () => new Promise((resolve) => setTimeout(resolve, ms));
    await Promise.all([queue.add(pause(40)), queue.add(pause(1)), queue.add(pause(1))]);
    const { started, totalWaitMs } = queue.stats();
    expect(started).toBe(4);
    expect(totalWaitMs).toBeGreaterThanOrEqual(70); // the 2nd waited ~40 ms, the 3rd ~41 ms
    const avg = (await builder.build()).queues[0]?.avgWaitMs as number;
    expect(avg).toBeCloseTo(totalWaitMs / 3, 6);
  });

  it('shows the busiest maxRoutes routes, in key order', async () => {
    const tracker = new PercentileTracker();
    for (const [key, n] of [
      ['GET /c', 5],
      ['GET /a', 1],
      ['GET /b', 9],
      ['GET /d', 7],
    ] as const) {
      for (let i = 0; i < n; i++) tracker.record(key, 1);
    }
    const builder = new FrameBuilder({
      sources: resolveSources({ percentiles: tracker }),
      alerts: undefined,
      window: {},
      windowLabel: '1m',
      intervalMs: 1_000,
      maxRoutes: 2,
    });
    expect((await builder.build()).routes.map((r) => r.key)).toEqual(['GET /b', 'GET /d']);
    tracker.close();
  });
});
