/**
 * What `next()` resolves with when the request is answered in the handler's place, on every
 * adapter: the answer as sent by default, the handler's own response with
 * `{ untilHandlerSettles: true }`; and the plain node:http handler that throws under toNode.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compose, shed, timeout, toHono, toNode, type HttpResult, type Middleware } from '../../src/http/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from '../../src/idempotency/index.js';
import { PercentileTracker, percentileMiddleware } from '../../src/percentiles/index.js';
import { eventually, trackUnhandledRejections } from '../support/async.js';
import { KINDS, startApp, type App, type Kind } from './apps.js';

const unhandled = trackUnhandledRejections();

/** Records what `next(options)` resolved (or rejected) with, behind `timeout(ms)`. */
function recorder(ms: number, options: Parameters<Parameters<Middleware>[1]>[0]): { mw: Middleware; outcome: () => HttpResult | Error | undefined } {
  let outcome: HttpResult | Error | undefined;
  const inner: Middleware = async (_exchange, next) => {
    try {
      outcome = await next(options);
    } catch (err) {
      outcome = err as Error;
    }
  };
  return { mw: compose(timeout(ms), inner), outcome: () => outcome };
}

const text = (result: HttpResult | Error | undefined): string => Buffer.from((result as HttpResult).body ?? new Uint8Array(0)).toString('utf8');

describe.each(KINDS)('%s: next() when a timeout answered in the handler place', (kind: Kind) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.restoreAllMocks();
  });

  it('resolves a plain next() with the answer as sent: the 504 and its body', async () => {
    const errors = vi.spyOn(console, 'error');
    const { mw, outcome } = recorder(100, { captureBody: true });
    app = await startApp(kind, mw);
    expect((await fetch(`${app.url}/hang`)).status).toBe(504);
    await eventually(() => expect(outcome()).toBeDefined());
    expect((outcome() as HttpResult).status).toBe(504);
    expect((outcome() as HttpResult).code).toBe('OPERATION_TIMEOUT');
    expect(JSON.parse(text(outcome()))).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    // Hono and fetch used to clone the answer the server had already consumed:
    // "TypeError: Response.clone: Body has already been consumed".
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(errors).not.toHaveBeenCalled();
    expect(unhandled).toEqual([]);
  });

  it('resolves next({ untilHandlerSettles }) with the response the handler went on to produce', async () => {
    const { mw, outcome } = recorder(100, { captureBody: true, untilHandlerSettles: true });
    app = await startApp(kind, mw);
    const answered = await fetch(`${app.url}/hang`);
    expect(answered.status).toBe(504);
    expect(await answered.json()).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    // /hang answers 500 "aborted" once its signal aborted: its own answer, never sent.
    await eventually(() => expect(outcome()).toBeDefined());
    expect((outcome() as HttpResult).status).toBe(500);
    expect(text(outcome())).toBe('aborted');
    expect((outcome() as HttpResult).code).toBeUndefined();
    expect(unhandled).toEqual([]);
  });

  it('lets shed free its slot once the handler ended, after its client left', async () => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 0 });
    app = await startApp(kind, shed(queue));
    const client = new AbortController();
    const gone = fetch(`${app.url}/slow`, { signal: client.signal }).catch(() => undefined);
    await eventually(() => expect(app!.log.handled).toContain('/slow'));
    client.abort();
    await gone;
    // /slow stops as soon as its signal aborts, then ends its response: the slot is free again.
    await eventually(() => expect(queue.pending).toBe(0));
    expect((await fetch(`${app.url}/fast`)).status).toBe(200);
  });

  it('resolves next({ untilHandlerSettles }) with the handler response when nothing answered first', async () => {
    const { mw, outcome } = recorder(2000, { captureBody: true, untilHandlerSettles: true });
    app = await startApp(kind, mw);
    const res = await fetch(`${app.url}/users/9`);
    expect(await res.json()).toEqual({ id: '9' });
    await eventually(() => expect(outcome()).toBeDefined());
    expect((outcome() as HttpResult).status).toBe(200);
    expect(JSON.parse(text(outcome()))).toEqual({ id: '9' });
  });
});

