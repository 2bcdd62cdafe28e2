/**
 * Per-request overhead of the node:http adapter: requests/s through node:http on loopback
 * (autocannon as a library, same process) for a bare handler, the same handler behind
 * `toNode` with a do-nothing middleware, and behind `toNode(compose(timeout('5s'), shed(queue)))`.
 * Same run; every variant runs right next to a bare run (before it in even rounds, after it in
 * odd ones) and its ratio is taken to that neighbour, since this machine's speed drifts over
 * seconds; GC before each run; medians of the per-pair ratios.
 *
 * Run: node --expose-gc --import tsx bench/http.ts
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { compose, shed, timeout, toNode, type NodeHandler } from '../src/http/index.js';
import { TaskQueue } from '../src/queue/index.js';

const ROUNDS = Number(process.env.ROUNDS ?? 10);
const SECONDS = Number(process.env.SECONDS ?? 0.5);
const CONNECTIONS = 16;
const PAYLOAD = JSON.stringify({ id: 42, name: 'Ada', plan: 'pro' });

/** The application: a small JSON answer, the same work behind every variant. */
function handle(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  res.end(PAYLOAD);
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function behind(guard: NodeHandler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => guard(req, res, () => handle(req, res));
}

interface Run {
  rps: number;
  /** CPU time of this process (server and client) per response, in microseconds. */
  cpuUs: number;
  non2xx: number;
}

async function load(server: Server): Promise<Run> {
  const { port } = server.address() as AddressInfo;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await autocannon({ url: `http://127.0.0.1:${port}/users/42`, connections: CONNECTIONS, duration: SECONDS });
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - started) / 1000;
  const requests = result['2xx'] + result.non2xx;
  // Over the measured wall time, not autocannon's per-second samples (runs are short).
  return { rps: requests / seconds, cpuUs: (used.user + used.system) / Math.max(1, requests), non2xx: result.non2xx };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function main(): Promise<void> {
  // A queue that never fills at 16 connections: what is measured is the cost of passing through.
  const queue = new TaskQueue({ concurrency: 64, maxSize: 1_000, name: 'bench' });
  const variants = [
    { name: 'bare node:http', server: await listen(handle) },
    { name: 'toNode(no-op middleware)', server: await listen(behind(toNode((_exchange, next) => next().then(() => undefined)))) },
    { name: "toNode(compose(timeout('5s'), shed(queue)))", server: await listen(behind(toNode(compose(timeout('5s'), shed(queue))))) },
  ];
  for (const v of variants) await load(v.server); // warm-up (JIT)

  const rps = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const ratio = new Map<string, number[]>(variants.map((v) => [v.name, [1]]));
  const added = new Map<string, number[]>(variants.map((v) => [v.name, [0]]));
  let non2xx = 0;
  const [bare, ...others] = variants;
  for (let round = 0; round < ROUNDS; round++) {
    const order = others.map((_, i) => others[(i + round) % others.length]!);
    for (const v of order) {
      const bareFirst = round % 2 === 0;
      globalThis.gc?.();
      const a = await load(bareFirst ? bare!.server : v.server);
      globalThis.gc?.();
      const b = await load(bareFirst ? v.server : bare!.server);
      const [base, run] = bareFirst ? [a, b] : [b, a];
      for (const [name, r] of [
        [bare!.name, base],
        [v.name, run],
      ] as const) {
        rps.get(name)!.push(r.rps);
        cpu.get(name)!.push(r.cpuUs);
        non2xx += r.non2xx;
      }
      ratio.get(v.name)!.push(run.rps / base.rps);
      added.get(v.name)!.push(run.cpuUs - base.cpuUs);
    }
  }
  for (const v of others) {
    ratio.get(v.name)!.shift();
    added.get(v.name)!.shift();
  }

  console.log(
    `\nheadroom/http node adapter, GET with a small JSON answer, node:http on loopback, autocannon ${CONNECTIONS} connections (same process), ${ROUNDS} rounds of ${SECONDS}s runs, each variant paired with a bare run next to it, medians (ratios: median of per-pair ratios)`,
  );
  console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| variant | req/s | throughput vs bare | CPU us / request | CPU added vs bare |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const m = median(rps.get(v.name)!);
    const c = median(cpu.get(v.name)!);
    const spread = `${Math.round(Math.min(...rps.get(v.name)!))}-${Math.round(Math.max(...rps.get(v.name)!))}`;
    const d = median(added.get(v.name)!);
    console.log(
      `| ${v.name} | ${Math.round(m)} (${spread}) | ${median(ratio.get(v.name)!).toFixed(2)}x | ${c.toFixed(0)} | ${d >= 0 ? '+' : ''}${d.toFixed(0)} us |`,
    );
  }
  if (non2xx > 0) console.log(`\nnote: ${non2xx} non-2xx responses during the run`);
  for (const v of variants) {
    v.server.close();
    v.server.closeAllConnections();
  }
  await queue.close({ drain: false });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
