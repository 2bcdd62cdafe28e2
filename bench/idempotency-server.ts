/**
 * The servers bench/idempotency.ts drives, in a process of their own (forked by it): what is
 * measured is the server's work, as in production, not the load generator's. They load the
 * built package (`dist/`, what users run), so `npm run build` must have run.
 *
 * Protocol (IPC): sends `{ ports }` once listening; answers `'stats'` with
 * `{ cpu: process.cpuUsage(), served }`; exits on `'exit'`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Middleware } from '../src/core/index.js';
// The built package, typed by the sources it is built from.
import type * as HttpModule from '../src/http/index.js';
import type * as IdempotencyModule from '../src/idempotency/index.js';

// A computed specifier, so that tsc does not look for dist/ (it exists only after a build).
const DIST = '../dist';
const { toNode } = (await import(`${DIST}/http/index.js`)) as typeof HttpModule;
const { Idempotency, MemoryIdempotencyStore, RedisIdempotencyStore, idempotencyMiddleware } = (await import(
  `${DIST}/idempotency/index.js`
)) as typeof IdempotencyModule;

/** Requests that reached a server: the denominator of the round-trip count. */
let served = 0;

function reply(res: ServerResponse, bytes: Buffer): void {
  const input = JSON.parse(bytes.toString('utf8')) as { amount: number };
  res.writeHead(201, { 'content-type': 'application/json', location: '/payments/pay_1' });
  res.end(JSON.stringify({ id: 'pay_1', status: 'succeeded', amount: input.amount }));
}

/**
 * The application handler: parses the JSON body (from the stream, or from the bytes a middleware
 * already read into req.body) and answers 201 with a small JSON document. No named closure per
 * request, so no variant pays for one.
 */
function handle(req: IncomingMessage & { body?: unknown }, res: ServerResponse): void {
  if (Buffer.isBuffer(req.body)) {
    reply(res, req.body);
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => reply(res, Buffer.concat(chunks)));
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer((req, res) => {
    served++;
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function through(middleware: Middleware): (req: IncomingMessage, res: ServerResponse) => void {
  const mw = toNode(middleware);
  return (req, res) => mw(req, res, () => handle(req, res));
}

const redis = new Redis(Number(process.env.BENCH_REDIS_PORT), '127.0.0.1');
const servers: Record<string, Server> = {
  bare: await listen(handle),
  // The adapter alone, reading the body and capturing the response as the middleware makes it
  // do: separates what toNode costs from what the idempotency store costs.
  adapter: await listen(
    through(async (exchange, next) => {
      await exchange.body();
      await next({ captureBody: true });
    }),
  ),
  memory: await listen(through(idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })))),
  redis: await listen(through(idempotencyMiddleware(new Idempotency({ store: new RedisIdempotencyStore(redis) })))),
};

process.on('message', (message) => {
  if (message === 'stats') process.send!({ cpu: process.cpuUsage(), served });
  if (message === 'exit') {
    redis.disconnect();
    process.exit(0);
  }
});
process.send!({ ports: Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, (s.address() as AddressInfo).port])) });
