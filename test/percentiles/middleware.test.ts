import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpExchange, HttpResult } from '../../src/core/index.js';
import { compose, shed, timeout, toFastify, toHono, toNode } from '../../src/http/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { eventually } from '../support/async.js';
import { KINDS, startApp, type App, type Kind } from '../http/apps.js';
import { PercentileTracker, UNMATCHED_ROUTE, metricsHandler, percentileMiddleware, requestOutcome } from '../../src/percentiles/index.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function newTracker(): PercentileTracker {
  const t = new PercentileTracker();
  cleanup.push(() => t.close());
  return t;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A neutral exchange for unit tests of the middleware without a framework. */
function fakeExchange(method: string, path: string, route: string | undefined) {
  const headers: Record<string, string> = {};
  const beforeSend: ((status: number) => void)[] = [];
  let responded: { status: number; headers?: Record<string, string>; body?: unknown } | undefined;
  const exchange: HttpExchange = {
    method,
    path,
    url: path,
    route,
    header: () => undefined,
    body: async () => undefined,
    signal: new AbortController().signal,
    abort: () => {},
    aborted: false,
    get responded() {
      return responded !== undefined;
    },
    setHeader: (name, value) => {
      headers[name] = value;
    },
    appendHeader: (name, value) => {
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    },
    onBeforeSend: (listener) => beforeSend.push(listener),
    respond: (r) => {
      responded = r;
    },
  };
  const send = (status: number): HttpResult => {
    for (const l of beforeSend) l(status);
    return { status, headers };
  };
  return { exchange, headers, send, response: () => responded };
}

function expectTracked(tracker: PercentileTracker, expected: Record<string, { count: number; errors: number }>): void {
  const summary = tracker.summary();
  for (const [key, want] of Object.entries(expected)) {
    expect(summary[key], key).toMatchObject(want);
  }
  for (const key of Object.keys(summary)) {
    expect(key, 'no raw path is ever a key').not.toMatch(/\/users\/\d/);
  }
}

