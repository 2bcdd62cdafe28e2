/**
 * Rate limiting against the peers a user would pick instead, same process, same run:
 *
 * 1. Memory store: `limiter.take(key)` against rate-limiter-flexible's `RateLimiterMemory.consume`
 *    over 10,000 known keys, all checks allowed (the common case), then all refused, then a new
 *    key on every check. Checks per second of this process' CPU time (less sensitive than wall
 *    time to the other tenants of a shared machine), in twice ROUNDS interleaved rounds: medians
 *    of the per-round ratios, and the ratio of the two best rounds (the least disturbed).
 * 2. Redis store: 64 concurrent callers on one ioredis client, `RedisRateLimitStore` against
 *    `RateLimiterRedis` on that same client, all checks allowed, then all refused; checks per
 *    second (wall), CPU per check of this process and of redis-server (INFO cpu), and Redis
 *    commands per check (EVALSHA and EVAL calls from INFO commandstats over the checks; the
 *    commands run inside the scripts are not counted). Ours sends the checks started in one tick
 *    as one script call, so with 64 callers this is about 1/64; the peer sends one per check.
 *    Twice ROUNDS rounds of SECONDS / 2 each.
 * 3. HTTP: express-rate-limit's memory store through its middleware against ours through ours,
 *    on node:http and in Express 5; servers in their own process
 *    (bench/ratelimit-server.ts), autocannon from this one with 1,000 clients (`x-client`).
 *    Every variant runs next to a run of its framework without a limiter; medians of per-pair
 *    ratios.
 *
 * Run: node --expose-gc --import tsx bench/ratelimit.ts
 * Environment: ROUNDS (default 7), SECONDS (HTTP and Redis run length, default 1), PARTS (a
 * comma-separated subset of memory,redis,http; default all).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { MemoryRateLimitStore, RateLimiter, RedisRateLimitStore } from '../src/ratelimit/index.js';
import { startRedis, stopAllRedis } from '../test/support/redis.js';

const ROUNDS = Number(process.env.ROUNDS ?? 7);
const SECONDS = Number(process.env.SECONDS ?? 1);
const KEYS = Array.from({ length: 10_000 }, (_, i) => `client-${i}`);
const PARTS = (process.env.PARTS ?? 'memory,redis,http').split(',');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const spread = (xs: number[], scale = 1): string => `${Math.round(Math.min(...xs) / scale)}-${Math.round(Math.max(...xs) / scale)}`;

let freshKeys = 0;
/** One of 10,000 known keys, or a key never seen before. */
const keyAt = (fresh: boolean, i: number): string => (fresh ? `fresh-${freshKeys++}` : KEYS[i % KEYS.length]!);

/** Runs `n` checks in batches of 1,000 awaited together; checks per CPU second of this process. */
async function perCpuSecond(check: (key: string) => Promise<unknown>, n: number, fresh: boolean): Promise<number> {
  const cpu = process.cpuUsage();
  const batch = new Array<Promise<unknown>>(1000);
  for (let i = 0; i < n; i += 1000) {
    for (let j = 0; j < 1000; j++) batch[j] = check(keyAt(fresh, i + j));
    await Promise.all(batch);
  }
  const used = process.cpuUsage(cpu);
  return n / ((used.user + used.system) / 1e6);
}

