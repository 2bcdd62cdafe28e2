/**
 * `npm run demo`: a small node:http service built from headroom's pieces, a short burst of load
 * on loopback, and a report of what happened. Needs nothing but Node: the cache runs L1-only and
 * idempotency uses the in-memory store, so no Redis is required.
 *
 * The service, from the outside in:
 *   percentiles  -> every request timed per route, p50/p95/p99 on the server side
 *   ratelimit    -> 20 requests a second per client (X-Client-Id); a greedy client gets 429s
 *   timeout      -> 504 after 400 ms, the handler's signal aborted
 *   shed         -> at most 12 requests at work and 24 waiting; the rest get 503 + Retry-After
 *   idempotency  -> POST /orders runs once per Idempotency-Key, retries get the first answer
 *   cache        -> GET /report computed once per second instead of on every request
 *   resilience   -> GET /flaky calls an upstream that hangs 30% of the time and goes down for
 *                   1.5 s mid-run, through a retry (with a retry budget), a circuit breaker and
 *                   a per-attempt timeout: hangs are retried, the outage is refused fast (503)
 *   health       -> GET /ready reports the queue's depth and the event loop's delay
 *   dashboard    -> GET /dashboard shows it all live; GET /metrics for Prometheus
 *
 * `npm run demo -- --serve` keeps the service up afterwards (with a little traffic) so you can
 * watch the dashboard; Ctrl-C stops it.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache, type Cache } from 'headroom/cache';
import { alertRules, dashboardHandler, metricsHandler } from 'headroom/dashboard';
import { HealthChecker, eventLoopCheck, queueCheck, readinessHandler } from 'headroom/health';
import { compose, requestSignal, shed, timeout, toNode } from 'headroom/http';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from 'headroom/idempotency';
import { PercentileTracker, percentileMiddleware } from 'headroom/percentiles';
import { TaskQueue } from 'headroom/queue';
import { withTimeout } from 'headroom/timeout';
import { CircuitBreaker, RetryBudget, RetryPolicy, TimeoutPolicy, isHeadroomError, pipeline, type Pipeline } from 'headroom/resilience';
import { RateLimiter, rateLimitMiddleware } from 'headroom/ratelimit';

const LOAD_MS = 6_000;
const CLIENTS = 40;
/** Connections of the greedy client, all under one client id, sending back to back. */
const GREEDY_CONNECTIONS = 8;
const GREEDY_ID = 'greedy';
const REQUEST_TIMEOUT = '400ms';
const ROUTES = ['GET /fast', 'GET /slow', 'GET /flaky', 'GET /report', 'POST /orders'];

/** The upstream behind GET /flaky: 20 ms, or a hang 30% of the time; failing fast while down. */
class Upstream {
  calls = 0;
  private downUntil = 0;

  /** Fails every call for `ms`. */
  outage(ms: number): void {
    this.downUntil = performance.now() + ms;
  }

  async call(signal: AbortSignal): Promise<{ ok: true }> {
    this.calls += 1;
    if (performance.now() < this.downUntil) {
      await busy(5, signal);
      throw Object.assign(new Error('upstream unavailable'), { status: 503 });
    }
    await busy(Math.random() < 0.3 ? 60_000 : 20, signal);
    return { ok: true };
  }
}

/** What stands between GET /flaky and its upstream. */
interface Guarded {
  upstream: Upstream;
  budget: RetryBudget;
  breaker: CircuitBreaker;
  retry: RetryPolicy;
  retries: number;
  policy: Pipeline;
}

function guardUpstream(): Guarded {
  const upstream = new Upstream();
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 5 });
  const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initial: '10ms', max: '50ms' }, budget });
  const breaker = new CircuitBreaker({ name: 'upstream', trip: { consecutive: 5 }, cooldown: '500ms' });
  const guarded: Guarded = { upstream, budget, breaker, retry, retries: 0, policy: pipeline(retry, breaker, new TimeoutPolicy('100ms')) };
  retry.on('retry', () => {
    guarded.retries += 1;
  });
  return guarded;
}

