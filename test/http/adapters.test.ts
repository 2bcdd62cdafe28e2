import { afterEach, describe, expect, it, vi } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { compose, timeout, type HttpExchange, type HttpResult, type Middleware } from '../../src/http/index.js';
import { KINDS, USER_ROUTE, startApp, type App, type Kind } from './apps.js';
import { eventually } from '../support/async.js';

describe.each(KINDS)('%s adapter', (kind: Kind) => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    vi.restoreAllMocks();
  });

  it('answers 504 with a problem body when the handler runs past timeout(), and aborts its signal', async () => {
    const errors = vi.spyOn(console, 'error');
    app = await startApp(kind, timeout('150ms', { name: 'request' }));
    const response = await fetch(`${app.url}/hang`);
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'about:blank',
      title: 'Gateway Timeout',
      status: 504,
      code: 'OPERATION_TIMEOUT',
      detail: 'headroom: request timed out after 150 ms',
    });
    const log = app.log;
    await eventually(() => expect(log.aborted).toHaveLength(1));
    expect(isHeadroomError(log.aborted[0], 'OPERATION_TIMEOUT')).toBe(true);
    // The handler's own late answer (500) was discarded without an error, and the server goes on.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(errors).not.toHaveBeenCalled();
    expect(await (await fetch(`${app.url}/fast`)).text()).toBe('fast');
  });

  it('lets a fast request through timeout() untouched', async () => {
    app = await startApp(kind, timeout('2s'));
    const response = await fetch(`${app.url}/users/7`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: '7' });
    expect(app.log.aborted).toEqual([]);
  });

  it('resolves next({ captureBody: true }) with the status, headers and bytes the handler sent', async () => {
    let result: HttpResult | undefined;
    app = await startApp(kind, async (_exchange, next) => {
      result = await next({ captureBody: true });
    });
    const response = await fetch(`${app.url}/users/42`);
    const sent = await response.text();
    await eventually(() => expect(result).toBeDefined());
    expect(result!.status).toBe(200);
    expect(result!.headers['content-type']).toMatch(/^application\/json/);
    expect(Buffer.from(result!.body!).toString('utf8')).toBe(sent);
    expect(JSON.parse(sent)).toEqual({ id: '42' });
  });

  it('resolves next() without a body unless captureBody was asked for', async () => {
    let result: HttpResult | undefined;
    app = await startApp(kind, async (_exchange, next) => {
      result = await next();
    });
    await (await fetch(`${app.url}/fast`)).text();
    await eventually(() => expect(result).toBeDefined());
    expect(result!.status).toBe(200);
    expect(result!.body).toBeUndefined();
  });

  it('short-circuits on respond(): the handler never runs', async () => {
    app = await startApp(kind, async (exchange) => {
      exchange.respond({ status: 418, headers: { 'content-type': 'application/json', 'x-replayed': 'yes' }, body: '{"tea":true}' });
    });
    const response = await fetch(`${app.url}/fast`);
    expect(response.status).toBe(418);
    expect(response.headers.get('x-replayed')).toBe('yes');
    expect(await response.json()).toEqual({ tea: true });
    expect(app.log.handled).toEqual([]);
  });

  it('lets onBeforeSend set a late header that reaches the client', async () => {
    app = await startApp(kind, async (exchange, next) => {
      const started = performance.now();
      exchange.onBeforeSend((status) => {
        exchange.setHeader('server-timing', `app;dur=${(performance.now() - started).toFixed(1)};desc="${status}"`);
      });
      exchange.setHeader('x-early', 'set-before-next');
      await next();
    });
    const response = await fetch(`${app.url}/users/1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('server-timing')).toMatch(/^app;dur=\d+(\.\d)?;desc="200"$/);
    expect(response.headers.get('x-early')).toBe('set-before-next');
  });

  it('reports method, path, url and the route template once next() resolved', async () => {
    const seen: Array<{ before: string | undefined; after: string | undefined; path: string; url: string; method: string }> = [];
    app = await startApp(kind, async (exchange, next) => {
      const before = kind === 'fastify' ? exchange.route : undefined;
      await next();
      seen.push({ before, after: exchange.route, path: exchange.path, url: exchange.url, method: exchange.method });
    });
    await (await fetch(`${app.url}/users/42?x=1`)).text();
    await eventually(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toEqual({
      before: USER_ROUTE[kind] === undefined ? undefined : kind === 'fastify' ? '/users/:id' : undefined,
      after: USER_ROUTE[kind],
      path: '/users/42',
      url: '/users/42?x=1',
      method: 'GET',
    });
  });

  it('reads a JSON body as raw bytes in body() and leaves it readable for the handler', async () => {
    let seen: unknown;
    let header: string | undefined;
    app = await startApp(kind, async (exchange: HttpExchange, next) => {
      seen = await exchange.body();
      header = exchange.header('Content-Type');
      await next();
    });
    const payload = JSON.stringify({ order: 7, items: ['a', 'b'] });
    const response = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: { order: 7, items: ['a', 'b'] } });
    expect(seen).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(seen as Uint8Array).toString('utf8')).toBe(payload);
    expect(header).toBe('application/json');
  });

  it('reads no body for a GET', async () => {
    let seen: unknown = 'unset';
    app = await startApp(kind, async (exchange, next) => {
      seen = await exchange.body();
      await next();
    });
    await (await fetch(`${app.url}/fast`)).text();
    expect(seen).toBeUndefined();
  });

  it('aborts the handler signal when the client disconnects', async () => {
    app = await startApp(kind, async (_exchange, next) => {
      await next();
    });
    const client = new AbortController();
    const pending = fetch(`${app.url}/hang`, { signal: client.signal }).catch((err: unknown) => err);
    const log = app.log;
    await eventually(() => expect(log.handled).toEqual(['/hang']));
    client.abort();
    await pending;
    await eventually(() => expect(log.aborted).toHaveLength(1));
    expect((log.aborted[0] as Error).name).toBe('AbortError');
  });

  it('runs composed middlewares in order, each next() seeing the final response', async () => {
    const order: string[] = [];
    const statuses: number[] = [];
    const outer: Middleware = async (_exchange, next) => {
      order.push('outer:in');
      statuses.push((await next()).status);
      order.push('outer:out');
    };
    const inner: Middleware = async (_exchange, next) => {
      order.push('inner:in');
      await next();
      order.push('inner:out');
    };
    app = await startApp(kind, compose(outer, inner, timeout('150ms')));
    expect((await fetch(`${app.url}/hang`)).status).toBe(504);
    await eventually(() => expect(order).toEqual(['outer:in', 'inner:in', 'inner:out', 'outer:out']));
    expect(statuses).toEqual([504]);
  });
});

describe('express adapter with a body parser in front', () => {
  it('returns the parsed body from body() and reports nested router templates', async () => {
    let seen: unknown;
    const routes: Array<string | undefined> = [];
    const app = await startApp(
      'express',
      async (exchange, next) => {
        seen = await exchange.body();
        await next();
        routes.push(exchange.route);
      },
      { jsonParser: true },
    );
    try {
      const response = await fetch(`${app.url}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(await response.json()).toEqual({ received: { a: 1 } });
      expect(seen).toEqual({ a: 1 });
      await (await fetch(`${app.url}/api/items/9`)).text();
      await eventually(() => expect(routes).toHaveLength(2));
      expect(routes).toEqual(['/echo', '/api/items/:id']);
    } finally {
      await app.close();
    }
  });
});
