import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  Idempotency,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  idempotencyMiddleware,
  isHeadroomError,
  type IdempotencyMiddlewareOptions,
  type IdempotencyStore,
} from '../../src/idempotency/index.js';
import { toNode } from '../../src/http/index.js';
import { sha256 } from '../../src/idempotency/fingerprint.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';
import { startPaymentApp, type Kind, type PaymentApp } from './payment-apps.js';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

async function post(
  app: PaymentApp,
  path: string,
  init: { key?: string; body?: string; type?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json', ...init.headers };
  if (init.key !== undefined) headers['idempotency-key'] = init.key;
  const res = await fetch(app.url + path, { method: 'POST', headers, body: init.body ?? '{"amount":1999,"currency":"eur"}' });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Polls until `check` holds: lets a test start a duplicate only once the first is inside the handler. */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

let apps: PaymentApp[] = [];
async function start(kind: Kind, options: IdempotencyMiddlewareOptions = {}, idempotency?: Idempotency): Promise<PaymentApp> {
  const idem = idempotency ?? new Idempotency({ store: new MemoryIdempotencyStore() });
  const app = await startPaymentApp(kind, idempotencyMiddleware(idem, options));
  apps.push(app);
  return app;
}
afterEach(async () => {
  await Promise.all(apps.map((a) => a.close()));
  apps = [];
});

describe.each(['node', 'express', 'fastify', 'koa', 'hono'] as const)('idempotencyMiddleware on %s', (kind) => {
  it('runs the first request, then replays status, chosen headers and body with Idempotent-Replayed: true', async () => {
    const app = await start(kind);
    const first = await post(app, '/payments', { key: 'k1' });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ id: 'pay_1', run: 1 });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post(app, '/payments', { key: 'k1' });
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('location')).toBe('/payments/pay_1');
    expect(again.headers.get('etag')).toBe('"v1"');
    expect(again.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Not on the allow-list: never replayed (a session cookie, a per-request id).
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(again.headers.get('x-request-id')).toBeNull();
    expect(app.runs).toBe(1);
  });

  it('answers 422 problem+json IDEMPOTENCY_KEY_REUSED when the key comes back with another body', async () => {
    const app = await start(kind);
    await post(app, '/payments', { key: 'k1', body: '{"amount":1999}' });
    const reused = await post(app, '/payments', { key: 'k1', body: '{"amount":5}' });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(reused.json).toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(app.runs).toBe(1);
  });

  it('answers 422 when the key comes back for another path or query', async () => {
    const app = await start(kind);
    await post(app, '/payments', { key: 'k1' });
    expect((await post(app, '/payments?capture=false', { key: 'k1' })).status).toBe(422);
    expect((await post(app, '/declined', { key: 'k1' })).status).toBe(422);
    expect(app.runs).toBe(1);
  });

  it('fingerprints JSON canonically: key order and whitespace do not matter', async () => {
    const app = await start(kind);
    await post(app, '/payments', { key: 'k1', body: '{"amount":1999,"meta":{"a":1,"b":2}}' });
    const reordered = await post(app, '/payments', { key: 'k1', body: '{ "meta": {"b":2, "a":1}, "amount": 1999 }' });
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(app.runs).toBe(1);
  });

  it('fingerprints a non-JSON body as bytes', async () => {
    const app = await start(kind);
    const type = 'application/octet-stream';
    expect((await post(app, '/payments', { key: 'bin', type, body: 'raw\u0001bytes' })).status).toBe(201);
    expect((await post(app, '/payments', { key: 'bin', type, body: 'raw\u0001bytes' })).headers.get('idempotent-replayed')).toBe('true');
    expect((await post(app, '/payments', { key: 'bin', type, body: 'raw\u0002bytes' })).status).toBe(422);
    expect(app.runs).toBe(1);
  });

  it('answers 409 problem+json with Retry-After to a duplicate while the first is in flight', async () => {
    const app = await start(kind);
    const first = post(app, '/payments', { key: 'k1', headers: { 'x-delay': '500' } });
    await until(() => app.runs === 1);
    const dup = await post(app, '/payments', { key: 'k1' });
    expect(dup.status).toBe(409);
    expect(dup.headers.get('content-type')).toBe('application/problem+json');
    expect(dup.headers.get('retry-after')).toBe('1');
    expect(dup.json).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS' });
    expect((await first).status).toBe(201);
    expect(app.runs).toBe(1);
  });

  it('holds an in-flight duplicate for the result when wait is set', async () => {
    const app = await start(kind, { wait: '5s' });
    const first = post(app, '/payments', { key: 'k1', headers: { 'x-delay': '300' } });
    await until(() => app.runs === 1);
    const dup = await post(app, '/payments', { key: 'k1' });
    expect(dup.status).toBe(201);
    expect(dup.headers.get('idempotent-replayed')).toBe('true');
    expect(dup.text).toBe((await first).text);
    expect(app.runs).toBe(1);
  });

  it('does not store a 5xx: the key is released and a retry runs again', async () => {
    const app = await start(kind);
    expect((await post(app, '/fail', { key: 'k1' })).status).toBe(500);
    const retry = await post(app, '/fail', { key: 'k1' });
    expect(retry.status).toBe(500);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(app.runs).toBe(2);
  });

  it('stores a 4xx and replays it', async () => {
    const app = await start(kind);
    expect((await post(app, '/declined', { key: 'k1' })).status).toBe(402);
    const retry = await post(app, '/declined', { key: 'k1' });
    expect(retry.status).toBe(402);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(app.runs).toBe(1);
  });

  it('runs the same key twice for two scopes, and neither scope reads the other response', async () => {
    const app = await start(kind, { scope: (exchange) => exchange.header('x-tenant') });
    const a = await post(app, '/payments', { key: 'shared', headers: { 'x-tenant': 'tenant-a' } });
    const b = await post(app, '/payments', { key: 'shared', headers: { 'x-tenant': 'tenant-b' } });
    expect(a.json.id).toBe('pay_1');
    expect(b.json.id).toBe('pay_2');
    expect((await post(app, '/payments', { key: 'shared', headers: { 'x-tenant': 'tenant-a' } })).json.id).toBe('pay_1');
    expect((await post(app, '/payments', { key: 'shared', headers: { 'x-tenant': 'tenant-b' } })).json.id).toBe('pay_2');
    expect(app.runs).toBe(2);
  });

  it('reads a bare key and its RFC 8941 quoted form as the same key', async () => {
    const app = await start(kind);
    await post(app, '/payments', { key: 'abc-123' });
    const quoted = await post(app, '/payments', { key: '"abc-123"' });
    expect(quoted.headers.get('idempotent-replayed')).toBe('true');
    expect(app.runs).toBe(1);
  });

  it.each([
    ['empty', '', /empty/],
    ['too long', 'k'.repeat(256), /longer than 255/],
    ['with a control character', 'bad\tkey', /printable ASCII/],
    ['with a space', 'two words', /printable ASCII/],
    ['a malformed quoted string', '"open', /malformed/],
  ])('answers 400 problem+json IDEMPOTENCY_KEY_INVALID to a key that is %s', async (_what, key, detail) => {
    const app = await start(kind);
    const res = await post(app, '/payments', { key });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.json).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_INVALID' });
    expect(String(res.json.detail)).toMatch(detail);
    expect(app.runs).toBe(0);
  });

  it('answers 400 to a request without a key when required, and lets it through otherwise', async () => {
    const strict = await start(kind, { required: true });
    const refused = await post(strict, '/payments');
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    expect(String(refused.json.detail)).toMatch(/needs an Idempotency-Key/);
    const lenient = await start(kind);
    expect((await post(lenient, '/payments')).status).toBe(201);
    expect((await post(lenient, '/payments')).status).toBe(201);
    expect(lenient.runs).toBe(2);
  });

  it('answers 413 problem+json IDEMPOTENCY_BODY_TOO_LARGE to a body over maxBodyBytes, declared or not, and takes no key', async () => {
    const app = await start(kind, { maxBodyBytes: 1_000 });
    const big = JSON.stringify({ amount: 1999, note: 'x'.repeat(2_000) });
    const declared = await post(app, '/payments', { key: 'big', body: big });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toBe('application/problem+json');
    expect(declared.json).toMatchObject({ status: 413, code: 'IDEMPOTENCY_BODY_TOO_LARGE' });
    // Streamed without a Content-Length: measured once read.
    const bytes = new TextEncoder().encode(big);
    const streamed = await fetch(app.url + '/payments', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'big' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(bytes.subarray(0, 1_000));
          controller.enqueue(bytes.subarray(1_000));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { code: string }).code).toBe('IDEMPOTENCY_BODY_TOO_LARGE');
    expect(app.runs).toBe(0);
    // Nothing was stored or held under the key: a request within the limit runs.
    const small = await post(app, '/payments', { key: 'big' });
    expect(small.status).toBe(201);
    expect(app.runs).toBe(1);
    // A body within the limit, and requests without a key, are not affected.
    expect((await post(app, '/payments', { body: big })).status).toBe(201);
  });

  it('answers 503 IDEMPOTENCY_NOT_STORED instead of a response that could not be stored', async () => {
    const inner = new MemoryIdempotencyStore();
    // A store that takes keys but cannot store results (it went away after the acquire).
    const store: IdempotencyStore = {
      acquire: (...args) => inner.acquire(...args),
      complete: () => Promise.reject(new Error('store down')),
      renew: () => Promise.reject(new Error('store down')),
      release: (...args) => inner.release(...args),
    };
    const app = await start(kind, {}, new Idempotency({ store, lockTtl: 200, storeTimeout: 20 }));
    const reply = await post(app, '/payments', { key: 'k1' });
    expect(app.runs).toBe(1);
    // The handler's 201 was held (holdResponse) while the store was tried: it never goes out.
    expect(reply.status).toBe(503);
    expect(reply.json).toMatchObject({ code: 'IDEMPOTENCY_NOT_STORED' });
    expect(reply.headers.get('retry-after')).toBe('1');
    expect(reply.headers.get('location')).toBeNull();
  });

  it('with holdUntilStored off, sends the handler response at once, stored in the background', async () => {
    const app = await start(kind, {}, new Idempotency({ store: new MemoryIdempotencyStore(), holdUntilStored: false }));
    const first = await post(app, '/payments', { key: 'k1' });
    expect(first.status).toBe(201);
    await vi.waitFor(async () => expect((await post(app, '/payments', { key: 'k1' })).headers.get('idempotent-replayed')).toBe('true'));
    expect(app.runs).toBe(1);
  });

  it('lets other methods through untouched', async () => {
    const app = await start(kind, { required: true });
    const get = (): Promise<Response> => fetch(`${app.url}/payments`, { headers: { 'idempotency-key': 'k1' } });
    expect((await get()).status).toBe(200);
    expect((await get()).headers.get('idempotent-replayed')).toBeNull();
    expect(app.runs).toBe(2);
  });
});

