/**
 * The same small app on each framework, behind a headroom middleware under test, listening on
 * a free loopback port. Routes:
 *
 * - `GET /fast`            -> 200 text `fast`
 * - `GET /users/:id`       -> 200 JSON `{ id }` (route template `/users/:id`)
 * - `GET /slow`            -> waits 300 ms (signal-aware), then 200 text `slow`
 * - `GET /hang`            -> waits 10 s on the request signal; when aborted, tries to answer 500
 * - `POST /echo`           -> reads the body the framework's way, answers `{ received }`
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { requestSignal, toFastify, toFetch, toHono, toKoa, toNode, type Middleware } from '../../src/http/index.js';

export type Kind = 'node' | 'express' | 'fastify' | 'koa' | 'hono' | 'fetch';
export const KINDS: Kind[] = ['node', 'express', 'fastify', 'koa', 'hono', 'fetch'];

/** Route templates each framework reports for `GET /users/42` (none without a router). */
export const USER_ROUTE: Record<Kind, string | undefined> = {
  node: undefined,
  express: '/users/:id',
  fastify: '/users/:id',
  koa: '/users/:id',
  hono: '/users/:id',
  fetch: undefined,
};

/** What the handlers saw, for assertions. */
export interface Log {
  handled: string[];
  aborted: unknown[];
}

export interface App {
  url: string;
  log: Log;
  close(): Promise<void>;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first (and logs it). */
export function work(ms: number, signal: AbortSignal, log: Log): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      log.aborted.push(signal.reason);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parse(body: unknown): unknown {
  if (body instanceof Uint8Array) return JSON.parse(Buffer.from(body).toString('utf8'));
  if (typeof body === 'string') return JSON.parse(body);
  return body;
}

async function readNodeBody(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  if (req.body !== undefined) return parse(req.body);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return parse(Buffer.concat(chunks));
}

async function listening(server: Server, log: Log): Promise<App> {
  if (!server.listening) await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts `kind` with `middleware` in front of the routes. */
export async function startApp(kind: Kind, middleware: Middleware, options: { jsonParser?: boolean } = {}): Promise<App> {
  const log: Log = { handled: [], aborted: [] };
  switch (kind) {
    case 'node':
      return listening(nodeServer(middleware, log).listen(0, '127.0.0.1'), log);
    case 'express':
      return listening(expressApp(middleware, log, options.jsonParser === true).listen(0, '127.0.0.1'), log);
    case 'fastify':
      return fastifyApp(middleware, log);
    case 'koa':
      return listening(koaApp(middleware, log).listen(0, '127.0.0.1'), log);
    case 'hono':
      return listening(serve({ fetch: honoApp(middleware, log).fetch, port: 0, hostname: '127.0.0.1' }) as Server, log);
    case 'fetch':
      return listening(serve({ fetch: toFetch(middleware, fetchHandler(log)), port: 0, hostname: '127.0.0.1' }) as Server, log);
  }
}

function nodeServer(middleware: Middleware, log: Log): Server {
  const guard = toNode(middleware);
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    log.handled.push(path);
    const signal = requestSignal(req);
    if (path === '/fast') res.end('fast');
    else if (path.startsWith('/users/')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: path.slice(7) }));
    } else if (path === '/slow') {
      await work(300, signal, log).catch(() => undefined);
      res.end('slow');
    } else if (path === '/hang') {
      await work(10_000, signal, log).catch(() => undefined);
      res.statusCode = 500;
      res.end('aborted');
    } else if (path === '/echo') {
      const received = await readNodeBody(req);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ received }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
  return http.createServer((req, res) => guard(req, res, () => void route(req, res)));
}

function expressApp(middleware: Middleware, log: Log, jsonParser: boolean): Server {
  const app = express();
  if (jsonParser) app.use(express.json());
  app.use(toNode(middleware));
  app.get('/fast', (req, res) => {
    log.handled.push(req.path);
    res.send('fast');
  });
  app.get('/users/:id', (req, res) => {
    log.handled.push(req.path);
    res.json({ id: req.params.id });
  });
  const api = express.Router();
  api.get('/items/:id', (req, res) => {
    log.handled.push(req.originalUrl);
    res.json({ item: req.params.id });
  });
  app.use('/api', api);
  app.get('/slow', async (req, res) => {
    log.handled.push(req.path);
    await work(300, requestSignal(req), log).catch(() => undefined);
    res.send('slow');
  });
  app.get('/hang', async (req, res) => {
    log.handled.push(req.path);
    await work(10_000, requestSignal(req), log).catch(() => undefined);
    res.status(500).send('aborted');
  });
  app.post('/echo', async (req, res) => {
    log.handled.push(req.path);
    res.json({ received: await readNodeBody(req) });
  });
  return http.createServer(app);
}

