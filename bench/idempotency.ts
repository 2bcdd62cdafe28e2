/**
 * Idempotency middleware throughput through node:http on loopback, for: no middleware, memory
 * store, Redis store (a throwaway redis-server on a free port); first requests (a new
 * Idempotency-Key per request) and replays (one key, already done). Also counts Redis round trips
 * per request with INFO commandstats.
 *
 * The servers run in a process of their own (bench/idempotency-server.ts, loading the built
 * package from dist/), driven by autocannon as a library from this process: the figures are the
 * server's, as in production, where the load does not come from inside the server's event loop.
 * Each variant's server CPU per request is read from that process (process.cpuUsage).
 *
 * Run: npm run build && node --expose-gc --import tsx bench/idempotency.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { startRedis, stopAllRedis } from '../test/support/redis.js';

const ROUNDS = Number(process.env.ROUNDS ?? 14);
const SECONDS = Number(process.env.SECONDS ?? 0.5);
const COUNTED = 2_000;
const CONNECTIONS = 16;
const BODY = JSON.stringify({ amount: 1999, currency: 'eur', customer: 'cus_42', description: 'order #1001' });

type ServerName = 'bare' | 'adapter' | 'memory' | 'redis';

/** The server process and its IPC. */
interface Servers {
  child: ChildProcess;
  ports: Record<ServerName, number>;
  stats(): Promise<{ cpu: NodeJS.CpuUsage; served: number }>;
}

