/**
 * The HTTP servers bench/ratelimit.ts drives, in a process of their own (forked by it), so that
 * what is measured is the server's work, not the load generator's. Each answers `GET /r` with a
 * small JSON document; the limited ones key by the `x-client` header, with a limit no client
 * reaches (what is measured is the cost of a check on every request).
 *
 * - `express`: Express 5, no limiter; `express-erl`: express-rate-limit's default memory store
 *   through its middleware, with the draft-8 `RateLimit` headers (the closest it offers to ours);
 *   `express-headroom`: headroom's middleware through `toNode`, memory store.
 * - `node`: node:http, no limiter; `node-erl`: express-rate-limit's middleware called by hand
 *   (a request it lets through touches only node:http's own response API; no request is refused
 *   here); `node-headroom`: headroom's middleware through `toNode`.
 *
 * Protocol (IPC): sends `{ ports }` once listening; answers `'stats'` with
 * `{ cpu: process.cpuUsage() }`; exits on `'exit'`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { toNode } from '../src/http/index.js';
import { RateLimiter, rateLimitMiddleware } from '../src/ratelimit/index.js';

const PAYLOAD = JSON.stringify({ id: 42, name: 'Ada', plan: 'pro' });
const LIMIT = 1_000_000;
const clientOf = (header: string | string[] | undefined): string => (typeof header === 'string' ? header : 'anonymous');

function handle(_req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json');
  res.end(PAYLOAD);
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function expressApp(limiter?: RequestHandler): Express {
  const app = express();
  if (limiter !== undefined) app.use(limiter);
  app.get('/r', (req, res) => handle(req, res));
  return app;
}

const headroom = () =>
  rateLimitMiddleware(new RateLimiter({ name: 'per-client', limit: LIMIT, window: '1m' }), {
    key: (exchange) => exchange.header('x-client') ?? 'anonymous',
  });
const erl = rateLimit({
  windowMs: 60_000,
  limit: LIMIT,
  standardHeaders: 'draft-8',
  legacyHeaders: false,
  keyGenerator: (req) => clientOf(req.headers['x-client']),
  validate: false,
});
const nodeGuard = toNode(headroom());

const servers: Record<string, Server> = {
  express: await listen(expressApp()),
  'express-erl': await listen(expressApp(erl)),
  'express-headroom': await listen(expressApp(toNode(headroom()) as RequestHandler)),
  node: await listen(handle),
  'node-erl': await listen((req, res) => void erl(req as Parameters<typeof erl>[0], res as Parameters<typeof erl>[1], () => handle(req, res))),
  'node-headroom': await listen((req, res) => nodeGuard(req, res, () => handle(req, res))),
};

process.on('message', (message) => {
  if (message === 'stats') process.send!({ cpu: process.cpuUsage() });
  if (message === 'exit') process.exit(0);
});
process.send!({ ports: Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, (s.address() as AddressInfo).port])) });
