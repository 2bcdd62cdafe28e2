/**
 * Server-Timing from percentileMiddleware is merged with the metrics the handler sets, however
 * it sets them, on every adapter: each app has `GET /set` (the framework's ordinary header API)
 * and `GET /head` (headers given with the response itself: node's writeHead, a Response's
 * headers...), both answering `Server-Timing: db;dur=5`.
 */
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { toFastify, toFetch, toHono, toKoa, toNode, type Middleware } from '../../src/http/index.js';
import { PercentileTracker, percentileMiddleware } from '../../src/percentiles/index.js';

type Kind = 'node' | 'express' | 'fastify' | 'koa' | 'hono' | 'fetch';
const DB = 'db;dur=5';

async function url(server: Server): Promise<{ url: string; close(): Promise<void> }> {
  if (!server.listening) await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function start(kind: Kind, mw: Middleware): Promise<{ url: string; close(): Promise<void> }> {
  switch (kind) {
    case 'node': {
      const guard = toNode(mw);
      return url(
        http
          .createServer((req, res) =>
            guard(req, res, () => {
              if (req.url === '/head') {
                res.writeHead(200, { 'content-type': 'text/plain', 'server-timing': DB });
              } else {
                res.setHeader('server-timing', DB);
              }
              res.end('ok');
            }),
          )
          .listen(0, '127.0.0.1'),
      );
    }
    case 'express': {
      const app = express();
      app.use(toNode(mw));
      app.get('/set', (_req, res) => void res.set('server-timing', DB).send('ok'));
      app.get('/head', (_req, res) => {
        res.writeHead(200, ['server-timing', DB]); // the flat array form
        res.end('ok');
      });
      return url(http.createServer(app).listen(0, '127.0.0.1'));
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(toFastify(mw));
      app.get('/set', async (_request, reply) => reply.header('server-timing', DB).send('ok'));
      app.get('/head', async (_request, reply) => {
        reply.raw.setHeader('server-timing', DB);
        return reply.send('ok');
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
    }
    case 'koa': {
      const app = new Koa();
      const router = new Router();
      app.use(toKoa(mw));
      router.get('/set', (ctx) => {
        ctx.set('server-timing', DB);
        ctx.body = 'ok';
      });
      router.get('/head', (ctx) => {
        ctx.append('server-timing', DB);
        ctx.body = 'ok';
      });
      app.use(router.routes());
      return url(app.listen(0, '127.0.0.1'));
    }
    case 'hono': {
      const app = new Hono();
      app.use(toHono(mw));
      app.get('/set', (c) => {
        c.header('server-timing', DB);
        return c.text('ok');
      });
      app.get('/head', () => new Response('ok', { headers: { 'server-timing': DB } }));
      return url(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server);
    }
    case 'fetch': {
      const handler = (request: Request): Response => {
        const response = new Response('ok', request.url.endsWith('/head') ? { headers: { 'server-timing': DB } } : undefined);
        if (!request.url.endsWith('/head')) response.headers.set('server-timing', DB);
        return response;
      };
      return url(serve({ fetch: toFetch(mw, handler), port: 0, hostname: '127.0.0.1' }) as Server);
    }
  }
}

describe.each(['node', 'express', 'fastify', 'koa', 'hono', 'fetch'] as const)('Server-Timing on %s', (kind) => {
  let app: { url: string; close(): Promise<void> } | undefined;
  const tracker = new PercentileTracker();
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each(['/set', '/head'])('keeps the handler metric set on %s and adds app', async (path) => {
    app = await start(kind, percentileMiddleware(tracker, { serverTiming: true }));
    const res = await fetch(app.url + path);
    expect(await res.text()).toBe('ok');
    const timing = res.headers.get('server-timing') ?? '';
    const metrics = timing.split(',').map((m) => m.trim());
    expect(metrics).toContain(DB);
    expect(metrics.filter((m) => /^app;dur=\d+\.\d{3}$/.test(m))).toHaveLength(1);
  });
});
