/** One metrics endpoint for every source: the figures, the format, and promtool's verdict. */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache, type Cache } from '../../src/cache/index.js';
import { isHeadroomError } from '../../src/core/index.js';
import { metricsHandler, type ServiceMetricsOptions } from '../../src/dashboard/index.js';
import { HealthChecker } from '../../src/health/index.js';
import { toNode } from '../../src/http/index.js';
import { Idempotency, IdempotencyInProgressError, MemoryIdempotencyStore, type IdempotencyStore } from '../../src/idempotency/index.js';
import { PercentileTracker, metricsHandler as trackerMetricsHandler } from '../../src/percentiles/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';

const PROMTOOL = spawnSync('promtool', ['--version']).status === 0;
const NO_PROMTOOL = 'skipped: promtool not found (apt-get install prometheus; .ci/run installs it)';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads the exposition strictly: HELP and TYPE once per family and before its samples. */
function parse(text: string): { samples: Sample[]; types: Map<string, string>; helps: Set<string> } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment !== null) {
      const [, kind, name, rest] = comment as unknown as [string, string, string, string];
      if (kind === 'HELP') {
        expect(helps.has(name), `HELP ${name} twice`).toBe(false);
        helps.add(name);
      } else {
        expect(types.has(name), `TYPE ${name} twice`).toBe(false);
        expect(helps.has(name), `HELP before TYPE ${name}`).toBe(true);
        types.set(name, rest);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, line).not.toBeNull();
    const [, name, rawLabels, value] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const l of (rawLabels ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
    const family = [...types.keys()].find((f) => name === f || name === `${f}_sum` || name === `${f}_count`);
    expect(family, `TYPE before ${name}`).toBeDefined();
    samples.push({ name, labels, value: value === '+Inf' ? Infinity : Number(value) });
  }
  return { samples, types, helps };
}

let redis: RedisServer;
let cache: Cache;
const tracker = new PercentileTracker();
const health = new HealthChecker();
const queue = new TaskQueue({ name: 'jobs', concurrency: 1, maxSize: 1 });
const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
let sources: ServiceMetricsOptions;

beforeAll(async () => {
  redis = await startRedis();
  cache = createCache({ redis: redis.client(), prefix: 'metrics:', l1: { maxEntries: 10 } });
  await new Promise((resolve) => setTimeout(resolve, 100)); // the bus subscribes
  tracker.record('GET /users/:id', 12.5);
  tracker.record('GET /users/:id', 80, { error: true });
  health.register('db', () => true).register('search', () => ({ status: 'fail', output: 'down' }), { critical: false });
  // Cache: one miss (factory), then two L1 hits; two concurrent callers of a new key share one run.
  await cache.getOrSet('a', () => 1);
  await cache.getOrSet('a', () => 1);
  await cache.getOrSet('a', () => 1);
  await Promise.all([cache.getOrSet('b', () => 2), cache.getOrSet('b', () => 2)]);
  // Queue: one running, one waiting, one refused.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const running = queue.add(() => held);
  const waiting = queue.add(() => undefined);
  await queue.add(() => undefined).catch(() => undefined);
  release();
  await Promise.all([running, waiting]);
  // Idempotency: one execution, one replay, one 409.
  let finish!: () => void;
  const first = idempotency.run('k1', () => new Promise<string>((resolve) => (finish = () => resolve('done'))));
  await expect(idempotency.run('k1', () => 'again')).rejects.toBeInstanceOf(IdempotencyInProgressError);
  finish();
  await first;
  await idempotency.run('k1', () => 'again');
  sources = {
    percentiles: tracker,
    cache,
    health,
    idempotency,
    queues: { jobs: queue },
    breakers: { payments: { state: 'open', stats: () => ({ opened: 3, rejected: 9 }) }, search: { state: 'closed' } },
    limiters: { api: { stats: () => ({ allowed: 40, limited: 2 }) } },
  };
});

afterAll(async () => {
  await cache.close();
  health.close();
  tracker.close();
  await stopAllRedis();
});

