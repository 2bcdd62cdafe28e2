/**
 * A payment-like app on each framework, behind the idempotency middleware, on a free loopback port.
 *
 * - `POST /payments` -> counts a run, waits `x-delay` ms, answers 201 JSON `{ id, run }` with
 *   `location`, `etag`, `set-cookie` and `x-request-id` headers.
 * - `POST /declined` -> counts a run, answers 402 problem-ish JSON.
 * - `POST /fail`     -> counts a run, answers 500.
 * - `GET /payments`  -> counts a run, answers 200.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { toFastify, toHono, toKoa, toNode } from '../../src/http/index.js';
import type { Middleware } from '../../src/core/index.js';

export type Kind = 'node' | 'express' | 'fastify' | 'koa' | 'hono';

export interface PaymentApp {
  url: string;
  runs: number;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The business logic, framework-free. */
async function answer(app: PaymentApp, method: string, path: string, delayHeader: string | undefined): Promise<Answer> {
  app.runs++;
  const run = app.runs;
  if (delayHeader !== undefined) await sleep(Number(delayHeader));
  if (method === 'GET') return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ run }) };
  if (path === '/declined') return { status: 402, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'card_declined', run }) };
  if (path === '/fail') return { status: 500, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'boom', run }) };
  return {
    status: 201,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      location: `/payments/pay_${run}`,
      etag: `"v${run}"`,
      'set-cookie': `session=secret-${run}`,
      'x-request-id': `req-${run}`,
    },
    body: JSON.stringify({ id: `pay_${run}`, run }),
  };
}

async function listening(server: Server, app: PaymentApp): Promise<PaymentApp> {
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

function drain(req: IncomingMessage): Promise<void> {
  if ((req as { body?: unknown }).body !== undefined || req.readableEnded) return Promise.resolve();
  req.resume();
  return once(req, 'end').then(() => undefined);
}

function sendNode(res: ServerResponse, a: Answer): void {
  // writeHead with the headers object: its headers never reach res.getHeaders(); toNode records
  // them, so that they are stored and replayed like the other frameworks' headers.
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}

export async function startPaymentApp(kind: Kind, middleware: Middleware): Promise<PaymentApp> {
  const app: PaymentApp = { url: '', runs: 0, close: async () => undefined };
  switch (kind) {
    case 'node': {
      const guard = toNode(middleware);
      const server = http.createServer((req, res) =>
        guard(req, res, () => {
          void drain(req)
            .then(() => answer(app, req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, req.headers['x-delay'] as string | undefined))
            .then((a) => sendNode(res, a));
        }),
      );
      return listening(server.listen(0, '127.0.0.1'), app);
    }
    case 'express': {
      const e = express();
      e.use(express.json());
      e.use(express.text());
      e.use(toNode(middleware));
      const handler = async (req: express.Request, res: express.Response): Promise<void> => {
        const a = await answer(app, req.method, req.path, req.get('x-delay'));
        res.status(a.status).set(a.headers).send(a.body);
      };
      e.post('/payments', handler);
      e.post('/declined', handler);
      e.post('/fail', handler);
      e.get('/payments', handler);
      return listening(http.createServer(e).listen(0, '127.0.0.1'), app);
    }
    case 'fastify': {
      const f = Fastify();
      f.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      await f.register(toFastify(middleware));
      const handler = async (
        request: { method: string; url: string; headers: Record<string, unknown> },
        reply: { code(n: number): unknown; headers(h: Record<string, string>): unknown; send(b: string): unknown },
      ) => {
        const a = await answer(app, request.method, request.url.split('?')[0]!, request.headers['x-delay'] as string | undefined);
        reply.code(a.status);
        reply.headers(a.headers);
        return reply.send(a.body);
      };
      f.post('/payments', handler);
      f.post('/declined', handler);
      f.post('/fail', handler);
      f.get('/payments', handler);
      await f.listen({ port: 0, host: '127.0.0.1' });
      return listening(f.server, app);
    }
    case 'koa': {
      const k = new Koa();
      k.use(toKoa(middleware));
      k.use(async (ctx) => {
        const a = await answer(app, ctx.method, ctx.path, ctx.get('x-delay') || undefined);
        ctx.status = a.status;
        ctx.set(a.headers);
        ctx.body = a.body;
      });
      return listening(k.listen(0, '127.0.0.1'), app);
    }
    case 'hono': {
      const h = new Hono();
      h.use(toHono(middleware));
      h.all('*', async (c) => {
        const a = await answer(app, c.req.method, c.req.path, c.req.header('x-delay'));
        return c.body(a.body, a.status as 201, a.headers);
      });
      return listening(serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }) as Server, app);
    }
  }
}