async function fastifyApp(middleware: Middleware, log: Log): Promise<App> {
  const app = Fastify();
  await app.register(toFastify(middleware));
  app.get('/fast', async (request) => {
    log.handled.push(request.url);
    return 'fast';
  });
  app.get<{ Params: { id: string } }>('/users/:id', async (request) => {
    log.handled.push(request.url);
    return { id: request.params.id };
  });
  app.get('/slow', async (request) => {
    log.handled.push(request.url);
    await work(300, requestSignal(request), log).catch(() => undefined);
    return 'slow';
  });
  app.get('/hang', async (request, reply) => {
    log.handled.push(request.url);
    await work(10_000, requestSignal(request), log).catch(() => undefined);
    return reply.code(500).send('aborted');
  });
  app.post('/echo', async (request) => {
    log.handled.push(request.url);
    return { received: request.body };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return listening(app.server, log);
}

function koaApp(middleware: Middleware, log: Log): Server {
  const app = new Koa();
  app.silent = false;
  app.use(toKoa(middleware));
  // A stand-in for @koa/router (not installed): it sets ctx._matchedRoute the same way.
  app.use(async (ctx, next) => {
    const match = /^\/users\/([^/]+)$/.exec(ctx.path);
    if (match === null) {
      await next();
      return;
    }
    (ctx as unknown as { _matchedRoute: string })._matchedRoute = '/users/:id';
    log.handled.push(ctx.path);
    ctx.body = { id: match[1] };
  });
  app.use(async (ctx) => {
    log.handled.push(ctx.path);
    const signal = requestSignal(ctx);
    if (ctx.path === '/fast') ctx.body = 'fast';
    else if (ctx.path === '/slow') {
      await work(300, signal, log).catch(() => undefined);
      ctx.body = 'slow';
    } else if (ctx.path === '/hang') {
      await work(10_000, signal, log).catch(() => undefined);
      ctx.status = 500;
      ctx.body = 'aborted';
    } else if (ctx.path === '/echo' && ctx.method === 'POST') {
      ctx.body = { received: await readNodeBody(Object.assign(ctx.req, { body: (ctx.request as { body?: unknown }).body })) };
    }
  });
  const handle = app.callback();
  // Koa answers its own errors: the promise of its callback does not reject.
  return http.createServer((req, res) => void handle(req, res));
}

function honoApp(middleware: Middleware, log: Log): Hono {
  const app = new Hono();
  app.use(toHono(middleware));
  app.get('/fast', (c) => {
    log.handled.push(c.req.path);
    return c.text('fast');
  });
  app.get('/users/:id', (c) => {
    log.handled.push(c.req.path);
    return c.json({ id: c.req.param('id') });
  });
  app.get('/slow', async (c) => {
    log.handled.push(c.req.path);
    await work(300, requestSignal(c), log).catch(() => undefined);
    return c.text('slow');
  });
  app.get('/hang', async (c) => {
    log.handled.push(c.req.path);
    await work(10_000, requestSignal(c), log).catch(() => undefined);
    return c.text('aborted', 500);
  });
  app.post('/echo', async (c) => {
    log.handled.push(c.req.path);
    return c.json({ received: await c.req.json() });
  });
  return app;
}

function fetchHandler(log: Log): (request: Request) => Promise<Response> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    log.handled.push(path);
    const signal = requestSignal(request);
    if (path === '/fast') return new Response('fast');
    if (path.startsWith('/users/')) return Response.json({ id: path.slice(7) });
    if (path === '/slow') {
      await work(300, signal, log).catch(() => undefined);
      return new Response('slow');
    }
    if (path === '/hang') {
      await work(10_000, signal, log).catch(() => undefined);
      return new Response('aborted', { status: 500 });
    }
    if (path === '/echo') return Response.json({ received: (await request.json()) as unknown });
    return new Response(null, { status: 404 });
  };
}
