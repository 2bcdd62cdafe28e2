/**
 * Cache benchmark: headroom's createCache against the caches a user would pick instead, measured
 * in the same process and the same run.
 *
 *   node --expose-gc --import tsx bench/cache.ts
 *
 * 1. L1 hit through getOrSet (1,000 warm keys, one caller awaiting each call).
 * 2. L2 hit (no L1, 1,000 keys in Redis, 64 concurrent callers).
 *    2b. The same against raw ioredis on each ioredis major (5, 6 with RESP3, 6 with RESP2).
 * 3. Stampede: 1,000 concurrent cold getOrSet of one key, in one process, then across four
 *    processes sharing Redis: factory calls counted.
 *
 * Redis is a throwaway redis-server on a free port started here (never 6379). Peers are
 * interleaved over several rounds in a rotated order; each figure is a median, each ratio the
 * median of per-round ratios (short batches, many rounds: the machine is shared and noisy).
 * Environment: BENCH_ROUNDS (default 11), BENCH_MS (time per peer per round for L1, default 120;
 * L2 uses 1.5x that), BENCH_ONLY (a comma-separated subset of `l1,l2,majors,stampede`; default all).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { startRedis, stopAllRedis } from '../test/support/redis.js';
import {
  bentoMemory,
  bentoMemoryRedis,
  bentoRedis,
  cacheableMemory,
  cacheManagerMemory,
  cacheManagerRedis,
  lruFloor,
  sampleValue,
  type Peer,
} from './cache-peers.js';
import { headroomPeer } from './cache-headroom.js';
import type { CacheRedis } from '../src/cache/index.js';
import { fmtOps, fmtRatio, fmtUs, gc, median, opsConcurrent, opsSequential, opsSync, sleep, table, type Sample } from './cache-measure.js';
import type { WorkerCommand, WorkerReply } from './cache-stampede-worker.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const L1_MS = Number(process.env.BENCH_MS ?? 120);
const L2_MS = L1_MS * 1.5;
const KEYS = 1_000;
const L2_CONCURRENCY = 64;
const began = performance.now();
const ONLY = new Set((process.env.BENCH_ONLY ?? 'l1,l2,majors,stampede').split(',').map((s) => s.trim()));

const server = await startRedis();
const plain = server.client();
const piped = server.client({ enableAutoPipelining: true });

const keys = Array.from({ length: KEYS }, (_, i) => `customer:${i}`);
const values = keys.map((_, i) => sampleValue(i));

console.log(`# Cache benchmark\n`);
console.log(
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'cpu'} · ` +
    `redis-server ${server.port} (throwaway) · ${ROUNDS} rounds, peers interleaved, medians\n`,
);

/** A measured contender: `run` measures one timed batch. */
interface Contender {
  name: string;
  run: () => Promise<Sample> | Sample;
}

async function interleave(contenders: Contender[]): Promise<Map<string, Sample[]>> {
  const results = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  // One uncounted round first, so JIT warm-up lands on nobody's figures.
  for (const c of contenders) await c.run();
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(k + round) % contenders.length]!;
      gc();
      results.get(c.name)!.push(await c.run());
    }
  }
  return results;
}

/** Median over rounds of subject ops/s divided by peer ops/s (same round). */
function wallRatio(results: Map<string, Sample[]>, subject: string, peer: string): number {
  const a = results.get(subject)!;
  const b = results.get(peer)!;
  return median(a.map((v, i) => v.opsPerSec / b[i]!.opsPerSec));
}

/** Median over rounds of peer CPU/op divided by subject CPU/op: "subject does N x the work per CPU second". */
function cpuRatio(results: Map<string, Sample[]>, subject: string, peer: string): number {
  const a = results.get(subject)!;
  const b = results.get(peer)!;
  return median(a.map((v, i) => b[i]!.cpuUsPerOp / v.cpuUsPerOp));
}