async function memory(): Promise<void> {
  const N = 200_000;
  const scenarios = [
    {
      name: '10,000 known keys, every check allowed',
      fresh: false,
      ours: new RateLimiter({ name: 'open', limit: 5_000_000, window: '1m', store: new MemoryRateLimitStore({ maxKeys: 20_000 }) }),
      peer: new RateLimiterMemory({ points: 1e9, duration: 60 }),
    },
    {
      name: '10,000 known keys, every check refused',
      fresh: false,
      ours: new RateLimiter({ name: 'shut', limit: 1, window: '1h', store: new MemoryRateLimitStore({ maxKeys: 20_000 }) }),
      peer: new RateLimiterMemory({ points: 1, duration: 3600 }),
    },
    {
      // Many distinct clients (a crawl, a scan from many addresses): each check meets a new key.
      name: 'a new key on every check',
      fresh: true,
      ours: new RateLimiter({ name: 'fresh', limit: 10, window: '1s', store: new MemoryRateLimitStore({ maxKeys: 100_000 }) }),
      peer: new RateLimiterMemory({ points: 10, duration: 1 }),
    },
  ];
  const rounds = 2 * ROUNDS;
  console.log(
    `\n### Memory store: checks per CPU second, batches of 1,000 awaited, ${rounds} interleaved rounds of ${N.toLocaleString('en')} checks each, medians (range)\n`,
  );
  console.log(
    '| scenario | headroom `RateLimiter` + `MemoryRateLimitStore` | rate-limiter-flexible `RateLimiterMemory` | headroom / peer (median of rounds) | best round / best round |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const s of scenarios) {
    const ours = (key: string) => s.ours.take(key);
    // The peer rejects a refused check with its result object: caught, as a caller would.
    const peer = (key: string) => s.peer.consume(key).catch((result: unknown) => result);
    await perCpuSecond(ours, N, s.fresh); // warm-up: JIT, and every known key known to both
    await perCpuSecond(peer, N, s.fresh);
    const a: number[] = [];
    const b: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      gc();
      const first = round % 2 === 0 ? ours : peer;
      const second = round % 2 === 0 ? peer : ours;
      const x = await perCpuSecond(first, N, s.fresh);
      gc();
      const y = await perCpuSecond(second, N, s.fresh);
      const [o, p] = round % 2 === 0 ? [x, y] : [y, x];
      a.push(o);
      b.push(p);
      ratios.push(o / p);
    }
    console.log(
      `| ${s.name} | ${(median(a) / 1e6).toFixed(2)} M/s (${spread(a, 1e3)} k) | ${(median(b) / 1e6).toFixed(2)} M/s (${spread(b, 1e3)} k) | **${median(ratios).toFixed(2)}x** (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) | ${(Math.max(...a) / Math.max(...b)).toFixed(2)}x |`,
    );
  }
}

/** EVALSHA + EVAL calls since the last RESETSTAT. */
async function scriptCalls(probe: Redis): Promise<number> {
  const info = await probe.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) total += Number(match[2]);
  return total;
}

/** CPU time redis-server has used, in microseconds (INFO cpu). */
async function redisCpuUs(probe: Redis): Promise<number> {
  const info = await probe.info('cpu');
  const field = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
}

interface ConcurrentRun {
  /** Checks per second of wall time. */
  rate: number;
  checks: number;
  /** CPU of this process per check, in microseconds. */
  clientUs: number;
  /** CPU of redis-server per check, in microseconds. */
  redisUs: number;
}

/** 64 callers, each checking one key after another for `seconds`. */
async function concurrent(check: (key: string) => Promise<unknown>, seconds: number, probe?: Redis): Promise<ConcurrentRun> {
  let checks = 0;
  const redisBefore = probe === undefined ? 0 : await redisCpuUs(probe);
  const cpu = process.cpuUsage();
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async (_, caller) => {
      for (let i = caller; performance.now() < end; i += 64) {
        await check(KEYS[i % KEYS.length]!);
        checks++;
      }
    }),
  );
  const rate = checks / ((performance.now() - started) / 1000);
  const used = process.cpuUsage(cpu);
  const redisUs = probe === undefined ? 0 : (await redisCpuUs(probe)) - redisBefore;
  return { rate, checks, clientUs: (used.user + used.system) / checks, redisUs: redisUs / checks };
}

