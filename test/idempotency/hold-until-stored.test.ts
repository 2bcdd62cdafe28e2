/**
 * holdUntilStored through the HTTP middleware, on every adapter, against a real Redis paused
 * (SIGSTOP) while the handler runs, so that its record cannot be stored: the handler's 201 is
 * held, the client gets 503 IDEMPOTENCY_NOT_STORED instead, and once Redis is back and the
 * lease has lapsed, every retry gets one and the same successful answer.
 *
 * Which one is decided in Redis, fenced by the lease token: the stalled `complete` of the first
 * run is still on its connection and lands when Redis resumes, on a record whose lease has
 * lapsed, so it stores the first run's result and the retries replay it (the handler ran once).
 * Had a retry taken the key first, that `complete` would have been refused and the retry's run
 * would be the one answer. Either way no client sees two different successes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Idempotency, RedisIdempotencyStore, idempotencyMiddleware } from '../../src/idempotency/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { startPaymentApp, type Kind, type PaymentApp } from './payment-apps.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const LOCK_TTL_MS = 500;
/** How long the handler works after it counted its run: the window in which Redis is paused. */
const HANDLER_MS = 300;

let server: RedisServer;
let app: PaymentApp | undefined;
let unique = 0;

beforeAll(async () => {
  server = await startRedis();
}, 60_000);
afterEach(async () => {
  if (server.isPaused) server.resume();
  await app?.close();
  app = undefined;
});
afterAll(stopAllRedis);

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function post(url: string, key: string): Promise<Reply> {
  const res = await fetch(`${url}/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-delay': String(HANDLER_MS) },
    body: '{"amount":1999,"currency":"eur"}',
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Resolves once `app.runs` reached `runs`: the handler has started and is in its delay. */
async function handlerRunning(target: PaymentApp, runs: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (target.runs < runs) {
    if (Date.now() > deadline) throw new Error('the handler did not start');
    await sleep(2);
  }
}

describe.each(['node', 'express', 'fastify', 'koa', 'hono'] as const satisfies readonly Kind[])('holdUntilStored on %s', (kind) => {
  it('answers 503 IDEMPOTENCY_NOT_STORED, never the 201 it could not store, and every retry gets the one success', async () => {
    const client = server.client({ maxRetriesPerRequest: 1 });
    await client.ping();
    const prefix = `held${++unique}`;
    const idempotency = new Idempotency({ store: new RedisIdempotencyStore(client, { prefix }), lockTtl: LOCK_TTL_MS, storeTimeout: 100 });
    const errors: unknown[] = [];
    idempotency.on('error', (event) => errors.push(event));
    app = await startPaymentApp(kind, idempotencyMiddleware(idempotency));
    const key = `order-${kind}`;

    // The handler runs (the lease is taken), then Redis freezes before its result is stored.
    const first = post(app.url, key);
    await handlerRunning(app, 1);
    server.pause();
    let reply: Reply;
    try {
      reply = await first;
      // Past the lease, so that the commands stalled in Redis find it lapsed when they land.
      await sleep(LOCK_TTL_MS);
    } finally {
      server.resume();
    }
    expect(reply.status).toBe(503);
    expect(reply.body).toMatchObject({ code: 'IDEMPOTENCY_NOT_STORED' });
    expect(reply.headers.get('retry-after')).toBe('1');
    expect(reply.headers.get('location')).toBeNull();
    expect(reply.headers.get('set-cookie')).toBeNull();
    expect(errors.length).toBeGreaterThan(0);
    await client.ping(); // every command stalled on the connection has run

    // Every retry gets the one success: the first run's 201, stored by its stalled complete
    // when Redis resumed (not handed out before), replayed without running the handler again.
    const successes = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const retry = await post(app.url, key);
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      successes.add(JSON.stringify(retry.body));
    }
    expect([...successes]).toEqual([JSON.stringify({ id: 'pay_1', run: 1 })]);
    expect(app.runs).toBe(1);
  }, 20_000);
});
