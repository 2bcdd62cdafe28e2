// The names the TypeScript examples of README.md and docs/*.md may use without declaring them:
// what a service already has (its app, its Redis client, its pool, its logger, its own
// functions). test/docs/code-blocks.test.ts compiles every example with this file in scope
// (docs/CONTRIBUTING.md, "Code examples"). Give each name the type a real service would have:
// never `any`, or the examples stop being checked.

/** A row of your database. */
interface Row {
  id: string;
  [column: string]: unknown;
}

/** A report your service computes. */
interface Report {
  rows: Row[];
}

/** An order of the shop the examples run. */
interface Order {
  id: string;
  amount: number;
}

/** Prices from a pricing service. */
interface Prices {
  items: Record<string, number>;
  /** Some items are missing: do not cache. */
  partial: boolean;
  /** Prices change often today: cache them briefly. */
  volatile: boolean;
  region: string;
}

/** A pino-like logger. */
interface Logger {
  info(message: string): void;
  info(fields: object, message?: string): void;
  warn(message: string): void;
  warn(fields: object, message?: string): void;
  error(message: string): void;
  error(fields: object, message?: string): void;
}

// The service's building blocks.
declare const app: import('express').Express;
/** The same service on Fastify, Koa or Hono. */
declare const fastify: import('fastify').FastifyInstance;
declare const koa: import('koa');
declare const hono: import('hono').Hono;
declare const redis: import('ioredis').Redis;
declare const pool: import('pg').Pool;
declare const log: Logger;
declare const db: {
  query(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  report(id: string, options: { signal: AbortSignal }): Promise<Row[]>;
  users: { find(id: string): Promise<Row | null> };
};
declare const users: { find(id: string, options: { signal: AbortSignal }): Promise<Row | null> };
declare const payments: { charge(body: unknown): Promise<Order> };
/** The circuit breaker around `payments`, from another library (cockatiel). */
declare const paymentsBreaker: import('cockatiel').CircuitBreakerPolicy;

// headroom objects built elsewhere in the service.
declare const cache: import('headroom/cache').Cache;
declare const tracker: import('headroom/percentiles').PercentileTracker;
declare const health: import('headroom/health').HealthChecker;
declare const idempotency: import('headroom/idempotency').Idempotency;
declare const queue: import('headroom/queue').TaskQueue;
declare const jobs: import('headroom/queue').TaskQueue;

// Values at hand where an example runs.
/** The request of a fetch-style handler. */
declare const request: Request;
declare const id: string;
declare const sql: string;
declare const instanceId: string;
declare const REPORT_SERVICE_URL: string;
declare const lastKnownPrices: Prices;
declare const encodedFromEveryInstance: string[];
/** An idempotency key, the caller's account and its order. */
declare const key: string;
declare const account: { id: string };
declare const order: Order;

// The service's own functions.
declare function work(context: { signal: AbortSignal }): Promise<void>;
declare function slowReport(): Promise<Report>;
declare function report(options: { signal: AbortSignal }): Promise<Report>;
declare function renderReport(input: unknown, options: { signal: AbortSignal }): Promise<Uint8Array>;
declare function sendEmail(input: unknown, options: { signal: AbortSignal }): Promise<void>;
declare function loadProduct(id: string, signal: AbortSignal): Promise<Row | null>;
declare function fetchPrices(options: { signal: AbortSignal }): Promise<Prices>;
declare function computeRevenue(): Promise<number>;
declare function createOrder(pool: import('pg').Pool, input: unknown): Promise<Order>;
declare function sendConfirmation(order: Order): Promise<void>;
declare function handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void;
declare const handler: import('express').RequestHandler;
/** An @koa/router instance. */
declare const router: { routes(): import('koa').Middleware };

// What the TSDoc examples of src/ use beside their module's own names (an example on a member
// reads the instance it belongs to: `breaker.isolate()`), and the request at hand in a handler.
declare const req: import('express').Request;
declare const res: import('express').Response;
declare const reply: import('fastify').FastifyReply;
declare const exchange: import('headroom/http').HttpExchange;
declare const server: import('node:http').Server;
declare const cluster: import('ioredis').Cluster;
/** A caught error, as `catch (err)` has it. */
declare const err: unknown;
declare const url: string;
declare const sku: string;
declare const ip: string;
declare const email: string;
declare const breaker: import('headroom/resilience').CircuitBreaker;
declare const retry: import('headroom/resilience').RetryPolicy;
declare const budget: import('headroom/resilience').RetryBudget;
declare const hedge: import('headroom/resilience').HedgePolicy;
declare const alerts: import('headroom/dashboard').AlertRules;
declare const dashboard: import('headroom/dashboard').DashboardHandler;
declare const limiter: import('headroom/ratelimit').RateLimiter;
declare const perIp: import('headroom/ratelimit').RateLimiter;
declare const perAccount: import('headroom/ratelimit').RateLimiter;
declare const store: import('headroom/ratelimit').RateLimitStore;
declare const policy: import('headroom/ratelimit').RateLimitPolicy;
/** A StatsD- or prom-client-like metrics client. */
declare const metrics: {
  increment(name: string, labels?: Record<string, string>): void;
  observe(name: string, value: number, labels?: Record<string, string>): void;
};
declare function reloadConfig(): Promise<void>;
declare function loadPricing(options: { signal: AbortSignal }): Promise<Prices>;

// Inside the library (src/core examples): the options object a constructor validates, and an
// emitter of the events the examples name.
declare const options: Readonly<Record<string, unknown>>;
declare const events: import('../src/core/index.js').Emitter<{ hit: { key: string }; slow: { key: string; ms: number } }>;
declare function onHit(payload: { key: string }): void;
