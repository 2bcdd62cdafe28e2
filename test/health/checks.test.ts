import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventLoopCheck, HealthChecker, httpCheck, isHeadroomError, memoryCheck, pgCheck, queueCheck, redisCheck } from '../../src/health/index.js';
import { startCluster, startRedis, stopAllRedis } from '../support/redis.js';

afterAll(stopAllRedis);

function expectInvalid(fn: () => unknown, argument: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(isHeadroomError(caught, 'INVALID_ARGUMENT')).toBe(true);
  expect((caught as { argument?: string }).argument).toBe(argument);
}

describe('redisCheck', () => {
  it('passes with the PING round trip, fails within its timeout while Redis is paused, and passes once resumed', async () => {
    const server = await startRedis();
    const redis = server.client();
    await redis.ping();
    const health = new HealthChecker({ cacheFor: 0 }).register('redis', redisCheck(redis), { timeout: 200 });
    try {
      const ok = await health.check();
      expect(ok.checks.redis).toMatchObject({ status: 'pass', observedUnit: 'ms', kind: 'datastore', measurement: 'responseTime' });
      expect(typeof ok.checks.redis?.observedValue).toBe('number');

      server.pause();
      const started = performance.now();
      const paused = await health.check();
      expect(performance.now() - started).toBeLessThan(200 + 150);
      expect(paused.status).toBe('unhealthy');
      expect(paused.checks.redis).toMatchObject({ status: 'fail', output: 'timed out after 200 ms' });
      // The PING is still pending: no second PING is sent while the server is frozen.
      const still = await health.check();
      expect(still.checks.redis?.output).toMatch(/^still running since/);

      server.resume();
      let report = await health.check();
      for (let i = 0; i < 20 && report.status !== 'healthy'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        report = await health.check();
      }
      expect(report.status).toBe('healthy');
      expect(report.checks.redis?.status).toBe('pass');
    } finally {
      server.resume();
      health.close();
    }
  });

  it('asks every master of a Cluster', async () => {
    const cluster = await startCluster();
    const client = cluster.client();
    await client.ping();
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    const health = new HealthChecker({ cacheFor: 0 }).register('redis', redisCheck(client), { timeout: 300 });
    try {
      expect((await health.check()).checks.redis?.status).toBe('pass');

      cluster.nodes[1]!.pause();
      const report = await health.check();
      expect(report.checks.redis).toMatchObject({ status: 'fail', output: `127.0.0.1:${cluster.nodes[1]!.port} did not answer within 200 ms` });
      cluster.nodes[1]!.resume();
    } finally {
      cluster.nodes[1]!.resume();
      health.close();
    }
  });

  it('rejects something that cannot PING', () => {
    expectInvalid(() => redisCheck({} as never), 'redis');
  });
});

describe('pgCheck', () => {
  let pool: pg.Pool | undefined;
  let reason = '';
  beforeAll(async () => {
    const candidate = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 1_000, max: 2 });
    candidate.on('error', () => {});
    try {
      await candidate.query('SELECT 1');
      pool = candidate;
    } catch (err) {
      reason = `PostgreSQL not reachable on 127.0.0.1:5432 (user postgres, db test): ${(err as Error).message}`;
      await candidate.end().catch(() => undefined);
    }
  });
  afterAll(async () => {
    await pool?.end();
  });

  it('passes with SELECT 1 against a real PostgreSQL', async (ctx) => {
    if (pool === undefined) {
      console.warn(`skipped: ${reason}`);
      ctx.skip(reason);
      return;
    }
    const health = new HealthChecker().register('postgres', pgCheck(pool));
    const report = await health.check();
    health.close();
    expect(report.checks.postgres).toMatchObject({ status: 'pass', observedUnit: 'ms', kind: 'datastore' });
  });

  it('fails with the driver error when the query fails', async (ctx) => {
    if (pool === undefined) {
      ctx.skip(reason);
      return;
    }
    const health = new HealthChecker().register('postgres', pgCheck(pool, 'SELECT * FROM no_such_table_for_health'));
    const report = await health.check();
    health.close();
    expect(report.checks.postgres).toMatchObject({ status: 'fail' });
    expect(report.checks.postgres?.output).toMatch(/no_such_table_for_health/);
  });

  it('rejects something without query()', () => {
    expectInvalid(() => pgCheck({} as never), 'pool');
  });
});

describe('queueCheck', () => {
  it('passes, warns and fails as the queue fills towards maxSize', async () => {
    const queue = { size: 0, maxSize: 10 };
    const health = new HealthChecker({ cacheFor: 0 }).register('jobs', queueCheck(queue, { degradedAt: 0.5, unhealthyAt: 0.9 }));
    expect((await health.check()).checks.jobs).toMatchObject({ status: 'pass', observedValue: 0, observedUnit: 'percent', measurement: 'utilization' });
    queue.size = 5;
    expect((await health.check()).checks.jobs).toMatchObject({ status: 'warn', observedValue: 50, output: '5 of 10 tasks waiting (50%)' });
    queue.size = 9;
    const report = await health.check();
    expect(report.checks.jobs).toMatchObject({ status: 'fail', observedValue: 90 });
    expect(report.status).toBe('unhealthy');
    health.close();
  });

  it('always passes for an unbounded queue', async () => {
    const health = new HealthChecker().register('jobs', queueCheck({ size: 1_000_000, maxSize: Infinity }));
    expect((await health.check()).checks.jobs?.status).toBe('pass');
    health.close();
  });

  it('rejects thresholds out of range or out of order', () => {
    expectInvalid(() => queueCheck({ size: 0, maxSize: 1 }, { degradedAt: 2 }), 'degradedAt');
    expectInvalid(() => queueCheck({ size: 0, maxSize: 1 }, { degradedAt: 0.9, unhealthyAt: 0.5 }), 'degradedAt');
    expectInvalid(() => queueCheck({ length: 3 } as never), 'queue');
  });
});

