import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { HealthChecker, isHeadroomError, redisCheck, type HealthReport } from '../../src/health/index.js';
import { startCluster, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

let cluster: RedisCluster;
let client: Cluster;
const killed: RedisServer[] = [];
const checkers: HealthChecker[] = [];

beforeAll(async () => {
  cluster = await startCluster({ replicas: 1, nodeTimeout: 1_000 });
  client = cluster.client();
  await client.ping();
}, 60_000);
afterEach(async () => {
  for (const checker of checkers.splice(0)) checker.close();
  for (const node of cluster.nodes) if (node.isPaused) node.resume();
  for (const node of killed.splice(0)) await cluster.rejoin(node);
  await cluster.waitForState();
}, 60_000);
afterAll(stopAllRedis);

function checker(options: Parameters<typeof redisCheck>[1] = {}): HealthChecker {
  const health = new HealthChecker({ cacheFor: 0 }).register('redis', redisCheck(client, options), { timeout: 500 });
  checkers.push(health);
  return health;
}

/** Polls readiness every 50 ms from `since` until it has been `healthy` again for a while. */
async function timeline(health: HealthChecker, since: number): Promise<Array<{ at: number; report: HealthReport }>> {
  const seen: Array<{ at: number; report: HealthReport }> = [];
  let sawTrouble = false;
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const report = await health.check();
    seen.push({ at: Date.now() - since, report });
    if (report.status !== 'healthy') sawTrouble = true;
    else if (sawTrouble && seen.slice(-3).every((s) => s.report.status === 'healthy')) return seen;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`readiness did not recover: ${JSON.stringify(seen.slice(-3).map((s) => s.report.checks.redis))}`);
}

describe('redisCheck on a 3 + 3 Cluster', () => {
  it('passes while every master answers and the cluster is ok, with the slowest answer', async () => {
    const report = await checker().check();
    expect(report.status).toBe('healthy');
    expect(report.checks.redis).toMatchObject({ status: 'pass', observedUnit: 'ms' });
    expect(typeof report.checks.redis?.observedValue).toBe('number');
  });

  it('fails from the death of a master until its replica took over, then passes again', async () => {
    const health = checker();
    const master = (await cluster.masters())[0] as RedisServer;
    const killedAt = Date.now();
    await master.kill();
    killed.push(master);
    const seen = await timeline(health, killedAt);
    const firstFail = seen.find((s) => s.report.status === 'unhealthy');
    const recovered = seen.findLast((s, i) => s.report.status === 'healthy' && seen[i - 1]?.report.status !== 'healthy');
    expect(firstFail).toBeDefined();
    expect(seen[0]!.report.status).toBe('unhealthy'); // the first check after the kill already sees it
    // No pass while the slots of the dead master were not served yet.
    const firstPass = seen.findIndex((s) => s.report.status === 'healthy');
    expect(seen.slice(firstPass).every((s) => s.report.status === 'healthy')).toBe(true);
    const outputs = [...new Set(seen.filter((s) => s.report.status !== 'healthy').map((s) => s.report.checks.redis?.output?.replace(/\d+/g, 'N')))];
    console.info(`readiness: first fail ${firstFail!.at} ms after the kill, healthy again at ${recovered!.at} ms; outputs ${JSON.stringify(outputs)}`);
    expect(outputs.some((o) => o?.includes('cluster_state:fail'))).toBe(true);
  });

  it("with partial: 'warn', stays ready but degraded while a master fails over", async () => {
    const health = checker({ partial: 'warn' });
    const master = (await cluster.masters())[1] as RedisServer;
    const killedAt = Date.now();
    await master.kill();
    killed.push(master);
    const seen = await timeline(health, killedAt);
    expect(seen.some((s) => s.report.status === 'degraded')).toBe(true);
    expect(seen.every((s) => s.report.status !== 'unhealthy' && s.report.healthy)).toBe(true);
  });

  it('reports a hung master within masterTimeout instead of timing out as a whole', async () => {
    const master = (await cluster.masters())[2] as RedisServer;
    const health = checker({ partial: 'warn', masterTimeout: 100 });
    master.pause();
    const started = performance.now();
    const report = await health.check();
    expect(performance.now() - started).toBeLessThan(100 + 300);
    expect(report.status).toBe('degraded');
    expect(report.checks.redis).toMatchObject({ status: 'warn', output: expect.stringContaining(`127.0.0.1:${master.port} did not answer within 100 ms`) });
    master.resume();
  });

  it('fails whatever partial says when no master answers', async () => {
    const health = checker({ partial: 'warn', masterTimeout: 100 });
    const masters = await cluster.masters();
    for (const master of masters) master.pause();
    const report = await health.check();
    for (const master of masters) master.resume();
    expect(report.checks.redis).toMatchObject({ status: 'fail', output: expect.stringMatching(/^no cluster master answered/) });
  });

  it('rejects a bad option with INVALID_ARGUMENT', () => {
    for (const [options, argument] of [
      [{ partial: 'degraded' }, 'options.partial'],
      [{ masterTimeout: -1 }, 'options.masterTimeout'],
    ] as const) {
      let caught: unknown;
      try {
        redisCheck(client, options as never);
      } catch (error) {
        caught = error;
      }
      expect(isHeadroomError(caught, 'INVALID_ARGUMENT')).toBe(true);
      expect((caught as { argument?: string }).argument).toBe(argument);
    }
  });
});