function goalLine(label: string, results: Map<string, Sample[]>, subject: string, peer: string, target: number): string {
  const wall = wallRatio(results, subject, peer);
  const cpu = cpuRatio(results, subject, peer);
  const verdict = wall >= target && cpu >= target ? 'MET' : wall >= target || cpu >= target ? 'MET on one measure only' : 'NOT MET';
  return `- ${label}: ${fmtRatio(wall)} by ops/s, ${fmtRatio(cpu)} by CPU per op (goal >= ${target}x): ${verdict}`;
}

function rowsFor(contenders: Contender[], results: Map<string, Sample[]>, subjects: string[]): string[][] {
  return contenders.map((c) => {
    const samples = results.get(c.name)!;
    return [
      c.name,
      fmtOps(median(samples.map((x) => x.opsPerSec))),
      fmtUs(median(samples.map((x) => x.cpuUsPerOp))),
      ...subjects.map((subject) => `${fmtRatio(wallRatio(results, subject, c.name))} / ${fmtRatio(cpuRatio(results, subject, c.name))}`),
    ];
  });
}

// ---------------------------------------------------------------------------------------------
// 1. L1 hit through getOrSet
// ---------------------------------------------------------------------------------------------
if (ONLY.has('l1')) {
  let missCount = 0;
  const miss = async (): Promise<unknown> => {
    missCount++;
    return values[0];
  };
  const peers: Peer[] = [
    headroomPeer({ name: 'headroom (L1)', prefix: 'bench-l1a', l1: true }),
    headroomPeer({ name: 'headroom (L1 + L2)', prefix: 'bench-l1b', l1: true, redis: plain }),
    bentoMemory(),
    bentoMemory(false),
    cacheManagerMemory(),
    cacheableMemory(),
  ];
  for (const peer of peers) for (let i = 0; i < KEYS; i++) await peer.getOrSet(keys[i]!, async () => values[i]);
  await sleep(50);
  const floor = lruFloor();
  for (let i = 0; i < KEYS; i++) floor.lru.set(keys[i]!, values[i]);
  // The ceiling of any promise-returning API: the same get, in an async function, awaited.
  const asyncGet = async (key: string): Promise<unknown> => floor.lru.get(key);

  const contenders: Contender[] = [
    ...peers.map((peer) => ({ name: peer.name, run: () => opsSequential((i) => peer.getOrSet(keys[i % KEYS]!, miss), L1_MS) })),
    { name: floor.name, run: () => opsSync((i) => floor.lru.get(keys[i % KEYS]!), L1_MS) },
    { name: 'lru-cache get in an async fn, awaited', run: () => opsSequential((i) => asyncGet(keys[i % KEYS]!), L1_MS) },
  ];
  missCount = 0;
  const results = await interleave(contenders);

  const subject = 'headroom (L1)';
  console.log(`## L1 hit through getOrSet (1,000 warm keys, one caller awaiting each call)\n`);
  console.log(table(['peer', 'ops/s', 'CPU per op', `${subject} vs this (ops/s / CPU)`], rowsFor(contenders, results, [subject])));
  console.log();
  if (missCount > 0) console.log(`> WARNING: ${missCount} factory calls during the hit phase (some peer missed).\n`);
  console.log(goalLine('headroom (L1) vs cache-manager wrap', results, subject, 'cache-manager wrap (memory)', 10));
  console.log(goalLine('headroom (L1) vs BentoCache (default, serialize: true)', results, subject, 'BentoCache (memory)', 30));
  console.log(goalLine('headroom (L1) vs BentoCache (serialize: false, its fastest)', results, subject, 'BentoCache (memory, serialize: false)', 30));
  console.log(goalLine('headroom (L1 + L2) vs cache-manager wrap', results, 'headroom (L1 + L2)', 'cache-manager wrap (memory)', 10));
  console.log(goalLine('headroom (L1 + L2) vs BentoCache (serialize: false)', results, 'headroom (L1 + L2)', 'BentoCache (memory, serialize: false)', 30));
  console.log();
  await Promise.all(peers.map((p) => p.close()));
}