describe('percentileMiddleware (neutral)', () => {
  it('records under METHOD route, falling back to METHOD <unmatched>, and counts 5xx as errors', async () => {
    const tracker = newTracker();
    const mw = percentileMiddleware(tracker);
    const a = fakeExchange('GET', '/users/42', '/users/:id');
    await mw(a.exchange, async () => a.send(200));
    const b = fakeExchange('GET', '/users/43', undefined);
    await mw(b.exchange, async () => b.send(404));
    const c = fakeExchange('POST', '/orders', '/orders');
    await mw(c.exchange, async () => c.send(502));
    expectTracked(tracker, {
      'GET /users/:id': { count: 1, errors: 0 },
      [`GET ${UNMATCHED_ROUTE}`]: { count: 1, errors: 0 },
      'POST /orders': { count: 1, errors: 1 },
    });
  });

  it('reads the outcome off the answer: the problem code of a middleware answer, the client leaving, else the status', async () => {
    const tracker = newTracker();
    const mw = percentileMiddleware(tracker);
    const answers: HttpResult[] = [
      { status: 200, headers: {} },
      { status: 503, headers: {} }, // the handler's own 503: an error
      { status: 503, headers: {}, code: 'QUEUE_FULL' },
      { status: 503, headers: {}, code: 'QUEUE_CLOSED' },
      { status: 503, headers: {}, code: 'SERVICE_UNAVAILABLE' },
      { status: 504, headers: {}, code: 'OPERATION_TIMEOUT' },
      { status: 200, headers: {}, clientGone: true },
      { status: 409, headers: {}, code: 'IDEMPOTENCY_IN_PROGRESS' },
    ];
    for (const answer of answers) {
      const a = fakeExchange('GET', '/r', '/r');
      await mw(a.exchange, async () => answer);
    }
    expect(answers.map(requestOutcome)).toEqual(['served', 'error', 'shed', 'shed', 'shed', 'timed_out', 'client_gone', 'served']);
    expect(tracker.stats('GET /r')).toMatchObject({ count: 3, errors: 1, shed: 3, timedOut: 1, clientGone: 1 });
  });

  it('counts a throwing chain as an error and passes the error on', async () => {
    const tracker = newTracker();
    const mw = percentileMiddleware(tracker);
    const a = fakeExchange('GET', '/x', '/x');
    await expect(
      mw(a.exchange, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(tracker.stats('GET /x')).toMatchObject({ count: 1, errors: 1 });
  });

  it('uses a custom key, and a failing key function never fails the request', async () => {
    const tracker = newTracker();
    const keyed = percentileMiddleware(tracker, { key: (ex, result) => `${ex.method} ${ex.route} ${result?.status}` });
    const a = fakeExchange('GET', '/a', '/a');
    await keyed(a.exchange, async () => a.send(201));
    expect(tracker.stats('GET /a 201').count).toBe(1);

    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    cleanup.push(() => void process.off('warning', onWarning));
    const broken = percentileMiddleware(tracker, { key: () => '' });
    const b = fakeExchange('GET', '/b', '/b');
    await broken(b.exchange, async () => b.send(200));
    await new Promise((r) => setImmediate(r));
    expect(warnings.some((m) => m.includes('could not record'))).toBe(true);
  });

  it('adds Server-Timing just before the response is sent', async () => {
    const tracker = newTracker();
    const a = fakeExchange('GET', '/a', '/a');
    await percentileMiddleware(tracker, { serverTiming: 'edge' })(a.exchange, async () => {
      await new Promise((r) => setTimeout(r, 5));
      return a.send(200);
    });
    expect(a.headers['server-timing']).toMatch(/^edge;dur=\d+\.\d{3}$/);
    expect(Number(a.headers['server-timing']?.split('=')[1])).toBeGreaterThanOrEqual(4);
    const b = fakeExchange('GET', '/a', '/a');
    await percentileMiddleware(tracker)(b.exchange, async () => b.send(200));
    expect(b.headers['server-timing']).toBeUndefined();
  });

  it('validates its options', () => {
    const tracker = newTracker();
    expect(() => percentileMiddleware(tracker, { serverTiming: 'has space' })).toThrow(/serverTiming/);
    expect(() => percentileMiddleware(tracker, { key: 'GET' as never })).toThrow(/options.key/);
    expect(() => metricsHandler(tracker, { path: 'metrics' })).toThrow(/options.path/);
    expect(() => metricsHandler(tracker, { name: 'bad name' })).toThrow(/options.name/);
  });

  it('metricsHandler answers with the Prometheus text, and only on its path when given one', async () => {
    const tracker = newTracker();
    tracker.record('GET /a', 12);
    const a = fakeExchange('GET', '/metrics', undefined);
    await metricsHandler(tracker)(a.exchange, async () => a.send(404));
    expect(a.response()).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
    expect(String(a.response()?.body)).toContain('headroom_duration_seconds_count{key="GET /a"} 1');
    const b = fakeExchange('GET', '/other', undefined);
    let passed = false;
    await metricsHandler(tracker, { path: '/metrics' })(b.exchange, async () => {
      passed = true;
      return b.send(200);
    });
    expect(passed).toBe(true);
    expect(b.response()).toBeUndefined();
  });
});

describe('percentileMiddleware through the adapters', () => {
  it('Express: route templates, 5xx errors, 404s unmatched, Server-Timing and /metrics', async () => {
    const tracker = newTracker();
    const app = express();
    app.use(toNode(percentileMiddleware(tracker, { serverTiming: true })));
    app.get('/users/:id', (req, res) => void res.json({ id: req.params.id }));
    app.get('/fail', (_req, res) => void res.status(503).send('down'));
    app.get('/metrics', toNode(metricsHandler(tracker)));
    const url = await listen(http.createServer(app));
    for (const id of [1, 2, 3]) {
      const res = await fetch(`${url}/users/${id}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('server-timing')).toMatch(/^app;dur=/);
      await res.text();
    }
    expect((await fetch(`${url}/fail`)).status).toBe(503);
    expect((await fetch(`${url}/nowhere/7`)).status).toBe(404);
    await new Promise((r) => setTimeout(r, 20));
    expectTracked(tracker, {
      'GET /users/:id': { count: 3, errors: 0 },
      'GET /fail': { count: 1, errors: 1 },
      [`GET ${UNMATCHED_ROUTE}`]: { count: 1, errors: 0 },
    });
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toContain('headroom_duration_seconds_count{key="GET /users/:id"} 3');
  });

  it('node:http without a router: every request is METHOD <unmatched>, never the raw path', async () => {
    const tracker = newTracker();
    const guard = toNode(percentileMiddleware(tracker));
    const url = await listen(
      http.createServer((req, res) =>
        guard(req, res, () => {
          res.statusCode = req.url === '/err' ? 500 : 200;
          res.end('ok');
        }),
      ),
    );
    await (await fetch(`${url}/users/9`)).text();
    await (await fetch(`${url}/err`)).text();
    await new Promise((r) => setTimeout(r, 20));
    expectTracked(tracker, { [`GET ${UNMATCHED_ROUTE}`]: { count: 2, errors: 1 } });
  });

  it('Fastify: route templates and 5xx errors', async () => {
    const tracker = newTracker();
    const app = Fastify();
    cleanup.push(() => app.close());
    await app.register(toFastify(percentileMiddleware(tracker, { serverTiming: true })));
    app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.get('/fail', async (_request, reply) => reply.code(500).send('x'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const res = await fetch(`${url}/users/1`);
    expect(res.headers.get('server-timing')).toMatch(/^app;dur=/);
    await res.text();
    await (await fetch(`${url}/users/2`)).text();
    await (await fetch(`${url}/fail`)).text();
    await (await fetch(`${url}/missing`)).text();
    await new Promise((r) => setTimeout(r, 20));
    expectTracked(tracker, {
      'GET /users/:id': { count: 2, errors: 0 },
      'GET /fail': { count: 1, errors: 1 },
      [`GET ${UNMATCHED_ROUTE}`]: { count: 1, errors: 0 },
    });
  });

  it('Hono: route patterns and 5xx errors', async () => {
    const tracker = newTracker();
    const app = new Hono();
    app.use(toHono(percentileMiddleware(tracker)));
    app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
    app.get('/fail', () => {
      throw new Error('handler failed');
    });
    app.get('/metrics', toHono(metricsHandler(tracker)));
    app.onError((_err, c) => c.text('failed', 500));
    expect((await app.request('/users/5')).status).toBe(200);
    expect((await app.request('/fail')).status).toBe(500);
    expectTracked(tracker, { 'GET /users/:id': { count: 1, errors: 0 }, 'GET /fail': { count: 1, errors: 1 } });
    const metrics = await app.request('/metrics');
    expect(await metrics.text()).toContain('key="GET /fail"');
  });
});

describe.each(KINDS)('percentileMiddleware outcomes on %s', (kind: Kind) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** The only key of the tracker, whatever route template the framework reports. */
  const only = (tracker: PercentileTracker) => {
    const keys = tracker.keys();
    expect(keys).toHaveLength(1);
    return tracker.stats(keys[0]!);
  };

  it('counts a timeout answer apart as timed_out, out of the percentiles', async () => {
    const tracker = newTracker();
    app = await startApp(kind, compose(percentileMiddleware(tracker), timeout('100ms')));
    expect((await fetch(`${app.url}/hang`)).status).toBe(504);
    await eventually(() => expect(only(tracker)).toMatchObject({ count: 0, timedOut: 1, shed: 0, errors: 0 }));
  });

  it('counts a full queue answer apart as shed, and the served request in the percentiles', async () => {
    const tracker = newTracker();
    const queue = new TaskQueue({ concurrency: 1, maxSize: 0 });
    app = await startApp(kind, compose(percentileMiddleware(tracker), shed(queue)));
    const slow = fetch(`${app.url}/slow`);
    await eventually(() => expect(queue.pending).toBe(1));
    const refused = await fetch(`${app.url}/slow`);
    expect(refused.status).toBe(503);
    await refused.text();
    expect((await slow).status).toBe(200);
    await eventually(() => {
      const stats = Object.values(tracker.summary());
      expect(stats.reduce((n, s) => n + s.shed, 0)).toBe(1);
      expect(stats.reduce((n, s) => n + s.count, 0)).toBe(1);
    });
    const served = Object.values(tracker.summary()).find((s) => s.count === 1)!;
    expect(served.min).toBeGreaterThanOrEqual(250); // the 300 ms handler, not the instant 503
  });

  it('counts a request whose client left as client_gone', async () => {
    const tracker = newTracker();
    app = await startApp(kind, percentileMiddleware(tracker));
    const controller = new AbortController();
    const request = fetch(`${app.url}/slow`, { signal: controller.signal }).catch(() => undefined);
    await eventually(() => expect(app!.log.handled).toContain('/slow'));
    controller.abort();
    await request;
    await eventually(() => expect(only(tracker)).toMatchObject({ count: 0, clientGone: 1 }));
  });
});