async function startServers(redisPort: number): Promise<Servers> {
  const child = fork(fileURLToPath(new URL('./idempotency-server.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_SERVER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SERVER_PROFILE}`] : [])],
    env: { ...process.env, BENCH_REDIS_PORT: String(redisPort) },
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const nextMessage = <T>(): Promise<T> =>
    exited ? Promise.reject(new Error('the server process exited')) : new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { ports } = await nextMessage<{ ports: Record<ServerName, number> }>();
  return {
    child,
    ports,
    stats: () => {
      const reply = nextMessage<{ cpu: NodeJS.CpuUsage; served: number }>();
      child.send('stats');
      return reply;
    },
  };
}

let counter = 0;

interface Run {
  rps: number;
  /** Server CPU time (user + system) per response, in microseconds. */
  cpuUs: number;
  /** Share of one core the server used while loaded. */
  utilisation: number;
  requests: number;
  /** Requests the server received (for the round-trip count). */
  served: number;
  non2xx: number;
}

async function load(servers: Servers, name: ServerName, mode: 'first' | 'replay', replayKey: string, amount?: number): Promise<Run> {
  const before = await servers.stats();
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${servers.ports[name]}`,
    connections: CONNECTIONS,
    ...(amount === undefined ? { duration: SECONDS } : { amount }),
    requests: [
      {
        method: 'POST',
        path: '/payments',
        headers: { 'content-type': 'application/json' },
        body: BODY,
        setupRequest: (request) => {
          request.headers = { ...request.headers, 'idempotency-key': mode === 'first' ? `k-${++counter}` : replayKey };
          return request;
        },
      },
    ],
  });
  const elapsedUs = (performance.now() - started) * 1_000;
  const after = await servers.stats();
  const cpuUs = after.cpu.user - before.cpu.user + after.cpu.system - before.cpu.system;
  const requests = result['2xx'] + result.non2xx;
  return {
    // Counted over the measured wall time, not autocannon's per-second samples (runs are short).
    rps: requests / (elapsedUs / 1e6),
    cpuUs: cpuUs / Math.max(1, requests),
    utilisation: cpuUs / elapsedUs,
    requests,
    served: after.served - before.served,
    non2xx: result.non2xx,
  };
}

/** Calls of commands sent by clients (scripts' inner commands excluded), from INFO commandstats. */
async function roundTrips(probe: Redis): Promise<number> {
  const info = await probe.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_([a-z|_]+):calls=(\d+)/gm)) {
    const name = match[1]!;
    if (name === 'info' || name === 'hmget' || name === 'hset' || name === 'pexpire' || name === 'pttl' || name === 'del') continue;
    total += Number(match[2]);
    if (process.env.DEBUG_TRIPS) console.log('  ', name, match[2]);
  }
  return total;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  if (!existsSync(fileURLToPath(new URL('../dist/idempotency/index.js', import.meta.url)))) {
    console.error('bench/idempotency.ts measures the built package: run `npm run build` first.');
    process.exitCode = 2;
    return;
  }
  const redisServer = await startRedis();
  const probe = redisServer.client();
  const servers = await startServers(redisServer.port);

  // Complete the replay key once on each server, and warm up (JIT, script cache).
  const replayKey = 'replay-key';
  for (const name of ['memory', 'redis'] as const) {
    await fetch(`http://127.0.0.1:${servers.ports[name]}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': replayKey },
      body: BODY,
    }).then((r) => r.arrayBuffer());
  }
  for (const name of ['bare', 'adapter', 'memory', 'redis'] as const) await load(servers, name, 'first', replayKey);

  const variants = [
    { name: 'no middleware', server: 'bare' as const, mode: 'first' as const, redis: false },
    { name: 'toNode + body + captureBody, no store', server: 'adapter' as const, mode: 'first' as const, redis: false },
    { name: 'memory store, first requests', server: 'memory' as const, mode: 'first' as const, redis: false },
    { name: 'memory store, replays', server: 'memory' as const, mode: 'replay' as const, redis: false },
    { name: 'Redis store, first requests', server: 'redis' as const, mode: 'first' as const, redis: true },
    { name: 'Redis store, replays', server: 'redis' as const, mode: 'replay' as const, redis: true },
  ];
  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const util = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  /** Per pair: the variant's req/s and CPU per request over the bare run next to it. */
  const rpsRatio = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpuRatio = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  let non2xx = 0;
  const [bare, ...others] = variants;
  const record = (name: string, r: Run): void => {
    rps.get(name)!.push(r.rps);
    cpu.get(name)!.push(r.cpuUs);
    util.get(name)!.push(r.utilisation);
    non2xx += r.non2xx;
  };

  // Paired runs: every variant runs right next to a run of no middleware (before it in even
  // rounds, after it in odd ones), and its ratio is taken to that neighbour. This machine's
  // speed drifts over seconds (other tenants), so a baseline measured seconds away, even in the
  // same round, can be off by more than the effect measured. The order of variants rotates too.
  for (let round = 0; round < ROUNDS; round++) {
    const order = others.map((_, i) => others[(i + round) % others.length]!);
    for (const v of order) {
      globalThis.gc?.();
      const bareFirst = round % 2 === 0;
      const a = await load(servers, bareFirst ? bare!.server : v.server, bareFirst ? bare!.mode : v.mode, replayKey);
      globalThis.gc?.();
      const b = await load(servers, bareFirst ? v.server : bare!.server, bareFirst ? v.mode : bare!.mode, replayKey);
      const [base, run] = bareFirst ? [a, b] : [b, a];
      record(bare!.name, base);
      record(v.name, run);
      rpsRatio.get(v.name)!.push(run.rps / base.rps);
      cpuRatio.get(v.name)!.push(run.cpuUs / base.cpuUs);
    }
  }
  rpsRatio.get(bare!.name)!.push(1);
  cpuRatio.get(bare!.name)!.push(1);

  // Round trips, counted exactly: a fixed number of requests, all answered, INFO commandstats
  // read before and after (commands run inside the Lua scripts are not round trips).
  const trips = new Map<string, number>();
  for (const v of variants.filter((x) => x.redis)) {
    // Let the requests still in flight from the timed rounds finish (their `complete` calls would
    // otherwise land in this count).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await roundTrips(probe);
    const r = await load(servers, v.server, v.mode, replayKey, COUNTED);
    // Counted on the server side: a response the client gave up on still cost its commands.
    trips.set(v.name, ((await roundTrips(probe)) - before) / r.served);
    non2xx += r.non2xx;
  }

  /** Median over pairs of the variant's req/s over the no-middleware run next to it. */
  const ratioTo = (name: string): number => median(rpsRatio.get(name)!);
  const bareCpu = median(cpu.get('no middleware')!);
  console.log(
    `\nidempotency middleware, node:http on loopback, servers in their own process (built package), autocannon ${CONNECTIONS} connections from another, ${ROUNDS} rounds of ${SECONDS}s runs, each variant paired with a run of no middleware next to it, medians (ratios: median of per-pair ratios)`,
  );
  console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(
    '| variant | req/s | throughput vs no middleware | server CPU us / request | server CPU vs no middleware | server core use | Redis round trips / request |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const m = median(rps.get(v.name)!);
    const c = median(cpu.get(v.name)!);
    const t = trips.get(v.name);
    console.log(
      `| ${v.name} | ${Math.round(m)} | ${ratioTo(v.name).toFixed(2)}x | ${c.toFixed(1)} | ${median(cpuRatio.get(v.name)!).toFixed(2)}x | ${median(util.get(v.name)!).toFixed(2)} | ${t === undefined ? '-' : t.toFixed(2)} |`,
    );
  }
  const memoryRatio = ratioTo('memory store, first requests');
  const firstTrips = trips.get('Redis store, first requests')!;
  const replayTrips = trips.get('Redis store, replays')!;
  console.log('');
  console.log(`goal memory store (first requests) >= 0.9x no middleware: ${memoryRatio >= 0.9 ? 'met' : 'NOT met'} (${memoryRatio.toFixed(3)}x)`);
  console.log(`goal Redis <= 2 round trips per first request: ${firstTrips <= 2 ? 'met' : 'NOT met'} (${firstTrips.toFixed(2)})`);
  console.log(`goal Redis <= 1 round trip per replay: ${replayTrips <= 1 ? 'met' : 'NOT met'} (${replayTrips.toFixed(2)})`);
  const adapterCpu = median(cpu.get('toNode + body + captureBody, no store')!);
  const own = (name: string): string => (median(cpu.get(name)!) - adapterCpu).toFixed(1);
  console.log(
    `Server CPU per request added over the adapter alone: memory ${own('memory store, first requests')} us (first), ${own('memory store, replays')} us (replay); ` +
      `Redis ${own('Redis store, first requests')} us (first), ${own('Redis store, replays')} us (replay); the adapter over no middleware: ${(adapterCpu - bareCpu).toFixed(1)} us`,
  );
  if (non2xx > 0) console.log(`note: ${non2xx} non-2xx responses during the run`);

  servers.child.send('exit');
  await stopAllRedis();
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAllRedis();
  process.exitCode = 1;
});
