/**
 * The order service of the composition suite, on each framework, mounted the way the guides
 * show: the global stack (percentiles, timeout, shed: whichever the test asks for, outermost
 * first) for every route, and the idempotency middleware on `POST /orders` only (route-level:
 * `toNode` as route middleware for Express, route hooks for Fastify, @koa/router for Koa, a
 * route middleware for Hono). node:http and fetch have no router: there the idempotency
 * middleware is composed after the global stack.
 *
 * `POST /orders` counts an execution, waits `x-delay` ms or until the test opens the gate named
 * by `x-gate` (`app.open(name)`), without looking at its signal (an order that completes
 * whatever the client saw), counts it settled and answers 201 JSON `{ id, amount }` with
 * `location`. `x-fail: 1` makes it fail after the wait instead.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { compose, toFastify, toFastifyHooks, toFetch, toHono, toKoa, toNode, type Middleware } from '../../src/http/index.js';

export type Kind = 'node' | 'express' | 'fastify' | 'koa' | 'hono' | 'fetch';
export const KINDS: Kind[] = ['node', 'express', 'fastify', 'koa', 'hono', 'fetch'];

export interface OrderApp {
  url: string;
  /** Handler runs started. */
  executions: number;
  /** Handler runs finished (answered or failed). */
  settled: number;
  /** Lets the handlers waiting on gate `name` go on (now or when they arrive). */
  open(name: string): void;
  close(): Promise<void>;
}

interface Gate {
  promise: Promise<void>;
  open: () => void;
}

function gates(): { wait: (name: string) => Promise<void>; open: (name: string) => void } {
  const all = new Map<string, Gate>();
  const gate = (name: string): Gate => {
    let found = all.get(name);
    if (found === undefined) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      found = { promise, open };
      all.set(name, found);
    }
    return found;
  };
  return { wait: (name) => gate(name).promise, open: (name) => gate(name).open() };
}

/** What the handler waits for: a gate the test opens, or a delay. */
interface Wait {
  delay: string | undefined;
  gate: string | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Order {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The business logic, framework-free: throws when asked to fail. */
async function placeOrder(app: OrderApp, body: unknown, wait: Wait, fail: boolean): Promise<Order> {
  app.executions++;
  const n = app.executions;
  try {
    if (wait.gate !== undefined) await gateOf(app).wait(wait.gate);
    else await sleep(Number(wait.delay ?? 0));
    if (fail) throw new Error('order failed');
  } finally {
    app.settled++;
  }
  const amount = (body as { amount?: unknown } | undefined)?.amount;
  return {
    status: 201,
    headers: { 'content-type': 'application/json', location: `/orders/order_${n}` },
    body: JSON.stringify({ id: `order_${n}`, amount }),
  };
}

const gatesOf = new WeakMap<OrderApp, ReturnType<typeof gates>>();
function gateOf(app: OrderApp): ReturnType<typeof gates> {
  return gatesOf.get(app)!;
}

function waitOf(header: (name: string) => string | undefined): Wait {
  return { delay: header('x-delay'), gate: header('x-gate') };
}

function parse(raw: unknown): unknown {
  if (raw instanceof Uint8Array) return raw.byteLength === 0 ? undefined : JSON.parse(Buffer.from(raw).toString('utf8'));
  if (typeof raw === 'string') return raw.length === 0 ? undefined : JSON.parse(raw);
  return raw;
}

async function readNodeBody(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  if (req.body !== undefined) return parse(req.body);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return parse(Buffer.concat(chunks));
}

async function listening(server: Server, app: OrderApp): Promise<OrderApp> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  app.url = `http://127.0.0.1:${port}`;
  app.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return app;
}

/** Starts `kind` with `global` (may be empty) on every route and `idempotency` on POST /orders. */
export async function startOrderApp(kind: Kind, global: Middleware[], idempotency: Middleware): Promise<OrderApp> {
  const gate = gates();
  const app: OrderApp = { url: '', executions: 0, settled: 0, open: gate.open, close: async () => undefined };
  gatesOf.set(app, gate);
  const stack = compose(...global);
  switch (kind) {
    case 'node': {
      const guard = toNode(compose(...global, idempotency));
      const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
        if (req.method !== 'POST' || req.url !== '/orders') {
          res.statusCode = 404;
          res.end();
          return;
        }
        const order = await placeOrder(
          app,
          await readNodeBody(req),
          waitOf((name) => req.headers[name] as string | undefined),
          req.headers['x-fail'] === '1',
        );
        res.writeHead(order.status, order.headers);
        res.end(order.body);
      };
      // The handler's promise goes back to toNode, which answers 500 if it rejects.
      return listening(http.createServer((req, res) => guard(req, res, () => handle(req, res))).listen(0, '127.0.0.1'), app);
    }
    case 'express': {
      const e = express();
      e.use(express.json());
      e.use(toNode(stack));
      e.post('/orders', toNode(idempotency), async (req, res) => {
        const order = await placeOrder(
          app,
          req.body,
          waitOf((name) => req.get(name)),
          req.get('x-fail') === '1',
        );
        res.status(order.status).set(order.headers).send(order.body);
      });
      // Express logs errors of handlers it could not answer (after a timeout); keep test output quiet.
      e.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        res.status(500).json({ error: String(err) });
      });
      return listening(http.createServer(e).listen(0, '127.0.0.1'), app);
    }
    case 'fastify': {
      const f = Fastify();
      await f.register(toFastify(stack));
      f.post('/orders', { ...toFastifyHooks(idempotency) }, async (request, reply) => {
        const order = await placeOrder(
          app,
          request.body,
          waitOf((name) => request.headers[name] as string | undefined),
          request.headers['x-fail'] === '1',
        );
        reply.code(order.status).headers(order.headers);
        return reply.send(order.body);
      });
      await f.listen({ port: 0, host: '127.0.0.1' });
      return listening(f.server, app);
    }
    case 'koa': {
      const k = new Koa();
      const router = new Router();
      k.use(toKoa(stack));
      router.post('/orders', toKoa(idempotency), async (ctx) => {
        const order = await placeOrder(
          app,
          parse(ctx.request.body ?? (await readNodeBody(ctx.req))),
          waitOf((name) => ctx.get(name) || undefined),
          ctx.get('x-fail') === '1',
        );
        ctx.status = order.status;
        ctx.set(order.headers);
        ctx.body = order.body;
      });
      k.use(router.routes());
      k.silent = true;
      return listening(k.listen(0, '127.0.0.1'), app);
    }
    case 'hono': {
      const h = new Hono();
      h.use(toHono(stack));
      h.post('/orders', toHono(idempotency), async (c) => {
        const order = await placeOrder(
          app,
          await c.req.json(),
          waitOf((name) => c.req.header(name)),
          c.req.header('x-fail') === '1',
        );
        return c.body(order.body, order.status as 201, order.headers);
      });
      h.onError((err, c) => c.json({ error: String(err) }, 500));
      return listening(serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }) as Server, app);
    }
    case 'fetch': {
      const handler = async (request: Request): Promise<Response> => {
        const order = await placeOrder(
          app,
          await request.json(),
          waitOf((name) => request.headers.get(name) ?? undefined),
          request.headers.get('x-fail') === '1',
        );
        return new Response(order.body, { status: order.status, headers: order.headers });
      };
      const fetchHandler = toFetch(compose(...global, idempotency), handler);
      const safe = (request: Request): Promise<Response> => fetchHandler(request).catch(() => new Response('failed', { status: 500 }));
      return listening(serve({ fetch: safe, port: 0, hostname: '127.0.0.1' }) as Server, app);
    }
  }
}