interface Service {
  url: string;
  queue: TaskQueue;
  flaky: Guarded;
  limiter: RateLimiter;
  tracker: PercentileTracker;
  cache: Cache;
  health: HealthChecker;
  orders: { run: number };
  close(): Promise<void>;
}

/** Waits `ms`, or rejects as soon as `signal` aborts (the way real I/O honours a signal). */
function busy(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

/** The application's routes; everything load-related is handled by the middleware around them. */
function routes(service: Pick<Service, 'cache' | 'orders' | 'flaky'>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const signal = requestSignal(req);
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method === 'GET' && path === '/fast') {
        await busy(2, signal);
        json(res, 200, { path });
      } else if (req.method === 'GET' && path === '/slow') {
        await busy(50 + Math.random() * 150, signal);
        json(res, 200, { path });
      } else if (req.method === 'GET' && path === '/flaky') {
        // A hung attempt times out after 100 ms and is retried (within the budget); while the
        // upstream is down the breaker opens and answers at once.
        try {
          await service.flaky.policy.execute(({ signal: attempt }) => service.flaky.upstream.call(attempt), { signal });
          json(res, 200, { path });
        } catch (err) {
          if (signal.aborted) throw err; // the request itself timed out: already answered 504
          if (isHeadroomError(err, 'CIRCUIT_OPEN')) {
            // Refused at once: 503 with the cooldown left as Retry-After.
            res.setHeader('retry-after', String(Math.max(1, Math.ceil((err.retryAfterMs ?? 1000) / 1000))));
            json(res, 503, { path, error: err.code });
          } else {
            json(res, 502, { path, error: 'upstream failed after its retries' });
          }
        }
      } else if (req.method === 'GET' && path === '/report') {
        // An expensive aggregate (120 ms), cached for a second: one computation serves everyone.
        const report = await service.cache.getOrSet(
          'report',
          async ({ signal: work }) => {
            await busy(120, work);
            return { generatedAt: new Date().toISOString(), total: Math.round(Math.random() * 1e6) };
          },
          '1s',
        );
        json(res, 200, report);
      } else if (req.method === 'POST' && path === '/orders') {
        service.orders.run += 1;
        await busy(30, signal);
        json(res, 201, { order: `ord_${service.orders.run}` });
      } else {
        json(res, 404, { path });
      }
    } catch {
      // Aborted: the timeout middleware already answered 504; stop working.
    }
  };
}