describe('toNode with a plain node:http handler that fails', () => {
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    vi.restoreAllMocks();
  });

  async function serveWith(middleware: Middleware, handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown): Promise<string> {
    const guard = toNode(middleware);
    const server = http.createServer((req, res) => guard(req, res, () => handler(req, res))).listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const passThrough: Middleware = async (_exchange, next) => {
    await next();
  };

  it.each([
    [
      'throws',
      () => {
        throw new Error('boom');
      },
    ],
    [
      'rejects',
      async () => {
        await Promise.resolve();
        throw new Error('boom');
      },
    ],
  ])('answers 500 problem+json and reports the error when it %s', async (_how, handler) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const url = await serveWith(passThrough, handler);
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(errors).toHaveBeenCalledWith('headroom: the request handler failed', expect.objectContaining({ message: 'boom' }));
  });

  it('keeps the timeout answer when the handler fails after it, and reports the error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const url = await serveWith(timeout(50), async () => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      throw new Error('late boom');
    });
    const res = await fetch(url);
    expect(res.status).toBe(504);
    await eventually(() => expect(errors).toHaveBeenCalledWith('headroom: the request handler failed', expect.objectContaining({ message: 'late boom' })));
  });
});

describe('Hono: the handler Response after a timeout answered', () => {
  it('an idempotent handler that finishes after a timeout logs no "Body has already been consumed"', async () => {
    const errors = vi.spyOn(console, 'error');
    const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
    const tracker = new PercentileTracker();
    const app = new Hono();
    // Server-Timing set on the answer made Hono rebuild it around a stream, which the server consumed.
    app.use(toHono(percentileMiddleware(tracker, { serverTiming: true })));
    app.use(toHono(timeout(50)));
    app.use(toHono(idempotencyMiddleware(idempotency)));
    let finished = 0;
    app.post('/orders', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      finished++;
      return c.json({ id: 1 }, 201);
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
      const res = await fetch(url, { method: 'POST', headers: { 'idempotency-key': 'k1' } });
      expect(res.status).toBe(504);
      await res.text();
      await eventually(() => expect(finished).toBe(1));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const logged = errors.mock.calls.flat().map((arg) => String(arg instanceof Error ? arg.message : arg));
      expect(logged.filter((line) => line.includes('Body has already been consumed'))).toEqual([]);
      expect(unhandled).toEqual([]);
      expect(res.headers.get('server-timing')).toMatch(/^app;dur=/);
    } finally {
      tracker.close();
      server.close();
      vi.restoreAllMocks();
    }
  });

  it('is read, not cloned from the answer the server consumed', async () => {
    const errors = vi.spyOn(console, 'error');
    let seen: HttpResult | undefined;
    const app = new Hono();
    app.use(
      toHono(
        compose(timeout(50), async (_exchange, next) => {
          seen = await next({ captureBody: true, untilHandlerSettles: true });
        }),
      ),
    );
    app.post('/orders', async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      c.header('location', '/orders/1');
      return c.json({ id: 1 }, 201);
    });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as http.Server;
    await once(server, 'listening');
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`, { method: 'POST' });
      expect(res.status).toBe(504);
      await eventually(() => expect(seen).toBeDefined());
      expect(seen!.status).toBe(201);
      expect(seen!.headers.location).toBe('/orders/1');
      // Built from the handler's own headers, not the answer's.
      expect(seen!.headers['retry-after']).toBeUndefined();
      expect(JSON.parse(Buffer.from(seen!.body!).toString('utf8'))).toEqual({ id: 1 });
      expect(errors).not.toHaveBeenCalled();
    } finally {
      server.close();
      vi.restoreAllMocks();
    }
  });
});
