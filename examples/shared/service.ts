/**
 * The parts every example app is made of, built once here so that each app shows only what
 * differs between frameworks: how headroom's middleware and handlers are mounted. Read this file
 * first; `examples/README.md` says what each route demonstrates.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache } from 'headroom/cache';
import { dashboardHandler, metricsHandler } from 'headroom/dashboard';
import { HealthChecker, pgCheck, queueCheck, redisCheck, type ClosableServer } from 'headroom/health';
import { compose, problemResponse, timeout, type HeaderMap } from 'headroom/http';
import { Idempotency, RedisIdempotencyStore, fingerprint, idempotencyMiddleware } from 'headroom/idempotency';
import { PercentileTracker, percentileMiddleware, type PercentileMiddlewareOptions } from 'headroom/percentiles';
import { TaskQueue } from 'headroom/queue';
import { RateLimiter, RedisRateLimitStore, rateLimitMiddleware } from 'headroom/ratelimit';
import { CircuitBreaker, RetryBudget, RetryPolicy, TimeoutPolicy, isHeadroomError, pipeline, retryingFetch } from 'headroom/resilience';
import { config } from './config.js';
import { connectPostgres, insertOrder, migrate, selectProduct, selectReport, type Order } from './postgres.js';
import { startPricingUpstream } from './pricing-upstream.js';
import { connectRedis } from './redis.js';

/** Who is calling: the credential, hashed (no token ends up in Redis keys), or everyone else. */
const caller = (authorization: string | undefined): string => (authorization ? fingerprint(authorization) : 'anonymous');

