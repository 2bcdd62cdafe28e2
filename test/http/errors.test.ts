/**
 * The one error policy of the adapters (docs/http.md, "When a middleware throws"): a middleware's
 * error goes to the framework's error handling while no answer was given; after an answer, the
 * answer stands and the error is reported.
 */
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../src/timeout/index.js';
import { toFastify, toFetch, toHono, toKoa, toNode, type Middleware } from '../../src/http/index.js';

type Framework = 'express' | 'fastify' | 'koa' | 'hono' | 'fetch';
const FRAMEWORKS: Framework[] = ['express', 'fastify', 'koa', 'hono', 'fetch'];

const boom = new Error('boom');
const throwsFirst: Middleware = async () => {
  throw boom;
};
const throwsAfterAnswering: Middleware = async (exchange) => {
  exchange.respond({ status: 418, headers: { 'content-type': 'text/plain' }, body: 'teapot' });
  throw boom;
};

interface Started {
  url: string;
  /** Errors the framework's own error handling received. */
  handled: unknown[];
  close(): Promise<void>;
}

async function listening(server: Server, handled: unknown[]): Promise<Started> {
  if (!server.listening) await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function start(framework: Framework, middleware: Middleware): Promise<Started> {
  const handled: unknown[] = [];
  const ok = 'handler';
  switch (framework) {
    case 'express': {
      const app = express();
      app.use(toNode(middleware));
      app.get('/', (_req, res) => void res.send(ok));
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        handled.push(err);
        res.status(500).send('handled');
      });
      return listening(app.listen(0, '127.0.0.1'), handled);
    }
    case 'fastify': {
      const app = Fastify();
      await app.register(toFastify(middleware));
      app.setErrorHandler((err, _request, reply) => {
        handled.push(err);
        void reply.code(500).send('handled');
      });
      app.get('/', async () => ok);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { ...(await listening(app.server, handled)), close: () => app.close() };
    }
    case 'koa': {
      const app = new Koa();
      app.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          handled.push(err);
          ctx.status = 500;
          ctx.body = 'handled';
        }
      });
      app.use(toKoa(middleware));
      app.use(async (ctx) => {
        ctx.body = ok;
      });
      return listening(app.listen(0, '127.0.0.1'), handled);
    }
    case 'hono': {
      const app = new Hono();
      app.onError((err, c) => {
        handled.push(err);
        return c.text('handled', 500);
      });
      app.use(toHono(middleware));
      app.get('/', (c) => c.text(ok));
      return listening(serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server, handled);
    }
    case 'fetch': {
      const guarded = toFetch(middleware, () => new Response(ok));
      const fetchHandler = (request: Request): Promise<Response> =>
        guarded(request).catch((err: unknown) => {
          handled.push(err);
          return new Response('handled', { status: 500 });
        });
      return listening(serve({ fetch: fetchHandler, port: 0, hostname: '127.0.0.1' }) as Server, handled);
    }
  }
}

describe.each(FRAMEWORKS)('%s: a middleware that throws', (framework) => {
  let app: Started | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.restoreAllMocks();
  });

  it("before answering: the framework's error handling gets the error", async () => {
    app = await start(framework, throwsFirst);
    const response = await fetch(app.url);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe('handled');
    expect(app.handled).toEqual([boom]);
  });

  it('after answering: the answer stands and the error is reported, not handed on', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    app = await start(framework, throwsAfterAnswering);
    const response = await fetch(app.url);
    expect(response.status).toBe(418);
    expect(await response.text()).toBe('teapot');
    expect(app.handled).toEqual([]);
    // Fastify reports through the request's logger (off here); the others through console.error.
    if (framework !== 'fastify') {
      expect(errors).toHaveBeenCalledWith('headroom: middleware failed after the response was handed on', boom);
    }
  });
});

describe('toNode on plain node:http, without a framework next', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    vi.restoreAllMocks();
  });

  async function url(middleware: Middleware): Promise<string> {
    const guard = toNode(middleware);
    const server = http.createServer((req, res) => guard(req, res)).listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('answers a HeadroomError with its problem response, and any other error with a logged 500', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const timedOut = await fetch(await url(() => Promise.reject(new TimeoutError(10, 'op'))));
    expect(timedOut.status).toBe(504);
    expect(await timedOut.json()).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    expect(errors).not.toHaveBeenCalled();
    const failed = await fetch(await url(throwsFirst));
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
    expect(errors).toHaveBeenCalledWith('headroom: middleware failed', boom);
  });

  it('keeps an answer given before the error, and reports the error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const response = await fetch(await url(throwsAfterAnswering));
    expect(response.status).toBe(418);
    expect(await response.text()).toBe('teapot');
    expect(errors).toHaveBeenCalledWith('headroom: middleware failed after the response was handed on', boom);
  });
});