async function redisStores(): Promise<void> {
  const server = await startRedis();
  const redis = server.client();
  const probe = server.client();
  const store = new RedisRateLimitStore(redis, { prefix: 'hr:' });
  const rounds = 2 * ROUNDS;
  const seconds = SECONDS / 2;
  const scenarios = [
    {
      name: 'every check allowed',
      ours: new RateLimiter({ name: 'open', limit: 100_000_000, window: '1h', store }),
      peer: new RateLimiterRedis({ storeClient: redis, points: 1e9, duration: 3600, keyPrefix: 'rlf-open' }),
    },
    {
      name: 'every check refused',
      ours: new RateLimiter({ name: 'shut', limit: 1, window: '1h', store }),
      peer: new RateLimiterRedis({ storeClient: redis, points: 1, duration: 3600, keyPrefix: 'rlf-shut' }),
    },
  ];
  console.log(`\n### Redis store: 64 concurrent callers on one ioredis client, 10,000 keys, ${rounds} interleaved rounds of ${seconds}s, medians (range)\n`);
  console.log('| scenario | store | checks/s | client CPU us / check | redis-server CPU us / check | Redis commands per check |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  const summaries: string[] = [];
  for (const s of scenarios) {
    const variants = [
      { name: 'headroom `RedisRateLimitStore`', check: (key: string) => s.ours.take(key) },
      // The peer rejects a refused check with its result object: caught, as a caller would.
      { name: 'rate-limiter-flexible `RateLimiterRedis`', check: (key: string) => s.peer.consume(key).catch((result: unknown) => result) },
    ];
    for (const v of variants) await concurrent(v.check, 0.5); // warm-up: JIT, script loaded, keys known
    const runs = new Map<string, ConcurrentRun[]>(variants.map((v) => [v.name, []]));
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const clientRatios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? variants : [...variants].reverse();
      const got = new Map<string, ConcurrentRun>();
      for (const v of order) {
        gc();
        const run = await concurrent(v.check, seconds, probe);
        runs.get(v.name)!.push(run);
        got.set(v.name, run);
      }
      const [a, b] = [got.get(variants[0]!.name)!, got.get(variants[1]!.name)!];
      ratios.push(a.rate / b.rate);
      cpuRatios.push((b.clientUs + b.redisUs) / (a.clientUs + a.redisUs));
      clientRatios.push(b.clientUs / a.clientUs);
    }
    const trips = new Map<string, number>();
    for (const v of variants) {
      await probe.config('RESETSTAT');
      const { checks } = await concurrent(v.check, 0.5);
      trips.set(v.name, (await scriptCalls(probe)) / checks);
    }
    for (const v of variants) {
      const r = runs.get(v.name)!;
      const rates = r.map((x) => x.rate);
      console.log(
        `| ${s.name} | ${v.name} | ${Math.round(median(rates))} (${spread(rates)}) | ${median(r.map((x) => x.clientUs)).toFixed(1)} | ${median(r.map((x) => x.redisUs)).toFixed(1)} | ${trips.get(v.name)!.toFixed(3)} |`,
      );
    }
    const best = (name: string): number => Math.max(...runs.get(name)!.map((x) => x.rate));
    summaries.push(
      `${s.name}: headroom / rate-limiter-flexible, checks/s **${median(ratios).toFixed(2)}x** (per-round ratios ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}; best round / best round ${(best(variants[0]!.name) / best(variants[1]!.name)).toFixed(2)}x); checks per CPU second, client and Redis together, **${median(cpuRatios).toFixed(2)}x** (${Math.min(...cpuRatios).toFixed(2)}-${Math.max(...cpuRatios).toFixed(2)}); per CPU second of the calling process alone **${median(clientRatios).toFixed(2)}x**`,
    );
  }
  console.log('');
  for (const line of summaries) console.log(`- ${line}`);
  redis.disconnect();
  probe.disconnect();
  await stopAllRedis();
}

interface Servers {
  child: ChildProcess;
  ports: Record<string, number>;
  cpu(): Promise<number>;
}

async function startServers(): Promise<Servers> {
  const child = fork(fileURLToPath(new URL('./ratelimit-server.ts', import.meta.url)), { execArgv: ['--import', 'tsx'] });
  const next = <T>(): Promise<T> => new Promise((resolve) => child.once('message', (m) => resolve(m as T)));
  const { ports } = await next<{ ports: Record<string, number> }>();
  return {
    child,
    ports,
    cpu: async () => {
      const reply = next<{ cpu: NodeJS.CpuUsage }>();
      child.send('stats');
      const { cpu } = await reply;
      return cpu.user + cpu.system;
    },
  };
}

