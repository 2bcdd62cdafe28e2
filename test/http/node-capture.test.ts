import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toNode, type HttpResult } from '../../src/http/index.js';

/** A plain node:http server whose handler answers in the way `path` names. */
async function start(onResult: (result: HttpResult, body: unknown) => void): Promise<{ url: string; close(): Promise<void> }> {
  const guard = toNode(async (exchange, next) => {
    const body = await exchange.body();
    onResult(await next({ captureBody: true }), body);
  });
  const handle = (req: IncomingMessage & { body?: unknown }, res: ServerResponse): void => {
    switch (req.url) {
      case '/object':
        res.writeHead(201, { Location: '/payments/1', 'content-type': 'application/json', 'x-count': 3, 'x-list': ['a', 'b'] });
        res.end('{"id":1}');
        return;
      case '/flat':
        res.writeHead(201, ['location', '/payments/2', 'x-multi', 'a', 'x-multi', 'b']);
        res.end('flat');
        return;
      case '/pairs':
        res.writeHead(202, 'Accepted', [['Location', '/payments/3']] as unknown as string[]);
        res.end();
        return;
      case '/mixed':
        res.setHeader('location', '/from-set-header');
        res.setHeader('x-set', 'kept');
        res.writeHead(200, { location: '/from-write-head', 'x-head': 'added' });
        res.end();
        return;
      case '/chunks':
        res.statusCode = 200;
        res.write('ab');
        res.write(Buffer.from('cd'));
        res.write('');
        res.end('e', 'utf8');
        return;
      default:
        res.end(Buffer.isBuffer(req.body) ? req.body : 'no body');
    }
  };
  const server: Server = http.createServer((req, res) => guard(req, res, () => handle(req, res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('toNode capture on plain node:http', () => {
  let app: Awaited<ReturnType<typeof start>> | undefined;
  let result: HttpResult | undefined;
  let body: unknown;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    result = undefined;
  });

  async function call(path: string, init?: RequestInit): Promise<Response> {
    app ??= await start((r, b) => {
      result = r;
      body = b;
    });
    const response = await fetch(app.url + path, init);
    await response.arrayBuffer();
    for (let i = 0; i < 100 && result === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    return response;
  }

  it('reports the headers given to writeHead(status, object), which node keeps out of getHeaders()', async () => {
    await call('/object');
    expect(result!.status).toBe(201);
    expect(result!.headers).toMatchObject({ location: '/payments/1', 'content-type': 'application/json', 'x-count': '3', 'x-list': 'a, b' });
    expect(Buffer.from(result!.body!).toString()).toBe('{"id":1}');
  });

  it('reports the headers of writeHead with a flat array, joining a repeated name', async () => {
    const response = await call('/flat');
    expect(response.headers.get('x-multi')).toBe('a, b');
    expect(result!.headers).toMatchObject({ location: '/payments/2', 'x-multi': 'a, b' });
  });

  it('reports the headers of writeHead(status, reason, [[name, value]])', async () => {
    await call('/pairs');
    expect(result!.status).toBe(202);
    expect(result!.headers.location).toBe('/payments/3');
    expect(result!.body!.byteLength).toBe(0);
  });

  it('reports what node sent when setHeader came before writeHead: writeHead values win, both kept', async () => {
    const response = await call('/mixed');
    expect(response.headers.get('location')).toBe('/from-write-head');
    expect(result!.headers).toMatchObject({ location: '/from-write-head', 'x-set': 'kept', 'x-head': 'added' });
  });

  it('captures a body written in several chunks, strings and buffers', async () => {
    await call('/chunks');
    expect(Buffer.from(result!.body!).toString()).toBe('abcde');
  });

  it('reads a request body into req.body for the handler, and the body arriving in pieces', async () => {
    const payload = 'x'.repeat(200_000);
    const response = await call('/echo', { method: 'POST', body: payload, headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(200);
    expect(Buffer.isBuffer(body)).toBe(true);
    expect((body as Buffer).toString()).toBe(payload);
    expect(Buffer.from(result!.body!).toString()).toBe(payload);
  });
});

describe('toNode twice on one request (two app.use(toNode(...)))', () => {
  it('settles both exchanges when the response closes, the outer first, each with the captured result', async () => {
    const order: string[] = [];
    const bodies: string[] = [];
    const watcher = (name: string) =>
      toNode(async (_exchange, next) => {
        const result = await next({ captureBody: true });
        order.push(name);
        bodies.push(`${result.status} ${Buffer.from(result.body ?? new Uint8Array()).toString()}`);
      });
    const outer = watcher('outer');
    const inner = watcher('inner');
    const server = http.createServer((req, res) =>
      outer(req, res, () =>
        inner(req, res, () => {
          res.writeHead(201, { 'content-type': 'text/plain' });
          res.end('done €');
        }),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(await response.text()).toBe('done €');
      await expect.poll(() => order.length).toBe(2);
      expect(order).toEqual(['outer', 'inner']);
      expect(bodies).toEqual(['201 done €', '201 done €']);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
