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