let client = 0;
async function load(servers: Servers, name: string): Promise<{ rps: number; cpuUs: number; non2xx: number }> {
  const before = await servers.cpu();
  const started = performance.now();
  const result = await autocannon({
    url: `http://127.0.0.1:${servers.ports[name]}/r`,
    connections: 16,
    duration: SECONDS,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          request.headers = { ...request.headers, 'x-client': `client-${client++ % 1000}` };
          return request;
        },
      },
    ],
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = (await servers.cpu()) - before;
  const requests = result['2xx'] + result.non2xx;
  return { rps: requests / seconds, cpuUs: cpuUs / Math.max(1, requests), non2xx: result.non2xx };
}

async function http(): Promise<void> {
  const servers = await startServers();
  const variants = [
    { name: 'node:http + express-rate-limit (memory store)', server: 'node-erl', bare: 'node' },
    { name: 'node:http + headroom `rateLimitMiddleware` (memory store)', server: 'node-headroom', bare: 'node' },
    { name: 'Express + express-rate-limit (memory store)', server: 'express-erl', bare: 'express' },
    { name: 'Express + headroom `rateLimitMiddleware` (memory store)', server: 'express-headroom', bare: 'express' },
  ];
  for (const name of Object.keys(servers.ports)) await load(servers, name); // warm-up
  const stats = new Map(variants.map((v) => [v.name, { rps: [] as number[], cpu: [] as number[], rpsRatio: [] as number[], cpuAdded: [] as number[] }]));
  let non2xx = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      const bareFirst = round % 2 === 0;
      const a = await load(servers, bareFirst ? v.bare : v.server);
      const b = await load(servers, bareFirst ? v.server : v.bare);
      const [base, run] = bareFirst ? [a, b] : [b, a];
      const s = stats.get(v.name)!;
      s.rps.push(run.rps);
      s.cpu.push(run.cpuUs);
      s.rpsRatio.push(run.rps / base.rps);
      s.cpuAdded.push(run.cpuUs - base.cpuUs);
      non2xx += a.non2xx + b.non2xx;
    }
  }
  console.log(
    `\n### HTTP: GET with a small JSON answer, servers in their own process, autocannon 16 connections, 1,000 clients, ${ROUNDS} rounds of ${SECONDS}s, each run paired with its framework without a limiter, medians\n`,
  );
  console.log('| variant | req/s | vs same framework without a limiter | server CPU us / request | CPU added by the limiter |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const s = stats.get(v.name)!;
    console.log(
      `| ${v.name} | ${Math.round(median(s.rps))} | ${median(s.rpsRatio).toFixed(2)}x | ${median(s.cpu).toFixed(1)} | +${median(s.cpuAdded).toFixed(1)} us |`,
    );
  }
  console.log('');
  for (const [framework, erlIndex] of [
    ['node:http', 0],
    ['Express', 2],
  ] as const) {
    const erl = stats.get(variants[erlIndex]!.name)!;
    const ours = stats.get(variants[erlIndex + 1]!.name)!;
    // Each limiter's req/s is taken relative to the run of the bare framework next to it, then the
    // two are compared: raw req/s measured minutes apart on this machine are not comparable.
    console.log(
      `- ${framework}, per request: headroom adds ${median(ours.cpuAdded).toFixed(1)} us of server CPU, express-rate-limit ${median(erl.cpuAdded).toFixed(1)} us; throughput kept: headroom ${median(ours.rpsRatio).toFixed(2)}x, express-rate-limit ${median(erl.rpsRatio).toFixed(2)}x of the framework alone (**${(median(ours.rpsRatio) / median(erl.rpsRatio)).toFixed(2)}x**)`,
    );
  }
  if (non2xx > 0) console.log(`note: ${non2xx} non-2xx responses during the run`);
  servers.child.send('exit');
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  if (PARTS.includes('memory')) await memory();
  if (PARTS.includes('redis')) await redisStores();
  if (PARTS.includes('http')) await http();
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAllRedis();
  process.exitCode = 1;
});