/** Starts the connections and builds the parts; `close()` releases them all. */
export async function createService() {
  const redis = connectRedis(config.redisUrl);
  const pool = connectPostgres(config.databaseUrl);
  await migrate(pool);
  const upstream = config.pricingUrl === undefined ? await startPricingUpstream() : undefined;
  const pricingUrl = config.pricingUrl ?? upstream!.url;
  const prefix = config.keyPrefix;

  // headroom/cache: L1 in this process, Redis as L2, other instances told of changes over the bus.
  const cache = createCache({ redis, prefix: `${prefix}cache:`, ttl: '10m', grace: '1h' });
  // headroom/percentiles: every request timed under its route template ('GET /products/:id').
  const tracker = new PercentileTracker({ windows: ['1m', '1h'] });
  // headroom/queue: GET /report runs at most 2 at once, 2 more wait, the rest get 503.
  const reports = new TaskQueue({ concurrency: 2, maxSize: 2, name: 'reports' });
  // headroom/idempotency: POST /orders runs once per key and caller, Redis holds the outcomes.
  const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis, { prefix: `${prefix}idem:` }), ttl: '24h', storeTimeout: '1s' });
  // headroom/ratelimit: RATE_LIMIT requests a minute per caller, counted in Redis for every instance.
  const limiter = new RateLimiter({
    name: 'per-caller',
    limit: config.rateLimit,
    window: '1m',
    store: new RedisRateLimitStore(redis, { prefix: `${prefix}rl:` }),
  });
  // headroom/resilience: retries within a budget, a breaker, and a deadline per attempt.
  const pricingBreaker = new CircuitBreaker({ name: 'pricing', cooldown: '5s' });
  const pricing = retryingFetch(fetch, {
    policy: pipeline(new RetryPolicy({ maxAttempts: 3, budget: new RetryBudget() }), pricingBreaker, new TimeoutPolicy('500ms')),
  });
  // headroom/health: Postgres down is unhealthy (503), Redis down or the report queue full degraded.
  const health = new HealthChecker({ timeout: '500ms', cacheFor: '1s' })
    .register('postgres', pgCheck(pool))
    .register('redis', redisCheck(redis), { critical: false })
    .register('reports', queueCheck(reports, { degradedAt: 0.5, unhealthyAt: 1 }), { critical: false });

  // headroom/dashboard: one page and one Prometheus endpoint for everything above.
  const sources = {
    percentiles: tracker,
    cache,
    health,
    idempotency,
    queues: { reports },
    breakers: { pricing: pricingBreaker },
    limiters: { 'per-caller': limiter },
  };
  const token = config.dashboardToken;
  const dashboard = dashboardHandler({
    ...sources,
    title: 'headroom example',
    authorize: (exchange) => token !== undefined && exchange.header('authorization') === `Bearer ${token}`,
  });
  const metrics = metricsHandler(sources);

  return {
    cache,
    tracker,
    reports,
    health,
    dashboard,
    metrics,
    /**
     * The middleware of every route, outermost first: timed under the route's template (or
     * `routeKey`, for node:http which has no router), then the rate limit (so a refused request
     * costs nothing else; probes and scrapes are never limited), then a 2 s deadline.
     */
    everyRoute: (routeKey?: PercentileMiddlewareOptions['key']) =>
      compose(
        percentileMiddleware(tracker, { serverTiming: true, key: routeKey }),
        rateLimitMiddleware(limiter, {
          key: (exchange) => caller(exchange.header('authorization')),
          skip: (exchange) => exchange.path.startsWith('/health/') || exchange.path === '/metrics' || exchange.path === '/dashboard',
        }),
        timeout('2s', { name: 'request' }),
      ),
    /** For POST /orders: an `Idempotency-Key` is required, and keys belong to their caller. */
    idempotent: idempotencyMiddleware(idempotency, { required: true, scope: (exchange) => caller(exchange.header('authorization')) }),

    /** GET /products/:id: Postgres only on a miss; `cached` says whether it was spared. */
    async product(id: string) {
      const productId = Number(id);
      if (!Number.isSafeInteger(productId) || productId < 1) return { product: null, cached: false };
      let cached = true;
      const product = await cache.getOrSet(`product:${productId}`, () => {
        cached = false;
        return selectProduct(pool, productId);
      });
      return { product, cached };
    },
    /** GET /report: an expensive query, run through the `reports` queue by `shed(reports)`. */
    report: () => selectReport(pool),
    /** GET /slow: a call that takes 5 s unless its signal aborts first. */
    slowCall: (signal: AbortSignal) => sleep(5_000, { done: true }, { signal }),
    /** GET /quote/:id: the pricing upstream, retried, behind its breaker. */
    async quote(id: string, signal: AbortSignal): Promise<unknown> {
      const response = await pricing(`${pricingUrl}/prices/${encodeURIComponent(id)}`, { signal });
      if (!response.ok) throw Object.assign(new Error(`pricing answered ${response.status}`), { status: 502 });
      return response.json();
    },
    /** POST /orders: inserts the order, or `undefined` for a body that is not `{ sku, quantity }`. */
    placeOrder(body: unknown): Promise<Order> | undefined {
      const input = orderInput(body);
      return input && insertOrder(pool, input);
    },

    /** The server as `health.shutdown()` closes it: open dashboard feeds end first, or it would wait for them. */
    closing(server: ClosableServer): ClosableServer {
      return {
        close: (done) => {
          dashboard.close();
          return server.close(done);
        },
        closeIdleConnections: () => server.closeIdleConnections?.(),
        closeAllConnections: () => server.closeAllConnections?.(),
      };
    },
    /** `onShutdown`: what is left once the server closed and the queue drained. */
    async close(): Promise<void> {
      await cache.close(); // closes the bus connection it made
      tracker.close();
      await pricingBreaker.close();
      await upstream?.close();
      await pool.end();
      await redis.quit(); // the client we passed in is ours to close
    },
  };
}

/** What a failed call answers: its own problem for a headroom error (504, 503...), else a 502 problem. */
export function failure(err: unknown): { status: number; headers: HeaderMap; body: string } {
  const problem = isHeadroomError(err) ? err : { status: 502, code: 'UPSTREAM_FAILED', detail: (err as Error).message };
  const { status, headers = {}, body } = problemResponse(problem);
  return { status, headers, body: body as string }; // a problem's body is always its JSON text
}

/** `{ sku, quantity }` from a parsed body, raw bytes or a string; `undefined` when it is not one. */
function orderInput(body: unknown): { sku: string; quantity: number } | undefined {
  let value = body;
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value);
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const { sku, quantity } = (value ?? {}) as { sku?: unknown; quantity?: unknown };
  if (typeof sku !== 'string' || sku === '' || !Number.isSafeInteger(quantity) || (quantity as number) < 1) return undefined;
  return { sku, quantity: quantity as number };
}
