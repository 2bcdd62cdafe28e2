import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Idempotency, MemoryIdempotencyStore, idempotencyMiddleware } from '../../src/idempotency/index.js';
import { CircuitBreaker, RetryPolicy, TimeoutPolicy, pipeline, retryingFetch } from '../../src/resilience/index.js';
import { startPaymentApp, type Kind } from '../idempotency/payment-apps.js';

/** What the scripted server does with one request. */
type Action = { status: number; headers?: Record<string, string>; body?: string } | 'hang-up';

/** A loopback server answering each request with the next scripted action (the last one repeats). */
async function scriptedServer() {
  const seen: Array<{ method: string; headers: IncomingMessage['headers']; body: string }> = [];
  let script: Action[] = [{ status: 200 }];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      const action = (seen.length <= script.length ? script[seen.length - 1] : script[script.length - 1]) as Action;
      if (action === 'hang-up') {
        req.socket.destroy();
        return;
      }
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers });
      res.end(action.body ?? JSON.stringify({ n: seen.length }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    play(actions: Action[]): void {
      script = actions;
      seen.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let scripted: Awaited<ReturnType<typeof scriptedServer>>;
beforeAll(async () => {
  scripted = await scriptedServer();
});
afterAll(async () => {
  await scripted.close();
});

const quick = () => new RetryPolicy({ maxAttempts: 3, backoff: { initial: 1, max: 5 } });

describe('retryingFetch', () => {
  it('retries 503s and returns the first good response', async () => {
    scripted.play([{ status: 503 }, { status: 503 }, { status: 200, body: '"third"' }]);
    const res = await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/thing`);
    expect(res.status).toBe(200);
    expect(await res.json()).toBe('third');
    expect(scripted.seen).toHaveLength(3);
  });

  it('returns the last answer, as fetch would, when the policy gives up on it', async () => {
    scripted.play([{ status: 429, headers: { 'retry-after': '0' } }]);
    const res = await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/limited`);
    expect(res.status).toBe(429);
    expect(scripted.seen).toHaveLength(3);
  });

  it('does not retry a 4xx other than 429', async () => {
    scripted.play([{ status: 404 }]);
    const res = await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/missing`);
    expect(res.status).toBe(404);
    expect(scripted.seen).toHaveLength(1);
  });

  it('gives a POST one Idempotency-Key that every attempt reuses, and sends the body each time', async () => {
    scripted.play([{ status: 503 }, 'hang-up', { status: 201 }]);
    const res = await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'a' }),
    });
    expect(res.status).toBe(201);
    const keys = scripted.seen.map((s) => s.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(scripted.seen.map((s) => s.body)).toEqual(Array(3).fill('{"sku":"a"}'));
  });

  it("keeps the caller's own key, adds none to a GET, and uses the key function and header given", async () => {
    scripted.play([{ status: 503 }, { status: 200 }]);
    await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/p`, { method: 'POST', headers: { 'Idempotency-Key': 'mine' }, body: 'x' });
    expect(scripted.seen.map((s) => s.headers['idempotency-key'])).toEqual(['mine', 'mine']);

    scripted.play([{ status: 200 }]);
    await retryingFetch(fetch)(`${scripted.url}/g`);
    expect(scripted.seen[0]?.headers['idempotency-key']).toBeUndefined();

    scripted.play([{ status: 200 }]);
    await retryingFetch(fetch, { idempotencyKey: () => 'k-1', header: 'X-Request-Key' })(`${scripted.url}/p`, { method: 'PATCH', body: 'y' });
    expect(scripted.seen[0]?.headers['x-request-key']).toBe('k-1');
  });

  it('sends a POST without a key once when keys are turned off', async () => {
    scripted.play([{ status: 503 }]);
    const res = await retryingFetch(fetch, { policy: quick(), idempotencyKey: false })(`${scripted.url}/p`, { method: 'POST', body: 'x' });
    expect(res.status).toBe(503);
    expect(scripted.seen).toHaveLength(1);
  });

  it('sends a streamed body once (it cannot be read twice)', async () => {
    scripted.play([{ status: 503 }]);
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const res = await retryingFetch(fetch, { policy: quick() })(`${scripted.url}/p`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(503);
    expect(scripted.seen.map((s) => s.body)).toEqual(['streamed']);
  });

  it('retries a Request object with a body, cloning it for each attempt', async () => {
    scripted.play([{ status: 502 }, { status: 200 }]);
    const request = new Request(`${scripted.url}/r`, { method: 'POST', body: 'from a Request' });
    const res = await retryingFetch(fetch, { policy: quick() })(request);
    expect(res.status).toBe(200);
    expect(scripted.seen.map((s) => s.body)).toEqual(['from a Request', 'from a Request']);
    expect(scripted.seen[0]?.headers['idempotency-key']).toBe(scripted.seen[1]?.headers['idempotency-key']);
  });

  it('rejects with the network error once the attempts are spent', async () => {
    scripted.play(['hang-up']);
    await expect(retryingFetch(fetch, { policy: quick() })(`${scripted.url}/down`)).rejects.toThrow(TypeError);
    expect(scripted.seen).toHaveLength(3);
  });

  it('follows init.signal: an abort rejects at once and stops the attempt', async () => {
    scripted.play([{ status: 503 }]);
    const controller = new AbortController();
    const pending = retryingFetch(fetch, { policy: new RetryPolicy({ backoff: { initial: '1m', jitter: 'none' } }) })(`${scripted.url}/slow`, {
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort(new Error('user navigated away'));
    await expect(pending).rejects.toThrow('user navigated away');
    expect(scripted.seen).toHaveLength(1);
  });
});

describe('retryingFetch against the idempotency middleware', () => {
  const kinds: Kind[] = ['node', 'express', 'fastify', 'koa', 'hono'];
  // A client that disconnects mid-request leaves the key in progress until the handler settled
  // (next({ untilHandlerSettles }) in the idempotency middleware), on every adapter.
  for (const kind of kinds) {
    it(`${kind}: a POST whose first answer is lost runs once; the retry gets the first result`, async () => {
      const app = await startPaymentApp(kind, idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() }), { wait: '2s' }));
      try {
        const breaker = new CircuitBreaker({ name: `payments-${kind}` });
        // Each attempt may take 400 ms; the first takes 600 ms on the server, so its answer is
        // lost (the client gave up) while the server finishes it. The retry, same key, waits for
        // that result (about 200 ms) and replays it.
        const payFetch = retryingFetch(fetch, { policy: pipeline(new RetryPolicy({ backoff: { initial: 1 } }), breaker, new TimeoutPolicy(400)) });
        const res = await payFetch(`${app.url}/payments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-delay': '600' },
          body: JSON.stringify({ amount: 1200 }),
        });
        expect(app.runs).toBe(1);
        expect(res.status).toBe(201);
        expect(await res.json()).toEqual({ id: 'pay_1', run: 1 });
        expect(res.headers.get('idempotent-replayed')).toBe('true');
        expect(breaker.stats()).toMatchObject({ failures: 1, successes: 1 });
      } finally {
        await app.close();
      }
    });
  }

  it("retries the middleware's 409 IDEMPOTENCY_IN_PROGRESS after its Retry-After, then replays", async () => {
    // Koa: see the known bug above for the node:http-based adapters.
    const app = await startPaymentApp('koa', idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
    try {
      const retry = new RetryPolicy({ maxAttempts: 4, backoff: { initial: 1 } });
      const waits: number[] = [];
      retry.on('retry', ({ delayMs }) => waits.push(delayMs));
      // The first attempt gives up after 250 ms of the handler's 500; the second meets it in flight.
      const res = await retryingFetch(fetch, { policy: pipeline(retry, new TimeoutPolicy(250)) })(`${app.url}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-delay': '500' },
        body: '{"amount":5}',
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('idempotent-replayed')).toBe('true');
      expect(app.runs).toBe(1);
      // Timed out, then 409 with Retry-After: 1, honoured.
      expect(waits.length).toBe(2);
      expect(waits[1]).toBeGreaterThanOrEqual(1_000);
    } finally {
      await app.close();
    }
  });
});