async function scrape(options: ServiceMetricsOptions): Promise<string> {
  const handle = toNode(metricsHandler(options));
  const server = http.createServer((req, res) => handle(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return await response.text();
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

describe('metricsHandler with an idempotency store that failed', () => {
  it('exports the completion retries, results not stored and compensating releases of Idempotency.stats()', async () => {
    const inner = new MemoryIdempotencyStore();
    let acquireFailures = 1;
    let completeFailures = 1;
    // A real store whose first acquire and first complete fail, as a store does in a failover.
    const store: IdempotencyStore = {
      acquire: (...args) => (acquireFailures-- > 0 ? Promise.reject(new Error('store down')) : inner.acquire(...args)),
      complete: (...args) => (completeFailures-- > 0 ? Promise.reject(new Error('store down')) : inner.complete(...args)),
      renew: (...args) => inner.renew(...args),
      release: (...args) => inner.release(...args),
    };
    const failing = new Idempotency({ store });
    await expect(failing.run('k', () => 'once')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await failing.run('k', () => 'once')).toBe('once');
    const { samples, types } = parse(await scrape({ idempotency: failing }));
    const value = (name: string): number | undefined => samples.find((s) => s.name === name)?.value;
    expect(value('headroom_idempotency_completion_retries_total')).toBe(1);
    expect(value('headroom_idempotency_compensating_releases_total')).toBe(1);
    expect(value('headroom_idempotency_not_stored_total')).toBe(0);
    expect(types.get('headroom_idempotency_completion_retries_total')).toBe('counter');
    expect(failing.stats()).toMatchObject({ completionRetries: 1, compensatingReleases: 1, executions: 1 });
  });
});

describe('metricsHandler with every source', () => {
  it('exports each source as counters and gauges next to the latency summaries', async () => {
    const text = await scrape(sources);
    const { samples, types } = parse(text);
    const value = (name: string, labels: Record<string, string> = {}): number | undefined =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

    // Conventions: counters end in _total and nothing else does; times are in seconds.
    for (const [name, type] of types) {
      if (type === 'counter') expect(name, name).toMatch(/_total$/);
      else expect(name, name).not.toMatch(/_total$/);
      expect(name).toMatch(/^headroom_/);
    }
    expect(types.get('headroom_duration_seconds')).toBe('summary');
    expect(value('headroom_duration_seconds_count', { key: 'GET /users/:id' })).toBe(2);

    const c = cache.stats();
    expect(value('headroom_cache_hits_total', { layer: 'l1' })).toBe(c.l1.hits);
    expect(c.l1.hits).toBe(2);
    expect(value('headroom_cache_misses_total', { layer: 'l2' })).toBe(c.l2.misses);
    expect(value('headroom_cache_factory_runs_total')).toBe(2);
    expect(value('headroom_cache_coalesced_total')).toBe(1);
    expect(value('headroom_cache_bus_connected')).toBe(1);
    expect(value('headroom_cache_breaker_state', { state: 'closed' })).toBe(1);
    expect(value('headroom_cache_breaker_state', { state: 'open' })).toBe(0);

    const q = queue.stats();
    expect(value('headroom_queue_rejected_total', { queue: 'jobs' })).toBe(1);
    expect(value('headroom_queue_started_total', { queue: 'jobs' })).toBe(2);
    expect(value('headroom_queue_wait_seconds_total', { queue: 'jobs' })).toBe(q.totalWaitMs / 1000);
    expect(value('headroom_queue_max_waiting', { queue: 'jobs' })).toBe(1);

    expect(value('headroom_idempotency_executions_total')).toBe(1);
    expect(value('headroom_idempotency_replays_total')).toBe(1);
    expect(value('headroom_idempotency_conflicts_total')).toBe(1);

    expect(value('headroom_health_status', { status: 'degraded' })).toBe(1);
    expect(value('headroom_health_check_status', { check: 'search', status: 'fail' })).toBe(1);
    expect(value('headroom_health_check_status', { check: 'search', status: 'pass' })).toBe(0);
    expect(value('headroom_health_check_status', { check: 'db', status: 'pass' })).toBe(1);
    expect(value('headroom_health_check_duration_seconds', { check: 'db' })).toBeGreaterThanOrEqual(0);

    expect(value('headroom_breaker_state', { breaker: 'payments', state: 'open' })).toBe(1);
    expect(value('headroom_breaker_state', { breaker: 'search', state: 'closed' })).toBe(1);
    expect(value('headroom_breaker_opened_total', { breaker: 'payments' })).toBe(3);
    // A breaker without counters has only its state.
    expect(value('headroom_breaker_opened_total', { breaker: 'search' })).toBeUndefined();
    expect(value('headroom_ratelimit_limited_total', { limiter: 'api' })).toBe(2);
  });

  (PROMTOOL ? it : it.skip)(PROMTOOL ? 'passes promtool check metrics' : `passes promtool check metrics (${NO_PROMTOOL})`, async () => {
    const text = await scrape(sources);
    const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('given a tracker alone, answers as the percentiles metrics handler does', async () => {
    const fromDashboard = toNode(metricsHandler(tracker, { window: '1m' }));
    const fromPercentiles = toNode(trackerMetricsHandler(tracker, { window: '1m' }));
    const bodies: string[] = [];
    for (const handle of [fromDashboard, fromPercentiles]) {
      const server = http.createServer((req, res) => handle(req, res));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      bodies.push(await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)).text());
      server.close();
    }
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).toContain('headroom_duration_seconds_count{key="GET /users/:id"} 2');
  });

  it('rejects bad sources and options with INVALID_ARGUMENT naming them', () => {
    const cases: [() => unknown, string][] = [
      [() => metricsHandler({ cache: {} as never }), 'cache'],
      [() => metricsHandler({ idempotency: { stats: 1 } as never }), 'idempotency'],
      [() => metricsHandler({ breakers: { payments: { state: 'open', stats: 3 } as never } }), 'breakers.payments.stats'],
      [() => metricsHandler({ limiters: { api: { stats: 'allowed' } as never } }), 'limiters.api.stats'],
      [() => metricsHandler({ path: 'metrics' }), 'path'],
      [() => metricsHandler({ percentiles: tracker, latency: { name: 'bad name' } }), 'options.name'],
      [() => metricsHandler({} as never, {} as never), 'options'],
      [() => metricsHandler(null as never), 'sources'],
    ];
    for (const [make, argument] of cases) {
      let error: unknown;
      try {
        make();
      } catch (err) {
        error = err;
      }
      expect(isHeadroomError(error, 'INVALID_ARGUMENT'), argument).toBe(true);
      expect((error as { argument: string }).argument).toBe(argument);
    }
  });
});