// ---------------------------------------------------------------------------------------------
// 2. L2 hit: no L1, 1,000 keys in Redis, 64 concurrent callers
// ---------------------------------------------------------------------------------------------
if (ONLY.has('l2')) {
  let missCount = 0;
  const miss = async (): Promise<unknown> => {
    missCount++;
    return values[0];
  };
  const rawKeys = keys.map((k) => `bench-raw:${k}`);
  for (let i = 0; i < KEYS; i++) await plain.set(rawKeys[i]!, JSON.stringify(values[i]), 'PX', 600_000);

  const peers: Peer[] = [
    headroomPeer({ name: 'headroom (L2, plain client)', prefix: 'bench-l2a', l1: false, redis: plain }),
    headroomPeer({ name: 'headroom (L2, auto-pipelined client)', prefix: 'bench-l2b', l1: false, redis: piped }),
    bentoRedis(plain, 'bench-bento-a', 'BentoCache (redis, plain client)'),
    bentoRedis(piped, 'bench-bento-b', 'BentoCache (redis, auto-pipelined client)'),
    cacheManagerRedis(server.url, 'bench-cm'),
  ];
  for (const peer of peers) for (let i = 0; i < KEYS; i++) await peer.getOrSet(keys[i]!, async () => values[i]);
  await sleep(200);

  const rawGet =
    (client: Redis) =>
    async (i: number): Promise<unknown> => {
      const text = await client.get(rawKeys[i % KEYS]!);
      if (text === null) {
        missCount++;
        return undefined;
      }
      return JSON.parse(text) as unknown;
    };
  const raw = 'ioredis GET + JSON.parse (auto-pipelined)';
  const contenders: Contender[] = [
    { name: 'ioredis GET + JSON.parse', run: () => opsConcurrent(rawGet(plain), L2_MS, L2_CONCURRENCY) },
    { name: raw, run: () => opsConcurrent(rawGet(piped), L2_MS, L2_CONCURRENCY) },
    ...peers.map((peer) => ({ name: peer.name, run: () => opsConcurrent((i) => peer.getOrSet(keys[i % KEYS]!, miss), L2_MS, L2_CONCURRENCY) })),
  ];
  missCount = 0;
  const results = await interleave(contenders);

  console.log(`## L2 hit (no L1, 1,000 keys in Redis, ${L2_CONCURRENCY} concurrent callers)\n`);
  const hA = 'headroom (L2, plain client)';
  const hB = 'headroom (L2, auto-pipelined client)';
  console.log(
    table(
      ['peer', 'ops/s', 'client CPU per op', 'headroom, auto-pipelined client, vs this (ops/s / CPU)', 'headroom, plain client, vs this (ops/s / CPU)'],
      rowsFor(contenders, results, [hB, hA]),
    ),
  );
  console.log();
  if (missCount > 0) console.log(`> WARNING: ${missCount} factory calls / missing keys during the hit phase.\n`);
  console.log(goalLine('headroom (auto-pipelined client) vs raw auto-pipelined ioredis', results, hB, raw, 0.95));
  console.log(goalLine('headroom (plain client) vs raw auto-pipelined ioredis', results, hA, raw, 0.95));
  console.log(goalLine('headroom (plain client) vs raw plain ioredis', results, hA, 'ioredis GET + JSON.parse', 0.95));
  console.log(goalLine('headroom vs BentoCache, both auto-pipelined', results, hB, 'BentoCache (redis, auto-pipelined client)', 2));
  console.log(goalLine('headroom vs BentoCache, both plain', results, hA, 'BentoCache (redis, plain client)', 2));
  console.log();
  await Promise.all(peers.map((p) => p.close()));
}