describe('eventLoopCheck', () => {
  it('enables its histogram lazily, warns on a blocked loop, and is disabled by close()', async () => {
    const check = eventLoopCheck({ degradedAtMs: 50, unhealthyAtMs: 5_000, resolutionMs: 10 });
    const health = new HealthChecker({ cacheFor: 0, timeout: '2s' }).register('loop', check, { critical: false });
    expect((await health.check()).checks.loop?.status).toBe('pass'); // first run: sampling starts
    await new Promise((resolve) => setTimeout(resolve, 30));
    const blockUntil = Date.now() + 150;
    while (Date.now() < blockUntil) {
      // block the event loop
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const report = await health.check();
    expect(report.checks.loop).toMatchObject({ status: 'warn', observedUnit: 'ms', kind: 'system', measurement: 'eventLoopDelay' });
    expect(report.checks.loop?.observedValue as number).toBeGreaterThanOrEqual(50);
    expect(report.status).toBe('degraded');
    health.close();
    // After close the histogram is gone: the next direct call starts sampling afresh.
    expect(check(new AbortController().signal)).toEqual({ status: 'pass', output: 'sampling started' });
    check.close?.();
  });

  it('rejects thresholds out of order', () => {
    expectInvalid(() => eventLoopCheck({ degradedAtMs: 500, unhealthyAtMs: 100 }), 'degradedAtMs');
    expectInvalid(() => eventLoopCheck({ degradedAtMs: -1 }), 'degradedAtMs');
  });
});

describe('memoryCheck', () => {
  it('reports heap utilization and warns above degradedAtRatio', async () => {
    const health = new HealthChecker({ cacheFor: 0 })
      .register('memory', memoryCheck({ degradedAtRatio: 0.999 }))
      .register('tight', memoryCheck({ degradedAtRatio: 0 }), { critical: false });
    const report = await health.check();
    expect(report.checks.memory).toMatchObject({ status: 'pass', observedUnit: 'percent', measurement: 'utilization' });
    expect(report.checks.tight?.status).toBe('warn');
    expect(report.checks.tight?.output).toMatch(/^heap \d+ MB of \d+ MB/);
    health.close();
  });

  it('rejects a ratio out of range', () => {
    expectInvalid(() => memoryCheck({ degradedAtRatio: 1.5 }), 'degradedAtRatio');
  });
});

describe('httpCheck', () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.end('fine');
      else if (req.url === '/teapot') res.writeHead(418).end();
      else if (req.url === '/hang') {
        // never answers
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Node loads its fetch implementation on first use, which takes a while on a loaded machine.
    await (await fetch(`${base}/ok`)).text();
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes on 2xx, fails on another status, honours expectStatus, and aborts a hanging request', async () => {
    const health = new HealthChecker({ cacheFor: 0, timeout: '2s' })
      .register('ok', httpCheck(`${base}/ok`))
      .register('teapot', httpCheck(`${base}/teapot`), { critical: false })
      .register('expected', httpCheck(`${base}/teapot`, { expectStatus: [418] }))
      .register('hang', httpCheck(`${base}/hang`), { critical: false, timeout: 150 })
      .register('own', httpCheck(`${base}/hang`, { timeout: 50 }), { critical: false });
    const report = await health.check();
    expect(report.checks.ok).toMatchObject({ status: 'pass', observedUnit: 'ms', measurement: 'responseTime' });
    expect(report.checks.teapot).toMatchObject({ status: 'fail', output: `GET ${base}/teapot answered 418` });
    expect(report.checks.expected?.status).toBe('pass');
    expect(report.checks.hang).toMatchObject({ status: 'fail', output: 'timed out after 150 ms' });
    expect(report.checks.own?.output).toBe(`GET ${base}/hang timed out after 50 ms`);
    // The fetch was aborted, so once the abort settled it, the next run calls it again instead
    // of reporting "still running" (give a loaded machine a moment for the abort to land).
    let again = await health.check();
    for (let i = 0; i < 20 && again.checks.hang?.output?.startsWith('still running') === true; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      again = await health.check();
    }
    expect(again.checks.hang?.output).toBe('timed out after 150 ms');
    health.close();
  });

  it('rejects a bad URL or expectStatus', () => {
    expectInvalid(() => httpCheck('not a url'), 'url');
    expectInvalid(() => httpCheck('ftp://example.com'), 'url');
    expectInvalid(() => httpCheck('http://example.com', { expectStatus: 99 }), 'expectStatus');
  });
});