/** Starts the service with every module wired in. */
async function startService(): Promise<Service> {
  const queue = new TaskQueue({ concurrency: 12, maxSize: 24, name: 'demo' });
  const tracker = new PercentileTracker({ windows: ['1m'] });
  const cache = createCache({ l1: { maxEntries: 1_000 } });
  const idempotency = new Idempotency({ store: new MemoryIdempotencyStore({ maxEntries: 10_000 }) });
  const health = new HealthChecker({ timeout: '200ms', cacheFor: '500ms' });
  health.register('queue', queueCheck(queue, { degradedAt: 0.5, unhealthyAt: 1 }), { critical: false });
  health.register('event-loop', eventLoopCheck({ degradedAtMs: 100, unhealthyAtMs: 1_000 }), { critical: false });
  const orders = { run: 0 };
  const flaky = guardUpstream();
  // Per client, 20 requests a second, 20 at once (a polite client sends about 5). Probes are never limited.
  const limiter = new RateLimiter({ name: 'per-client', limit: 20, window: '1s' });
  const limited = rateLimitMiddleware(limiter, {
    key: (exchange) => exchange.header('x-client-id') ?? 'anonymous',
    skip: (exchange) => exchange.path === '/ready',
  });

  // Plain node:http has no route templates; these paths carry no ids, so method + path is safe.
  const timed = percentileMiddleware(tracker, { serverTiming: true, key: (ex) => `${ex.method} ${ex.path}` });
  const guard = toNode(compose(timed, limited, timeout(REQUEST_TIMEOUT, { name: 'request' }), shed(queue), idempotencyMiddleware(idempotency)));
  const ready = toNode(readinessHandler(health, { detail: 'full' }));
  // The demo listens on loopback only; a real service passes `authorize` (see docs/dashboard.md).
  const sources = {
    percentiles: tracker,
    cache,
    health,
    idempotency,
    queues: { demo: queue },
    breakers: { upstream: flaky.breaker },
    limiters: { 'per-client': limiter },
  };
  const alerts = alertRules({
    percentiles: tracker,
    rules: [{ name: 'flaky-is-slow', severity: 'warning', key: 'GET /flaky', p99Above: '300ms', for: '5s' }],
  });
  const dashboard = dashboardHandler({ ...sources, alerts, title: 'headroom demo' });
  const live = toNode(dashboard);
  const metrics = toNode(metricsHandler(sources));
  const app = routes({ cache, orders, flaky });
  const server: Server = http.createServer((req, res) => {
    if (req.url?.startsWith('/ready')) ready(req, res);
    else if (req.url?.startsWith('/dashboard')) live(req, res);
    else if (req.url?.startsWith('/metrics')) metrics(req, res);
    else guard(req, res, () => void app(req, res));
  });
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queue,
    flaky,
    limiter,
    tracker,
    cache,
    health,
    orders,
    close: async () => {
      dashboard.close();
      await alerts.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Bounded: a slot a handler never gave back must not keep the demo from exiting.
      await withTimeout(queue.close({ drain: false }), '1s', 'queue close').catch(() => undefined);
      await cache.close();
      health.close();
      tracker.close();
    },
  };
}

interface LoadResult {
  durationMs: number;
  byStatus: Map<number, number>;
  /** Client-side latency by outcome, itself kept in a PercentileTracker. */
  latency: PercentileTracker;
  orders: { sent: number; replayed: number; conflicts: number };
  /** Requests and 429s of the greedy client and of the well-behaved ones. */
  greedy: { sent: number; limited: number };
  polite: { sent: number; limited: number };
  errors: number;
}

/** A request to send: mostly reads, some order POSTs whose keys are sometimes retried. */
function pickRequest(): { path: string; init?: RequestInit } {
  const roll = Math.random();
  if (roll < 0.4) return { path: '/fast' };
  if (roll < 0.6) return { path: '/slow' };
  if (roll < 0.7) return { path: '/flaky' };
  if (roll < 0.85) return { path: '/report' };
  // One order key in three is a retry of a recent order: it must not place a second order.
  const key = `order-${Math.floor(Math.random() * 400)}`;
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ sku: 'demo', key }),
  };
  return { path: '/orders', init };
}