// ---------------------------------------------------------------------------------------------
// 2b. L2 hit against raw ioredis, on each ioredis major (same keys, same callers as 2.)
// ---------------------------------------------------------------------------------------------
if (ONLY.has('majors')) {
  const rawKeys = keys.map((k) => `bench-majors:${k}`);
  for (let i = 0; i < KEYS; i++) await plain.set(rawKeys[i]!, JSON.stringify(values[i]), 'PX', 600_000);
  const six = { host: server.host, port: server.port, enableAutoPipelining: true };
  const majors: Array<{ label: string; client: Pick<Redis, 'get' | 'quit'> & CacheRedis; own: boolean }> = [
    { label: 'ioredis 5', client: piped, own: false },
    { label: 'ioredis 6 (RESP3)', client: new Redis6(six), own: true },
    { label: 'ioredis 6 (RESP2)', client: new Redis6({ ...six, protocol: 2 }), own: true },
  ];
  let missCount = 0;
  const miss = async (): Promise<unknown> => {
    missCount++;
    return values[0];
  };
  const contenders: Contender[] = [];
  const caches: Array<ReturnType<typeof headroomPeer>> = [];
  for (const [m, { label, client }] of majors.entries()) {
    const peer = headroomPeer({ name: `${label}: headroom (L2)`, prefix: `bench-major${m}`, l1: false, redis: client });
    caches.push(peer);
    for (let i = 0; i < KEYS; i++) await peer.getOrSet(keys[i]!, async () => values[i]);
    const raw = async (i: number): Promise<unknown> => {
      const text = await client.get(rawKeys[i % KEYS]!);
      if (text === null) missCount++;
      return text === null ? undefined : (JSON.parse(text) as unknown);
    };
    contenders.push({ name: `${label}: GET + JSON.parse (auto-pipelined)`, run: () => opsConcurrent(raw, L2_MS, L2_CONCURRENCY) });
    contenders.push({ name: peer.name, run: () => opsConcurrent((i) => peer.getOrSet(keys[i % KEYS]!, miss), L2_MS, L2_CONCURRENCY) });
  }
  await sleep(200);
  missCount = 0;
  const results = await interleave(contenders);
  console.log(`## L2 hit on each ioredis major (no L1, 1,000 keys, ${L2_CONCURRENCY} concurrent callers, auto-pipelined clients)\n`);
  const rows = majors.map(({ label }, m) => {
    const raw = `${label}: GET + JSON.parse (auto-pipelined)`;
    const ours = `${label}: headroom (L2)`;
    const ops = (name: string) => fmtOps(median(results.get(name)!.map((x) => x.opsPerSec)));
    return [
      label,
      ops(raw),
      ops(ours),
      `${fmtRatio(wallRatio(results, ours, raw))} / ${fmtRatio(cpuRatio(results, ours, raw))}`,
      String(caches[m]!.cache.stats().l2.directReads),
    ];
  });
  console.log(table(['ioredis', 'raw GET + JSON.parse ops/s', 'headroom L2 ops/s', 'headroom vs raw (ops/s / CPU)', 'stats().l2.directReads'], rows));
  console.log();
  if (missCount > 0) console.log(`> WARNING: ${missCount} factory calls / missing keys during the hit phase.\n`);
  await Promise.all(caches.map((c) => c.close()));
  for (const { client, own } of majors) if (own) await client.quit();
}

// ---------------------------------------------------------------------------------------------
// 3a. Stampede, one process
// ---------------------------------------------------------------------------------------------
const STAMPEDE_CALLERS = 1_000;
const FACTORY_MS = 50;
const STAMPEDE_ROUNDS = 3;
if (ONLY.has('stampede')) {
  const peers: Peer[] = [
    headroomPeer({ name: 'headroom (L1)', prefix: 'bench-st-a', l1: true }),
    headroomPeer({ name: 'headroom (L1 + L2)', prefix: 'bench-st-b', l1: true, redis: plain }),
    headroomPeer({ name: 'headroom (L1 + L2, lock: true)', prefix: 'bench-st-c', l1: true, redis: plain, lock: true }),
    bentoMemory(),
    bentoMemoryRedis(plain, 'bench-st-bento'),
    cacheManagerMemory(),
    cacheableMemory(),
  ];
  const calls = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const times = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const bad = new Map<string, number>(peers.map((p) => [p.name, 0]));
  for (let round = 0; round < STAMPEDE_ROUNDS; round++) {
    for (const peer of peers) {
      const key = `stampede:${round}`;
      let count = 0;
      const factory = async (): Promise<unknown> => {
        count++;
        await sleep(FACTORY_MS);
        return { key, rows: [1, 2, 3] };
      };
      const start = performance.now();
      const pending: Promise<unknown>[] = [];
      for (let i = 0; i < STAMPEDE_CALLERS; i++) pending.push(peer.getOrSet(key, factory));
      const settled = await Promise.allSettled(pending);
      times.get(peer.name)!.push(performance.now() - start);
      calls.get(peer.name)!.push(count);
      const wrong = settled.filter((r) => r.status === 'rejected' || (r.value as { key?: string } | undefined)?.key !== key).length;
      bad.set(peer.name, bad.get(peer.name)! + wrong);
    }
  }
  console.log(
    `## Stampede, one process (${STAMPEDE_CALLERS.toLocaleString('en-US')} concurrent cold getOrSet of one key, factory ${FACTORY_MS} ms, ${STAMPEDE_ROUNDS} rounds)\n`,
  );
  console.log(
    table(
      ['peer', 'factory calls per round', 'callers without the value', 'time to settle all (median)'],
      peers.map((p) => [p.name, calls.get(p.name)!.join(', '), String(bad.get(p.name)), `${median(times.get(p.name)!).toFixed(0)} ms`]),
    ),
  );
  console.log();
  await Promise.all(peers.map((p) => p.close()));
}

