/**
 * Idempotency middleware throughput through node:http on loopback (autocannon as a library, same
 * process), for: no middleware, memory store, Redis store (a throwaway redis-server on a free
 * port); first requests (a new Idempotency-Key per request) and replays (one key, already done).
 * Also counts Redis round trips per request with INFO commandstats.
 *
 * Run: node --expose-gc --import tsx bench/idempotency.ts
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import type { Redis } from 'ioredis';
import { toNode } from '../src/http/index.js';
import { Idempotency, MemoryIdempotencyStore, RedisIdempotencyStore, idempotencyMiddleware } from '../src/idempotency/index.js';
import { startRedis, stopAllRedis } from '../test/support/redis.js';

const ROUNDS = Number(process.env.ROUNDS ?? 6);
const SECONDS = Number(process.env.SECONDS ?? 1);
const COUNTED = 2_000;
const CONNECTIONS = 16;
const BODY = JSON.stringify({ amount: 1999, currency: 'eur', customer: 'cus_42', description: 'order #1001' });

/**
 * The application handler: parses the JSON body (from the stream, or from the bytes a
 * middleware already read into req.body), answers 201 with a small JSON document.
 */
function handle(req: IncomingMessage & { body?: unknown }, res: ServerResponse): void {
  const reply = (bytes: Buffer): void => {
    const input = JSON.parse(bytes.toString('utf8')) as { amount: number };
    const payload = JSON.stringify({ id: 'pay_1', status: 'succeeded', amount: input.amount });
    res.writeHead(201, { 'content-type': 'application/json', location: '/payments/pay_1' });
    res.end(payload);
  };
  if (Buffer.isBuffer(req.body)) {
    reply(req.body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => reply(Buffer.concat(chunks)));
}

/** Requests that reached a server: the denominator of the round-trip count, server-side. */
let served = 0;

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer((req, res) => {
    served++;
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function withMiddleware(idempotency: Idempotency): (req: IncomingMessage, res: ServerResponse) => void {
  const mw = toNode(idempotencyMiddleware(idempotency));
  return (req, res) => mw(req, res, () => handle(req, res));
}

let counter = 0;

interface Run {
  rps: number;
  /** CPU time of this process (server and client) per response, in microseconds. */
  cpuUs: number;
  requests: number;
  non2xx: number;
}

async function load(server: Server, mode: 'first' | 'replay', replayKey: string, amount?: number): Promise<Run> {
  const { port } = server.address() as AddressInfo;
  const cpu = process.cpuUsage();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
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
  const used = process.cpuUsage(cpu);
  const requests = result['2xx'] + result.non2xx;
  return { rps: result.requests.average, cpuUs: (used.user + used.system) / Math.max(1, requests), requests, non2xx: result.non2xx };
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
  const redisServer = await startRedis();
  const redis = redisServer.client();
  const probe = redisServer.client();

  const bare = await listen(handle);
  // The adapter alone, reading the body and capturing the response as the middleware makes it do:
  // separates what toNode costs from what the idempotency store costs.
  const captureOnly = toNode(async (exchange, next) => {
    await exchange.body();
    await next({ captureBody: true });
  });
  const adapter = await listen((req, res) => captureOnly(req, res, () => handle(req, res)));
  const memory = await listen(withMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
  const redisBacked = await listen(withMiddleware(new Idempotency({ store: new RedisIdempotencyStore(redis) })));

  // Complete the replay key once on each server, and warm up (JIT, script cache).
  const replayKey = 'replay-key';
  for (const server of [memory, redisBacked]) {
    const { port } = server.address() as AddressInfo;
    await fetch(`http://127.0.0.1:${port}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': replayKey },
      body: BODY,
    }).then((r) => r.arrayBuffer());
  }
  for (const server of [bare, adapter, memory, redisBacked]) await load(server, 'first', replayKey);

  const variants = [
    { name: 'no middleware', server: bare, mode: 'first' as const, redis: false },
    { name: 'toNode + body + captureBody, no store', server: adapter, mode: 'first' as const, redis: false },
    { name: 'memory store, first requests', server: memory, mode: 'first' as const, redis: false },
    { name: 'memory store, replays', server: memory, mode: 'replay' as const, redis: false },
    { name: 'Redis store, first requests', server: redisBacked, mode: 'first' as const, redis: true },
    { name: 'Redis store, replays', server: redisBacked, mode: 'replay' as const, redis: true },
  ];
  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  let non2xx = 0;

  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no variant always runs first or last on a noisy machine.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const v of order) {
      globalThis.gc?.();
      const r = await load(v.server, v.mode, replayKey);
      rps.get(v.name)!.push(r.rps);
      cpu.get(v.name)!.push(r.cpuUs);
      non2xx += r.non2xx;
    }
  }

  // Round trips, counted exactly: a fixed number of requests, all answered, INFO commandstats
  // read before and after (commands run inside the Lua scripts are not round trips).
  const trips = new Map<string, number>();
  for (const v of variants.filter((x) => x.redis)) {
    // Let the requests still in flight from the timed rounds finish (their `complete` calls would
    // otherwise land in this count).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await roundTrips(probe);
    const servedBefore = served;
    const r = await load(v.server, v.mode, replayKey, COUNTED);
    // Counted on the server side: a response the client gave up on still cost its commands.
    trips.set(v.name, ((await roundTrips(probe)) - before) / (served - servedBefore));
    non2xx += r.non2xx;
  }

  const bareRps = median(rps.get('no middleware')!);
  const bareCpu = median(cpu.get('no middleware')!);
  console.log(`\nidempotency middleware, node:http on loopback, autocannon ${CONNECTIONS} connections (same process), ${ROUNDS} rounds x ${SECONDS}s, medians`);
  console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| variant | req/s | throughput vs no middleware | CPU us / request | CPU vs no middleware | Redis round trips / request |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const m = median(rps.get(v.name)!);
    const c = median(cpu.get(v.name)!);
    const t = trips.get(v.name);
    console.log(
      `| ${v.name} | ${Math.round(m)} | ${(m / bareRps).toFixed(2)}x | ${c.toFixed(0)} | ${(c / bareCpu).toFixed(2)}x | ${t === undefined ? '-' : t.toFixed(2)} |`,
    );
  }
  const memoryRatio = median(rps.get('memory store, first requests')!) / bareRps;
  const firstTrips = trips.get('Redis store, first requests')!;
  const replayTrips = trips.get('Redis store, replays')!;
  console.log('');
  console.log(`goal memory store (first requests) >= 0.9x no middleware: ${memoryRatio >= 0.9 ? 'met' : 'NOT met'} (${memoryRatio.toFixed(2)}x)`);
  console.log(`goal Redis <= 2 round trips per first request: ${firstTrips <= 2 ? 'met' : 'NOT met'} (${firstTrips.toFixed(2)})`);
  console.log(`goal Redis <= 1 round trip per replay: ${replayTrips <= 1 ? 'met' : 'NOT met'} (${replayTrips.toFixed(2)})`);
  const adapterCpu = median(cpu.get('toNode + body + captureBody, no store')!);
  const own = (name: string): string => (median(cpu.get(name)!) - adapterCpu).toFixed(0);
  console.log(
    `CPU per request added over the adapter alone: memory ${own('memory store, first requests')} us (first), ${own('memory store, replays')} us (replay); ` +
      `Redis ${own('Redis store, first requests')} us (first), ${own('Redis store, replays')} us (replay)`,
  );
  if (non2xx > 0) console.log(`note: ${non2xx} non-2xx responses during the run`);

  for (const s of [bare, adapter, memory, redisBacked]) {
    s.close();
    s.closeAllConnections();
  }
  await stopAllRedis();
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopAllRedis();
  process.exitCode = 1;
});
