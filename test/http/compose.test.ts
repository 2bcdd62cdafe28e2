import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { pathOf, targetOf } from '../../src/http/web-io.js';
import { compose, requestSignal, timeout, toFetch, toNode, type Middleware } from '../../src/http/index.js';
import { TimeoutError } from '../../src/timeout/index.js';

const ok = (): Response => new Response('ok');

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('compose()', () => {
  it('runs middlewares outermost first and unwinds in reverse', async () => {
    const order: string[] = [];
    const tag =
      (name: string): Middleware =>
      async (_exchange, next) => {
        order.push(`${name}:in`);
        const result = await next();
        order.push(`${name}:out:${result.status}`);
      };
    const handler = toFetch(compose(tag('a'), tag('b'), tag('c')), ok);
    expect(await (await handler(new Request('http://local/x'))).text()).toBe('ok');
    expect(order).toEqual(['a:in', 'b:in', 'c:in', 'c:out:200', 'b:out:200', 'a:out:200']);
  });

  it('gives an outer next() the response an inner middleware answered with', async () => {
    let status = 0;
    const outer: Middleware = async (_exchange, next) => {
      status = (await next({ captureBody: true })).status;
    };
    const refuse: Middleware = async (exchange) => exchange.respond({ status: 429, body: 'slow down' });
    const response = await toFetch(compose(outer, refuse), ok)(new Request('http://local/'));
    expect(response.status).toBe(429);
    expect(status).toBe(429);
  });

  it('passes straight through when empty', async () => {
    expect((await toFetch(compose(), ok)(new Request('http://local/'))).status).toBe(200);
  });

  it('rejects a non-function with INVALID_ARGUMENT naming its position', () => {
    const err = caught(() => compose(timeout('1s'), 'nope' as never));
    expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/middlewares\[1\]/);
  });
});

describe('option checks', () => {
  it.each([['soon'], [0], [-5], [null]])('timeout(%j) throws INVALID_ARGUMENT naming duration', (value) => {
    const err = caught(() => timeout(value as never));
    expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toMatch(/duration/);
  });

  it('adapters refuse a middleware that is not a function', () => {
    expect(
      isHeadroomError(
        caught(() => toNode(undefined as never)),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);
    expect(
      isHeadroomError(
        caught(() => toFetch(timeout('1s'), 5 as never)),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });
});

describe('requestSignal()', () => {
  it('returns a never-aborting signal for a request no adapter saw, and the fetch signal for a Request', () => {
    expect(requestSignal({}).aborted).toBe(false);
    const request = new Request('http://local/');
    expect(requestSignal(request)).toBe(request.signal);
    expect(
      isHeadroomError(
        caught(() => requestSignal(null as never)),
        'INVALID_ARGUMENT',
      ),
    ).toBe(true);
  });

  it('is one signal for every adapter the same request passes through', async () => {
    let inner: AbortSignal | undefined;
    const outer: Middleware = async (exchange, next) => {
      await next();
      exchange.abort(new Error('stop'));
    };
    const handler = toFetch(
      outer,
      toFetch(
        async (_exchange, next) => {
          await next();
        },
        async (request) => {
          inner = requestSignal(request);
          return ok();
        },
      ),
    );
    await handler(new Request('http://local/'));
    expect(inner?.aborted).toBe(true);
    expect((inner?.reason as Error).message).toBe('stop');
  });
});

describe('toFetch()', () => {
  it('adds headers set before next() unless the handler set them, and reports the route option', async () => {
    let route: string | undefined;
    const handler = toFetch(
      async (exchange, next) => {
        exchange.setHeader('x-a', 'from-middleware');
        exchange.setHeader('x-b', 'from-middleware');
        await next();
        route = exchange.route;
      },
      () => new Response('ok', { headers: { 'x-b': 'from-handler' } }),
      { route: '/api/things/[id]' },
    );
    const response = await handler(new Request('http://local/api/things/1'));
    expect(response.headers.get('x-a')).toBe('from-middleware');
    expect(response.headers.get('x-b')).toBe('from-handler');
    expect(route).toBe('/api/things/[id]');
  });

  it('sets late headers on a response whose headers are immutable', async () => {
    const handler = toFetch(
      async (exchange, next) => {
        exchange.onBeforeSend(() => exchange.setHeader('server-timing', 'app;dur=1'));
        await next();
      },
      () => Response.redirect('http://local/elsewhere', 302),
    );
    const response = await handler(new Request('http://local/'));
    expect(response.status).toBe(302);
    expect(response.headers.get('server-timing')).toBe('app;dur=1');
  });

  it('passes extra arguments through to the handler and rejects with a middleware error', async () => {
    const echo = toFetch(
      async (_exchange, next) => {
        await next();
      },
      (_request: Request, env: { name: string }) => new Response(env.name),
    );
    expect(await (await echo(new Request('http://local/'), { name: 'env' })).text()).toBe('env');
    const failing = toFetch(async () => {
      throw new Error('boom');
    }, ok);
    await expect(failing(new Request('http://local/'))).rejects.toThrow('boom');
  });

  it.each([
    ['http://local', '/'],
    ['http://local/a/b?c=1', '/a/b'],
    ['https://local:8080/a#frag', '/a'],
    ['http://local/?q', '/'],
  ])('reads the path of %s as %s', (url, path) => {
    expect(pathOf(url)).toBe(path);
  });

  it.each([
    ['http://local', '/'],
    ['http://local/a/b?c=1', '/a/b?c=1'],
    ['https://local:8080/a?b#frag', '/a?b'],
    ['http://local?q=1', '/?q=1'],
  ])('reads the request target of %s as %s', (url, target) => {
    expect(targetOf(url)).toBe(target);
  });
});

describe('toNode() without a framework next', () => {
  it('answers 404 when the chain reaches its end, and a problem response for a HeadroomError thrown before next()', async () => {
    const passing = toNode(async (_exchange, next) => {
      await next();
    });
    const failing = toNode(() => Promise.reject(new TimeoutError(10, 'op')));
    const server = http.createServer((req, res) => (req.url === '/fail' ? failing(req, res) : passing(req, res)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${url}/x`)).status).toBe(404);
      const failed = await fetch(`${url}/fail`);
      expect(failed.status).toBe(504);
      expect(await failed.json()).toMatchObject({ code: 'OPERATION_TIMEOUT' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
