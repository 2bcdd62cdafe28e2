/**
 * `npm run demo`: a small node:http service behind headroom's load-safety middleware, a short
 * burst of load on loopback, and a report of what happened. Needs nothing but Node.
 *
 * Each section is one function, so later modules can add theirs (a cache in front of /slow,
 * percentiles for the report, health checks...).
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { compose, requestSignal, shed, timeout, toNode } from '../src/http/index.js';
import { TaskQueue } from '../src/queue/index.js';

const LOAD_MS = 6_000;
const CLIENTS = 48;
const REQUEST_TIMEOUT = '400ms';

interface Service {
  url: string;
  queue: TaskQueue;
  close(): Promise<void>;
}

/** Waits `ms`, or rejects as soon as `signal` aborts (the way real I/O honours a signal). */
function busy(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}

/** The routes: fast, slow, and one that sometimes hangs until the timeout aborts it. */
async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const signal = requestSignal(req);
  const path = (req.url ?? '/').split('?')[0];
  try {
    if (path === '/fast') {
      await busy(2, signal);
    } else if (path === '/slow') {
      await busy(50 + Math.random() * 150, signal);
    } else if (path === '/flaky') {
      await busy(Math.random() < 0.3 ? 60_000 : 20, signal);
    } else {
      res.writeHead(404).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path, at: Date.now() }));
  } catch {
    // Aborted: the timeout already answered 504 for us; stop working.
  }
}

/** Starts the service: timeout around a bounded queue around the routes. */
async function startService(): Promise<Service> {
  const queue = new TaskQueue({ concurrency: 8, maxSize: 16, name: 'demo' });
  const guard = toNode(compose(timeout(REQUEST_TIMEOUT, { name: 'request' }), shed(queue)));
  const server: Server = http.createServer((req, res) => guard(req, res, () => void route(req, res)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queue,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close({ drain: false });
    },
  };
}

interface LoadResult {
  durationMs: number;
  byStatus: Map<number, number>;
  /** Latency in ms of every request, by outcome. */
  latency: { served: number[]; timedOut: number[]; shed: number[] };
  errors: number;
}

function pickPath(): string {
  const roll = Math.random();
  return roll < 0.55 ? '/fast' : roll < 0.85 ? '/slow' : '/flaky';
}

/** One line, rewritten in place on a terminal; a line per second otherwise. */
function progress(result: LoadResult, elapsed: number, done: boolean): void {
  const count = (status: number): number => result.byStatus.get(status) ?? 0;
  const total = [...result.byStatus.values()].reduce((a, b) => a + b, 0);
  const line =
    `  load ${(elapsed / 1000).toFixed(1)}s/${LOAD_MS / 1000}s  requests ${total}  ` +
    `served ${count(200)}  timed out ${count(504)}  shed ${count(503)}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${done ? '\n' : ''}`);
  else if (done || Math.round(elapsed / 250) % 4 === 0) console.log(line);
}

/** `CLIENTS` concurrent clients send requests back to back for `LOAD_MS`. */
async function driveLoad(url: string): Promise<LoadResult> {
  const result: LoadResult = { durationMs: 0, byStatus: new Map(), latency: { served: [], timedOut: [], shed: [] }, errors: 0 };
  const started = performance.now();
  const deadline = started + LOAD_MS;
  const ticker = setInterval(() => progress(result, performance.now() - started, false), 250);
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const response = await fetch(url + pickPath());
        await response.arrayBuffer();
        const ms = performance.now() - sent;
        result.byStatus.set(response.status, (result.byStatus.get(response.status) ?? 0) + 1);
        if (response.status === 200) result.latency.served.push(ms);
        else if (response.status === 504) result.latency.timedOut.push(ms);
        else if (response.status === 503) {
          result.latency.shed.push(ms);
          // A polite client honours Retry-After; this one only backs off a little.
          await sleep(25);
        }
      } catch {
        result.errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  clearInterval(ticker);
  result.durationMs = performance.now() - started;
  progress(result, result.durationMs, true);
  return result;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function latencyRow(name: string, samples: number[]): string {
  const sorted = samples.slice().sort((a, b) => a - b);
  const cell = (q: number): string => (sorted.length === 0 ? '-' : quantile(sorted, q).toFixed(1));
  return `| ${name.padEnd(10)} | ${String(sorted.length).padStart(6)} | ${cell(0.5).padStart(6)} | ${cell(0.9).padStart(6)} | ${cell(0.99).padStart(6)} | ${(sorted.length === 0 ? '-' : sorted[sorted.length - 1]!.toFixed(1)).padStart(6)} |`;
}

/** What happened: counts by outcome, latency by outcome, what the queue saw. */
function report(result: LoadResult, service: Service): void {
  const count = (status: number): number => result.byStatus.get(status) ?? 0;
  const total = [...result.byStatus.values()].reduce((a, b) => a + b, 0);
  const seconds = result.durationMs / 1000;
  console.log(`\n${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} req/s) from ${CLIENTS} clients`);
  console.log(`  served     ${count(200)}   (200)`);
  console.log(`  timed out  ${count(504)}   (504 after ${REQUEST_TIMEOUT}: the handler's signal was aborted)`);
  console.log(`  shed       ${count(503)}   (503 + Retry-After: the queue was full)`);
  const other = total - count(200) - count(504) - count(503);
  if (other > 0 || result.errors > 0) console.log(`  other      ${other} responses, ${result.errors} network errors`);
  console.log('\nlatency (ms)');
  console.log('| outcome    |      n |    p50 |    p90 |    p99 |    max |');
  console.log('|------------|-------:|-------:|-------:|-------:|-------:|');
  console.log(latencyRow('served', result.latency.served));
  console.log(latencyRow('timed out', result.latency.timedOut));
  console.log(latencyRow('shed', result.latency.shed));
  const stats = service.queue.stats();
  console.log(
    `\nqueue "demo" (concurrency 8, maxSize 16): added ${stats.added}, completed ${stats.completed}, ` +
      `rejected ${stats.rejected}, failed ${stats.failed}`,
  );
}

async function main(): Promise<void> {
  console.log('headroom demo: timeout + shed on a node:http service\n');
  const service = await startService();
  console.log(`service on ${service.url}: /fast, /slow, /flaky (hangs 30% of the time)`);
  const result = await driveLoad(service.url);
  report(result, service);
  await service.close();
}

await main();