/** One line, rewritten in place on a terminal; a line a second otherwise. */
function progress(result: LoadResult, elapsed: number, done: boolean): void {
  const count = (status: number): number => result.byStatus.get(status) ?? 0;
  const total = [...result.byStatus.values()].reduce((a, b) => a + b, 0);
  const line =
    `  load ${(elapsed / 1000).toFixed(1)}s/${LOAD_MS / 1000}s  requests ${total}  ` +
    `served ${count(200) + count(201)}  timed out ${count(504)}  shed ${count(503)}  rate limited ${count(429)}`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${done ? '\n' : ''}`);
  else if (done || Math.round(elapsed / 250) % 4 === 0) console.log(line);
}

/** `CLIENTS` concurrent clients send requests back to back for `LOAD_MS`. */
async function driveLoad(url: string): Promise<LoadResult> {
  const result: LoadResult = {
    durationMs: 0,
    byStatus: new Map(),
    latency: new PercentileTracker({ windows: ['1h'] }),
    orders: { sent: 0, replayed: 0, conflicts: 0 },
    greedy: { sent: 0, limited: 0 },
    polite: { sent: 0, limited: 0 },
    errors: 0,
  };
  const started = performance.now();
  const deadline = started + LOAD_MS;
  const ticker = setInterval(() => progress(result, performance.now() - started, false), 250);
  const client = async (id: string): Promise<void> => {
    const greedy = id === GREEDY_ID;
    const tally = greedy ? result.greedy : result.polite;
    while (performance.now() < deadline) {
      const { path, init } = greedy ? { path: '/fast', init: undefined } : pickRequest();
      const headers = { ...(init?.headers as Record<string, string> | undefined), 'x-client-id': id };
      const stop = result.latency.startTimer('all');
      try {
        const response = await fetch(url + path, { ...init, headers });
        await response.arrayBuffer();
        tally.sent += 1;
        if (response.status === 429) tally.limited += 1;
        const outcome =
          response.status < 300
            ? 'served'
            : response.status === 504
              ? 'timed out'
              : response.status === 503
                ? 'shed'
                : response.status === 429
                  ? 'rate limited'
                  : 'other';
        result.latency.record(outcome, stop());
        result.byStatus.set(response.status, (result.byStatus.get(response.status) ?? 0) + 1);
        if (init !== undefined) {
          result.orders.sent += 1;
          if (response.headers.get('idempotent-replayed') === 'true') result.orders.replayed += 1;
          if (response.status === 409) result.orders.conflicts += 1;
        }
        // A polite client honours Retry-After; this one only backs off a little.
        if (response.status === 503) await sleep(50);
      } catch {
        result.errors += 1;
      }
    }
  };
  await Promise.all([
    ...Array.from({ length: CLIENTS }, (_, i) => client(`client-${i}`)),
    // Ignores Retry-After and never pauses: the rate limiter keeps it to its share.
    ...Array.from({ length: GREEDY_CONNECTIONS }, () => client(GREEDY_ID)),
  ]);
  clearInterval(ticker);
  result.durationMs = performance.now() - started;
  progress(result, result.durationMs, true);
  return result;
}

function row(name: string, tracker: PercentileTracker, key: string): string {
  const s = tracker.stats(key);
  const cell = (v: number): string => (s.count === 0 ? '-' : v.toFixed(1)).padStart(7);
  return `| ${name.padEnd(13)} | ${String(s.count).padStart(6)} | ${cell(s.p50)} | ${cell(s.p95)} | ${cell(s.p99)} | ${cell(s.max)} |`;
}

function table(title: string, rows: string[]): void {
  console.log(`\n${title}`);
  console.log('| route/outcome |      n |     p50 |     p95 |     p99 |     max |');
  console.log('|---------------|-------:|--------:|--------:|--------:|--------:|');
  for (const line of rows) console.log(line);
}

/** What happened: outcomes, latency on both sides, and what each module saw. */
async function report(result: LoadResult, service: Service): Promise<void> {
  const count = (status: number): number => result.byStatus.get(status) ?? 0;
  const total = [...result.byStatus.values()].reduce((a, b) => a + b, 0);
  const seconds = result.durationMs / 1000;
  console.log(
    `\n${total} requests in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} req/s) from ${CLIENTS} clients and a greedy one on ${GREEDY_CONNECTIONS} connections`,
  );
  console.log(`  served     ${count(200) + count(201)}   (200/201)`);
  console.log(`  timed out  ${count(504)}   (504 after ${REQUEST_TIMEOUT}: the handler's signal was aborted)`);
  console.log(`  shed       ${count(503)}   (503 + Retry-After: the queue was full, or GET /flaky's breaker was open)`);
  console.log(`  limited    ${count(429)}   (429 + Retry-After + RateLimit headers: over 20 requests a second for one client)`);
  const other = total - count(200) - count(201) - count(504) - count(503) - count(429);
  if (other > 0 || result.errors > 0) {
    console.log(
      `  other      ${other} responses (409: order retried while in flight; 502: GET /flaky's upstream failed its retries), ${result.errors} network errors`,
    );
  }

  table(
    'client-side latency (ms), by outcome',
    ['served', 'timed out', 'shed', 'rate limited'].map((o) => row(o, result.latency, o)),
  );
  table(
    'server-side latency (ms), by route (headroom/percentiles)',
    ROUTES.map((r) => row(r, service.tracker, r)),
  );

  const g = result.greedy;
  const p = result.polite;
  const l = service.limiter.stats();
  console.log(
    `\nrate limit "per-client" (20/s): the greedy client sent ${g.sent} requests, ${g.limited} refused with 429 ` +
      `(${g.sent === 0 ? 0 : ((g.limited / g.sent) * 100).toFixed(0)}%); the ${CLIENTS} others sent ${p.sent}, ${p.limited} refused; ` +
      `${l.checks} checks, ${l.allowed} allowed`,
  );
  const q = service.queue.stats();
  console.log(`\nqueue "demo" (concurrency 12, maxSize 24): added ${q.added}, completed ${q.completed}, rejected ${q.rejected}, timed out ${q.timedOut}`);
  const c = service.cache.stats();
  console.log(`cache: /report computed ${c.factory.calls} times for ${c.l1.hits + c.l1.misses} reads (hit rate ${(c.hitRate * 100).toFixed(1)}%)`);
  const o = result.orders;
  console.log(
    `idempotency: ${o.sent} order POSTs, ${service.orders.run} orders placed, ${o.replayed} answered from the first result, ` +
      `${o.conflicts} refused with 409 while their first attempt was in flight`,
  );
  const f = service.flaky;
  const b = f.breaker.stats();
  const budget = f.budget.stats();
  console.log(
    `resilience: GET /flaky made ${f.upstream.calls} upstream calls (${f.retries} retries, ${budget.refused} more refused by the retry budget); ` +
      `the breaker opened ${b.opened} times and refused ${b.rejected} calls at once (503 + Retry-After) during the outage, now ${b.state}`,
  );
  const health = await service.health.check();
  const checks = Object.entries(health.checks)
    .map(([name, c]) => `${name} ${c.status}`)
    .join(', ');
  console.log(`health: ${health.status} (${checks})`);
}

