/**
 * Route-level use on every framework with a router: a headroom middleware applied to one route
 * only, and headroom handlers (metrics, readiness, liveness) mounted as routes, so that the
 * route is their key in the percentiles. percentileMiddleware is global in each app.
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
import { HealthChecker, livenessHandler, readinessHandler } from '../../src/health/index.js';
import { toFastify, toFastifyHandler, toFastifyHooks, toHono, toKoa, toNode, type Middleware } from '../../src/http/index.js';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from '../../src/idempotency/index.js';
import { PercentileTracker, metricsHandler, percentileMiddleware } from '../../src/percentiles/index.js';
import { eventually } from '../support/async.js';

type Kind = 'express' | 'fastify' | 'koa' | 'hono';

interface RoutedApp {
  url: string;
  runs: Record<string, number>;
  close(): Promise<void>;
}

interface Parts {
  global: Middleware;
  idempotency: Middleware;
  metrics: Middleware;
  ready: Middleware;
  live: Middleware;
}

async function listening(server: Server, app: RoutedApp): Promise<RoutedApp> {
  if (!server.listening) await once(server, 'listening');
  app.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  app.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return app;
}

/** `POST /orders` (idempotent, route-level) and `POST /notes` (not), plus the handlers as routes. */
async function start(kind: Kind, parts: Parts): Promise<RoutedApp> {
  const app: RoutedApp = { url: '', runs: { orders: 0, notes: 0 }, close: async () => undefined };
  const run = (name: string): { n: number } => ({ n: ++app.runs[name]! });
  switch (kind) {
    case 'express': {
      const e = express();
      e.use(toNode(parts.global));
      e.post('/orders', toNode(parts.idempotency), (_req, res) => void res.status(201).json(run('orders')));
      e.post('/notes', (_req, res) => void res.status(201).json(run('notes')));
      e.get('/metrics', toNode(parts.metrics));
      e.get('/ready', toNode(parts.ready));
      e.get('/live', toNode(parts.live));
      return listening(http.createServer(e).listen(0, '127.0.0.1'), app);
    }
    case 'fastify': {
      const f = Fastify();
      await f.register(toFastify(parts.global));
      f.post('/orders', { ...toFastifyHooks(parts.idempotency) }, async (_request, reply) => reply.code(201).send(run('orders')));
      f.post('/notes', async (_request, reply) => reply.code(201).send(run('notes')));
      f.get('/metrics', toFastifyHandler(parts.metrics));
      f.get('/ready', toFastifyHandler(parts.ready));
      f.get('/live', toFastifyHandler(parts.live));
      await f.listen({ port: 0, host: '127.0.0.1' });
      app.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
      app.close = () => f.close();
      return app;
    }
    case 'koa': {
      const k = new Koa();
      const router = new Router();
      k.use(toKoa(parts.global));
      router.post('/orders', toKoa(parts.idempotency), (ctx) => {
        ctx.status = 201;
        ctx.body = run('orders');
      });
      router.post('/notes', (ctx) => {
        ctx.status = 201;
        ctx.body = run('notes');
      });
      router.get('/metrics', toKoa(parts.metrics));
      router.get('/ready', toKoa(parts.ready));
      router.get('/live', toKoa(parts.live));
      k.use(router.routes());
      return listening(k.listen(0, '127.0.0.1'), app);
    }
    case 'hono': {
      const h = new Hono();
      h.use(toHono(parts.global));
      h.post('/orders', toHono(parts.idempotency), (c) => c.json(run('orders'), 201));
      h.post('/notes', (c) => c.json(run('notes'), 201));
      h.get('/metrics', toHono(parts.metrics));
      h.get('/ready', toHono(parts.ready));
      h.get('/live', toHono(parts.live));
      return listening(serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' }) as Server, app);
    }
  }
}

describe.each(['express', 'fastify', 'koa', 'hono'] as const)('route-level use on %s', (kind) => {
  let app: RoutedApp | undefined;
  const closers: (() => void)[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const close of closers.splice(0)) close();
  });

  async function boot(): Promise<{ app: RoutedApp; tracker: PercentileTracker }> {
    const tracker = new PercentileTracker();
    const health = new HealthChecker();
    closers.push(
      () => tracker.close(),
      () => health.close(),
    );
    const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
    app = await start(kind, {
      global: percentileMiddleware(tracker),
      idempotency: idempotencyMiddleware(idempotency, { required: true }),
      metrics: metricsHandler(tracker),
      ready: readinessHandler(health),
      live: livenessHandler(health),
    });
    return { app, tracker };
  }

  const post = (app: RoutedApp, path: string, headers: Record<string, string> = {}) =>
    fetch(app.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

  it('applies a middleware to its route only', async () => {
    const { app } = await boot();
    const first = await post(app, '/orders', { 'idempotency-key': 'k1' });
    expect(first.status).toBe(201);
    const replay = await post(app, '/orders', { 'idempotency-key': 'k1' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual({ n: 1 });
    expect((await post(app, '/orders')).status).toBe(400); // required, on this route
    // Another route: no key needed, nothing deduplicated.
    expect((await post(app, '/notes', { 'idempotency-key': 'k1' })).status).toBe(201);
    expect((await post(app, '/notes', { 'idempotency-key': 'k1' })).status).toBe(201);
    expect(app.runs).toEqual({ orders: 1, notes: 2 });
  });

  it('records headroom handlers mounted as routes under their route', async () => {
    const { app, tracker } = await boot();
    const live = await fetch(`${app.url}/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toContain('application/health+json');
    expect((await fetch(`${app.url}/ready`)).status).toBe(200);
    const metrics = await fetch(`${app.url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    await metrics.text();
    await eventually(() => expect(tracker.keys().sort()).toEqual(['GET /live', 'GET /metrics', 'GET /ready']));
  });
});