describe('idempotencyMiddleware options', () => {
  it('stores 5xx too when storeServerErrors is set', async () => {
    const app = await start('node', { storeServerErrors: true });
    await post(app, '/fail', { key: 'k' });
    expect((await post(app, '/fail', { key: 'k' })).headers.get('idempotent-replayed')).toBe('true');
    expect(app.runs).toBe(1);
  });

  it('replays only the headers it is told to', async () => {
    const app = await start('express', { headers: ['x-request-id'] });
    await post(app, '/payments', { key: 'k' });
    const replay = await post(app, '/payments', { key: 'k' });
    expect(replay.headers.get('x-request-id')).toBe('req-1');
    expect(replay.headers.get('location')).toBeNull();
  });

  it('rejects a bad maxBodyBytes with INVALID_ARGUMENT naming it', () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    for (const bad of [-1, 1.5, '1mb']) {
      let err: unknown;
      try {
        idempotencyMiddleware(idem, { maxBodyBytes: bad as number });
      } catch (e) {
        err = e;
      }
      expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toContain('maxBodyBytes');
    }
  });

  it('honours maxKeyLength and methods', async () => {
    const app = await start('node', { maxKeyLength: 8, methods: ['put'] });
    const put = (key: string): Promise<Response> =>
      fetch(`${app.url}/payments`, { method: 'PUT', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body: '{}' });
    expect((await put('123456789')).status).toBe(400);
    expect((await put('12345678')).status).toBe(201);
    expect((await put('12345678')).headers.get('idempotent-replayed')).toBe('true');
    // POST is not in methods any more: not deduplicated.
    await post(app, '/payments', { key: 'k' });
    await post(app, '/payments', { key: 'k' });
    expect(app.runs).toBe(3);
  });

  it.each([
    ['methods', { methods: 'POST' }],
    ['methods', { methods: ['PO ST'] }],
    ['required', { required: 'yes' }],
    ['scope', { scope: 'tenant' }],
    ['headers', { headers: [''] }],
    ['maxKeyLength', { maxKeyLength: 0 }],
    ['storeServerErrors', { storeServerErrors: 1 }],
    ['wait', { wait: 'later' }],
  ])('rejects a bad %s with INVALID_ARGUMENT naming it', (name, options) => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    let err: unknown;
    try {
      idempotencyMiddleware(idem, options as never);
    } catch (e) {
      err = e;
    }
    expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    expect((err as Error).message).toContain(name);
  });
});