/** `--serve`: a few clients at a gentle pace until Ctrl-C, so the dashboard has something to show. */
async function serve(service: Service): Promise<void> {
  console.log(`\nserving until Ctrl-C: watch ${service.url}/dashboard`);
  let stopping = false;
  process.once('SIGINT', () => {
    stopping = true;
  });
  const client = async (): Promise<void> => {
    while (!stopping) {
      const { path, init } = pickRequest();
      await fetch(service.url + path, init).then(
        (r) => r.arrayBuffer(),
        () => undefined,
      );
      await sleep(50 + Math.random() * 200);
    }
  };
  await Promise.all(Array.from({ length: 6 }, client));
}

async function main(): Promise<void> {
  console.log('headroom demo: percentiles + rate limit + timeout + shed + idempotency + cache + health on node:http\n');
  const service = await startService();
  console.log(
    `service on ${service.url}: GET /fast /slow /flaky (its upstream hangs 30% of the time, and is down 1.5 s mid-run) /report (cached), POST /orders, GET /ready`,
  );
  console.log(`dashboard: ${service.url}/dashboard   metrics: ${service.url}/metrics`);
  // Two seconds in, the upstream of GET /flaky goes down for 1.5 s.
  const outage = setTimeout(() => service.flaky.upstream.outage(1_500), 2_000);
  const result = await driveLoad(service.url);
  clearTimeout(outage);
  await report(result, service);
  result.latency.close();
  if (process.argv.includes('--serve')) await serve(service);
  await service.close();
}

await main();
