/**
 * Exactness across processes: 4 processes share one limit in Redis (and, at the same time, 4
 * others in a Redis Cluster), offering 5x the limit for 10 s. GCRA allows at most
 * `burst + limit * elapsed / window` over that time; the admitted total must never exceed it, and
 * fall short of it by at most 1%.
 *
 * Real time is the subject here (the limit refills with Redis' clock), so the test runs for real;
 * both legs run at once, each process in its own Node.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

const WORKER = fileURLToPath(new URL('./fixtures/exactness-worker.ts', import.meta.url));
const PROCESSES = 4;
const LIMIT = 400;
const BURST = 400;
const DURATION_MS = 10_000;

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
  /** What GCRA allows over the widest span the checks can have run in: first sent to last answered. */
  allowedByGcra: number;
  /**
   * What GCRA allows over the span checks were offered in: first sent to last sent. A check is
   * run by Redis after it is sent, so this much was there to be admitted.
   */
  offeredSpanAllows: number;
  offered: number;
  reports: WorkerReport[];
}

function leg(kind: 'redis' | 'cluster', nodes: Array<{ host: string; port: number }>): Worker[] {
  const name = `exact-${kind}-${randomUUID().slice(0, 8)}`;
  return Array.from({ length: PROCESSES }, () =>
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
}

async function outcome(workers: Worker[]): Promise<LegResult> {
  const reports = await Promise.all(workers.map((w) => w.report));
  const firstSent = Math.min(...reports.map((r) => r.firstSent));
  const widest = Math.max(...reports.map((r) => r.lastDone)) - firstSent;
  const offered = Math.max(...reports.map((r) => r.lastSent)) - firstSent;
  return {
    admitted: reports.reduce((sum, r) => sum + r.allowed, 0),
    allowedByGcra: BURST + Math.floor((LIMIT * widest) / 1000),
    offeredSpanAllows: BURST + Math.floor((LIMIT * offered) / 1000),
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

describe('RedisRateLimitStore exactness, 4 processes offering 5x the limit for 10 s', () => {
  it('admits what GCRA allows, never more and at most 1% less, on Redis and on a Cluster', async () => {
    const workers = [leg('redis', [{ host: server.host, port: server.port }]), leg('cluster', cluster.startupNodes)];
    // Every process connected and loaded its script: all start together, shortly.
    await Promise.all(workers.flat().map((w) => w.ready));
    const startAt = Date.now() + 300;
    for (const w of workers.flat()) w.start(startAt);
    const legs = await Promise.all(workers.map(outcome));
    for (const leg of legs) {
      const summary = JSON.stringify({ admitted: leg.admitted, allowedByGcra: leg.allowedByGcra, offeredSpanAllows: leg.offeredSpanAllows, offered: leg.offered });
      for (const report of leg.reports) {
        expect(report.degraded + report.failed, summary).toBe(0);
      }
      // The load was there: about 5x what could be admitted.
      expect(leg.offered, summary).toBeGreaterThan(4 * leg.allowedByGcra);
      expect(leg.admitted, summary).toBeLessThanOrEqual(leg.allowedByGcra);
      expect(leg.admitted, summary).toBeGreaterThanOrEqual(0.99 * leg.offeredSpanAllows);
    }
  }, 60_000);
});