describe('idempotencyMiddleware under 200 concurrent duplicates', () => {
  let server: RedisServer;
  let cluster: RedisCluster;
  beforeAll(async () => {
    [server, cluster] = await Promise.all([startRedis(), startCluster()]);
  });
  afterAll(stopAllRedis);

  it.each([
    ['express', 'Redis'],
    ['node', 'a Cluster'],
    ['fastify', 'Redis'],
  ] as const)('on %s with %s: the handler runs once, every other caller gets the replay or 409, none a 500', async (kind, backend) => {
    const client = backend === 'Redis' ? server.client() : cluster.client();
    const app = await start(kind, {}, new Idempotency({ store: new RedisIdempotencyStore(client) }));
    const key = randomUUID();
    const replies = await Promise.all(Array.from({ length: 200 }, () => post(app, '/payments', { key, headers: { 'x-delay': '200' } })));
    expect(app.runs).toBe(1);
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    for (const r of replies.filter((x) => x.status === 201)) expect(r.json).toEqual({ id: 'pay_1', run: 1 });
    for (const r of replies.filter((x) => x.status === 409)) expect(r.json.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    const after = await post(app, '/payments', { key });
    expect(after.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('idempotencyMiddleware on node:http with the memory store: bodies and fingerprints', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; runs: () => number }> {
    let runs = 0;
    const mw = toNode(idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
    const server = createServer((req, res) =>
      mw(req, res, () => {
        runs++;
        handler(req, res);
      }),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, runs: () => runs };
  }
  const send = (url: string, key: string, body: string) =>
    fetch(url + '/p', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });

  it('replays a body that is not UTF-8 byte for byte', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x41]);
    const app = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bytes);
    });
    const first = Buffer.from(await (await send(app.url, 'bin', '{}')).arrayBuffer());
    const again = await send(app.url, 'bin', '{}');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Buffer.from(await again.arrayBuffer())).toEqual(bytes);
    expect(first).toEqual(bytes);
    expect(app.runs()).toBe(1);
  });

  it('replays a UTF-8 body written in several chunks, multi-byte characters included', async () => {
    const app = await serve((_req, res) => {
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.write('prix: 19,99 €, ');
      res.write(Buffer.from('naïve 日本 '));
      res.end('🎉');
    });
    const first = await (await send(app.url, 'utf8', '{}')).text();
    const again = await send(app.url, 'utf8', '{}');
    expect(await again.text()).toBe('prix: 19,99 €, naïve 日本 🎉');
    expect(first).toBe('prix: 19,99 €, naïve 日本 🎉');
    expect(again.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(app.runs()).toBe(1);
  });

  it('replays a body sent as one string in a non-UTF-8 encoding byte for byte', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=latin1' });
      res.end('café', 'latin1');
    });
    const first = Buffer.from(await (await send(app.url, 'latin1', '{}')).arrayBuffer());
    const again = await send(app.url, 'latin1', '{}');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(Buffer.from(await again.arrayBuffer())).toEqual(Buffer.from('café', 'latin1'));
    expect(first).toEqual(Buffer.from('café', 'latin1'));
    expect(app.runs()).toBe(1);
  });

  it('compares short JSON bodies canonically only when they differ: padding, key order, other values', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    // Whitespace pushes this one past the short-text bound, so it is fingerprinted canonically
    // (hashed); the compact retry is short and kept raw: the two forms must still meet.
    const padded = '{ "b" : 2 ,' + ' '.repeat(1100) + '"a": [1, {"y": 1, "x": 2}] }';
    expect((await send(app.url, 'mixed', padded)).status).toBe(201);
    const compact = await send(app.url, 'mixed', '{"a":[1,{"x":2,"y":1}],"b":2}');
    expect(compact.headers.get('idempotent-replayed')).toBe('true');
    expect((await send(app.url, 'mixed', '{"a":[1,{"x":2,"y":2}],"b":2}')).status).toBe(422);
    expect(app.runs()).toBe(1);
  });

  it('treats a body labelled JSON that is not JSON as bytes: the same bytes replay, others are 422', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    expect((await send(app.url, 'notjson', '{not json')).status).toBe(201);
    expect((await send(app.url, 'notjson', '{not json')).headers.get('idempotent-replayed')).toBe('true');
    expect((await send(app.url, 'notjson', '{not json!')).status).toBe(422);
    expect(app.runs()).toBe(1);
  });

  it('answers 409, not 422, to a reordered duplicate while the first request is in flight', async () => {
    let finish!: () => void;
    const app = await serve((_req, res) => {
      finish = () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      };
    });
    const first = send(app.url, 'inflight', '{"a":1,"b":2}');
    await until(() => app.runs() === 1);
    const duplicate = await send(app.url, 'inflight', '{"b":2,"a":1}');
    expect(duplicate.status).toBe(409);
    expect(((await duplicate.json()) as { code: string }).code).toBe('IDEMPOTENCY_IN_PROGRESS');
    finish();
    expect((await first).status).toBe(201);
  });

  it('fingerprints long bodies too: reordered keys replay, another value is 422', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    const note = 'x'.repeat(2000);
    expect((await send(app.url, 'long', JSON.stringify({ a: 1, note }))).status).toBe(201);
    const reordered = await send(app.url, 'long', JSON.stringify({ note, a: 1 }));
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect((await send(app.url, 'long', JSON.stringify({ a: 2, note }))).status).toBe(422);
    expect(app.runs()).toBe(1);
  });

  it('lets run() replay a key the middleware completed, and the middleware replay a key run() completed', async () => {
    const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
    const mw = toNode(idempotencyMiddleware(idempotency));
    const server = createServer((req, res) =>
      mw(req, res, () => {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end('{"id":1}');
      }),
    );
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await (await send(url, 'shared', '{}')).text();
    // The middleware's fingerprint, the same whatever the store: method, target, canonical JSON body, hashed.
    const fp = sha256('POST\n/p\nj{}');
    const stored = await idempotency.run('shared', () => 'not run', { fingerprint: fp });
    expect(stored).toMatchObject({ s: 201, b: Buffer.from('{"id":1}').toString('base64') });
  });
});