// ---------------------------------------------------------------------------------------------
// 3b. Stampede, four processes sharing Redis
// ---------------------------------------------------------------------------------------------
if (ONLY.has('stampede')) {
  const PROCESSES = 4;
  const MP_FACTORY_MS = 100;
  const workerFile = fileURLToPath(new URL('./cache-stampede-worker.ts', import.meta.url));
  const workers: ChildProcess[] = [];
  const ready: Promise<string[]>[] = [];
  for (let w = 0; w < PROCESSES; w++) {
    const child = fork(workerFile, [String(server.port)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    workers.push(child);
    ready.push(
      new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`stampede worker exited early (${code})`)));
        child.on('message', function onReady(reply: WorkerReply) {
          if (reply.type !== 'ready') return;
          child.off('message', onReady);
          resolve(reply.scenarios);
        });
      }),
    );
  }
  const scenarios = (await Promise.all(ready))[0]!;
  for (const child of workers) child.removeAllListeners('exit');

  const runOnAll = (command: WorkerCommand & { type: 'run' }): Promise<Array<WorkerReply & { type: 'done' }>> =>
    Promise.all(
      workers.map(
        (child) =>
          new Promise<WorkerReply & { type: 'done' }>((resolve) => {
            child.on('message', function onDone(reply: WorkerReply) {
              if (reply.type !== 'done') return;
              child.off('message', onDone);
              resolve(reply);
            });
            child.send(command);
          }),
      ),
    );

  const perCaller = STAMPEDE_CALLERS / PROCESSES;
  const rows: string[][] = [];
  for (const scenario of scenarios) {
    const totals: number[] = [];
    const slowest: number[] = [];
    let wrong = 0;
    for (let round = 0; round < STAMPEDE_ROUNDS; round++) {
      const key = `mp-stampede:${scenario.replace(/\W+/g, '-')}:${round}`;
      const replies = await runOnAll({ type: 'run', scenario, key, callers: perCaller, factoryMs: MP_FACTORY_MS });
      totals.push(replies.reduce((sum, r) => sum + r.factoryCalls, 0));
      slowest.push(Math.max(...replies.map((r) => r.ms)));
      wrong += replies.reduce((sum, r) => sum + r.wrong + r.errors, 0);
    }
    rows.push([scenario, totals.join(', '), String(wrong), `${median(slowest).toFixed(0)} ms`]);
  }
  for (const child of workers) child.send({ type: 'exit' } satisfies WorkerCommand);
  await Promise.all(workers.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));

  console.log(
    `## Stampede, ${PROCESSES} processes sharing Redis (${perCaller} concurrent cold getOrSet per process = ${STAMPEDE_CALLERS.toLocaleString('en-US')}, factory ${MP_FACTORY_MS} ms, ${STAMPEDE_ROUNDS} rounds)\n`,
  );
  console.log(table(['peer', 'total factory calls per round', 'callers without the value', 'slowest process (median)'], rows));
  console.log();
}

plain.disconnect();
piped.disconnect();
await stopAllRedis();
console.log(`_Total run time: ${((performance.now() - began) / 1_000).toFixed(1)} s._`);
