/**
 * Exactness across processes: 4 processes share one limit in Redis (and, at the same time, 4
 * others in a Redis Cluster), offering 5x the limit for 5 s. The budget is spent to the last unit
 * just before the start, so what GCRA admits from then on is the refill: `limit * elapsed / window`
 * (to the unit) for as long as checks keep coming. The admitted total must never exceed it, and
 * fall short of it by at most the rounding of its two ends.
 *
 * Real time is the subject here (the limit refills with Redis' clock), so the test runs for real;
 * both legs run at once, each process in its own Node. It does not depend on the machine's load:
 * the burst is larger than the whole run's refill, so the budget cannot fill up and overflow while
 * a stalled machine sends nothing, and the workers send what they owe when they wake up; the
 * bounds come from the times the checks were sent and answered, whatever they were.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter, RedisRateLimitStore } from '../../src/ratelimit/index.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

const WORKER = fileURLToPath(new URL('./fixtures/exactness-worker.ts', import.meta.url));
const PROCESSES = 4;
const LIMIT = 100;
const DURATION_MS = 5_000;
/** More than the whole run refills: however long the machine stalls, the budget never overflows. */
const BURST = 2 * LIMIT * (DURATION_MS / 1000);
/** Units the rounding at the two ends of the span can account for (a part-unit each, plus one). */
const ROUNDING = 2;

interface WorkerReport {
  allowed: number;
  refused: number;
  degraded: number;
  failed: number;
  firstSent: number;
  lastSent: number;
  lastDone: number;
}

interface Worker {
  ready: Promise<void>;
  report: Promise<WorkerReport>;
  start(at: number): void;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), DURATION_MS + 40_000);
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code !== 0) reject(new Error(`exactness worker exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as WorkerReport);
    });
  });
  return { ready: Promise.race([ready, report.then(() => undefined)]), report, start: (at) => child.stdin.end(`${at}\n`) };
}

interface LegResult {
  admitted: number;
  /** What GCRA refills over the widest span the checks can have run in: the prime sent to the last answer. */
  mostAllowed: number;
  /**
   * What GCRA refills over the narrowest span: the prime answered to the last check sent (Redis
   * ran that check after it was sent, when at least this much had been refilled).
   */
  leastAllowed: number;
  offered: number;
  reports: WorkerReport[];
}

interface Leg {
  name: string;
  workers: Worker[];
  /** Spends the whole budget at once; resolves with the wall times it was sent and answered. */
  prime(): Promise<{ sent: number; done: number }>;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

function leg(kind: 'redis' | 'cluster', nodes: Array<{ host: string; port: number }>, client: RedisServer | RedisCluster): Leg {
  const name = `exact-${kind}-${randomUUID().slice(0, 8)}`;
  const workers = Array.from({ length: PROCESSES }, () =>
    startWorker({
      REDIS_KIND: kind,
      REDIS_NODES: JSON.stringify(nodes),
      NAME: name,
      LIMIT: String(LIMIT),
      BURST: String(BURST),
      DURATION_MS: String(DURATION_MS),
      RATE: String((5 * LIMIT) / PROCESSES),
    }),
  );
  const limiter = new RateLimiter({
    name,
    limit: LIMIT,
    window: '1s',
    burst: BURST,
    storeTimeout: '2s',
    onStoreError: 'deny',
    store: new RedisRateLimitStore(client.client(), { prefix: 'exact:' }),
  });
  const prime = async (): Promise<{ sent: number; done: number }> => {
    const sent = wallNow();
    const result = await limiter.take('shared', { cost: BURST });
    if (!result.allowed || result.degraded || result.remaining !== 0) throw new Error(`the prime did not spend the budget: ${JSON.stringify(result)}`);
    return { sent, done: wallNow() };
  };
  return { name, workers, prime };
}

async function outcome(leg: Leg, prime: { sent: number; done: number }): Promise<LegResult> {
  const reports = await Promise.all(leg.workers.map((w) => w.report));
  const lastDone = Math.max(...reports.map((r) => r.lastDone));
  const lastSent = Math.max(...reports.map((r) => r.lastSent));
  return {
    admitted: reports.reduce((sum, r) => sum + r.allowed, 0),
    mostAllowed: Math.floor((LIMIT * (lastDone - prime.sent)) / 1000),
    leastAllowed: Math.floor((LIMIT * (lastSent - prime.done)) / 1000),
    offered: reports.reduce((sum, r) => sum + r.allowed + r.refused, 0),
    reports,
  };
}

let server: RedisServer;
let cluster: RedisCluster;
beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startCluster()]);
});
afterAll(stopAllRedis);

describe('RedisRateLimitStore exactness, 4 processes offering 5x the limit for 5 s', () => {
  it('admits what GCRA refills, never more and less only by rounding, on Redis and on a Cluster', async () => {
    const legs = [leg('redis', [{ host: server.host, port: server.port }], server), leg('cluster', cluster.startupNodes, cluster)];
    // Every process connected and loaded its script: all start together, shortly.
    await Promise.all(legs.flatMap((l) => l.workers).map((w) => w.ready));
    const primes = await Promise.all(legs.map((l) => l.prime()));
    const startAt = Date.now() + 300;
    for (const w of legs.flatMap((l) => l.workers)) w.start(startAt);
    const results = await Promise.all(legs.map((l, i) => outcome(l, primes[i]!)));
    for (const result of results) {
      const summary = JSON.stringify({
        admitted: result.admitted,
        mostAllowed: result.mostAllowed,
        leastAllowed: result.leastAllowed,
        offered: result.offered,
      });
      for (const report of result.reports) {
        expect(report.degraded + report.failed, summary).toBe(0);
      }
      // The load was there: about 5x what could be admitted.
      expect(result.offered, summary).toBeGreaterThan(4 * result.mostAllowed);
      expect(result.admitted, summary).toBeLessThanOrEqual(result.mostAllowed + 1);
      expect(result.admitted, summary).toBeGreaterThanOrEqual(result.leastAllowed - ROUNDING);
    }
  }, 60_000);
});
