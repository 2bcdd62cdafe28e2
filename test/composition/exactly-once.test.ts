/**
 * The composition suite: timeout, shed, idempotency and percentiles on one request, mounted as
 * the guides show, on every adapter, against a real Redis and real HTTP on loopback.
 *
 * A slow order (its handler runs past the timeout and completes anyway) is retried with the
 * same key while the handler runs, after the timeout answered, and after the handler settled:
 * the handler runs once, and every retry after it settled replays what it really did (its 201).
 * With Redis paused from before the first request until after the deadline, nothing runs and
 * the client gets a 503 within `storeTimeout`.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, it, vi } from 'vitest';
import { shed, timeout, type Middleware } from '../../src/http/index.js';
import { Idempotency, RedisIdempotencyStore, idempotencyMiddleware, type IdempotencyMiddlewareOptions } from '../../src/idempotency/index.js';
import { PercentileTracker, percentileMiddleware } from '../../src/percentiles/index.js';
import { TaskQueue } from '../../src/queue/index.js';
import { eventually, sleep } from '../support/async.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { KINDS, startOrderApp, type Kind, type OrderApp } from './order-apps.js';

/**
 * The slow handlers wait on a gate the test opens (past the timeout, when the test says), so that
 * the order of events does not hang on a loaded machine's timing. Only the 503 bound is timed:
 * the other tests give the store a bound it never reaches on a busy CI box.
 */
const TIMEOUT_MS = 600;
const HANDLER_MS = 500;
const STORE_TIMEOUT_MS = 150;
const RELAXED_STORE_TIMEOUT_MS = 2_000;

let server: RedisServer;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await stopAllRedis();
});

/** The test's own `onTestFinished` (tests of the first group run concurrently). */
type Finally = (fn: () => void | Promise<void>) => void;

interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  ms: number;
}

async function order(
  app: OrderApp,
  key: string,
  init: { delay?: number; gate?: string; fail?: boolean; amount?: number; signal?: AbortSignal } = {},
): Promise<Reply> {
  const started = performance.now();
  const res = await fetch(`${app.url}/orders`, {
    method: 'POST',
    signal: init.signal,
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer tenant-1',
      'idempotency-key': key,
      'x-delay': String(init.delay ?? 0),
      ...(init.gate !== undefined ? { 'x-gate': init.gate } : {}),
      ...(init.fail === true ? { 'x-fail': '1' } : {}),
    },
    body: JSON.stringify({ amount: init.amount ?? 1999 }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, json, ms: performance.now() - started };
}

/**
 * Retries while the key answers 409 (in progress) or the queue 503 (a slot is held until the
 * previous request's chain has stored its record, just after its answer), as a client honouring
 * Retry-After would.
 */
async function retryUntilDone(app: OrderApp, key: string): Promise<Reply> {
  for (;;) {
    const reply = await order(app, key);
    if (reply.status !== 409 && reply.json.code !== 'QUEUE_FULL') return reply;
    if (reply.headers.get('retry-after') === null) throw new Error(`a ${reply.status} without Retry-After`);
    await sleep(25);
  }
}

function idempotency(options: IdempotencyMiddlewareOptions = {}, store: { storeTimeout?: number } = {}): Middleware {
  const idem = new Idempotency({
    store: new RedisIdempotencyStore(redis, { prefix: `comp:${randomUUID()}:` }),
    lockTtl: '2s',
    storeTimeout: store.storeTimeout ?? RELAXED_STORE_TIMEOUT_MS,
  });
  return idempotencyMiddleware(idem, { required: true, scope: (exchange) => exchange.header('authorization'), ...options });
}

interface Stack {
  name: string;
  /** The global middlewares, outermost first. */
  global: () => Middleware[];
  timeout: boolean;
  tracker?: PercentileTracker;
}

function stacks(onFinished: Finally): Stack[] {
  const tracker = new PercentileTracker();
  onFinished(() => tracker.close());
  return [
    { name: 'timeout + idempotency', global: () => [timeout(TIMEOUT_MS)], timeout: true },
    { name: 'shed + idempotency', global: () => [shed(new TaskQueue({ concurrency: 2, maxSize: 0 }))], timeout: false },
    {
      name: 'timeout + shed + idempotency + percentiles',
      global: () => [percentileMiddleware(tracker), timeout(TIMEOUT_MS), shed(new TaskQueue({ concurrency: 2, maxSize: 0 }))],
      timeout: true,
      tracker,
    },
  ];
}

async function start(onFinished: Finally, kind: Kind, global: Middleware[], idem: Middleware = idempotency()): Promise<OrderApp> {
  const app = await startOrderApp(kind, global, idem);
  onFinished(() => app.close());
  return app;
}

const STACKS = ['timeout + idempotency', 'shed + idempotency', 'timeout + shed + idempotency + percentiles'];

// Each test has its own app and keys: these run side by side.
describe.concurrent.each(KINDS)('on %s', (kind) => {
  for (const [index, name] of STACKS.entries()) {
    it(`${name}: one execution; retries get 409 while the handler runs, then replay its real 201`, async ({ expect, onTestFinished }) => {
      const stack = stacks(onTestFinished)[index]!;
      const app = await start(onTestFinished, kind, stack.global());
      const key = randomUUID();
      const first = order(app, key, { gate: 'first' });
      await eventually(() => expect(app.executions).toBe(1));

      const during = await order(app, key);
      expect(during.status).toBe(409);
      expect(during.json.code).toBe('IDEMPOTENCY_IN_PROGRESS');

      if (stack.timeout) {
        const answered = await first;
        expect(answered.status).toBe(504);
        expect(answered.json.code).toBe('OPERATION_TIMEOUT');
        // The client has its 504 and the handler still runs: the key stays in progress.
        expect(app.settled).toBe(0);
        const afterTimeout = await order(app, key);
        expect(afterTimeout.status).toBe(409);
        app.open('first');
      } else {
        app.open('first');
        expect((await first).status).toBe(201);
      }

      await eventually(() => expect(app.settled).toBe(1));
      const replay = await retryUntilDone(app, key);
      expect(replay.status).toBe(201);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.json).toEqual({ id: 'order_1', amount: 1999 });
      expect(replay.headers.get('location')).toBe('/orders/order_1');
      const again = await retryUntilDone(app, key);
      expect(again.json).toEqual({ id: 'order_1', amount: 1999 });
      expect(app.executions).toBe(1);

      if (stack.tracker !== undefined) {
        const stats = Object.values(stack.tracker.summary());
        expect(stats.reduce((n, s) => n + s.timedOut, 0)).toBe(1);
        // The 504 is counted apart; the 409s and replays are the handler-side answers.
        expect(stats.reduce((n, s) => n + s.count, 0)).toBeGreaterThanOrEqual(3);
        expect(stats.reduce((n, s) => n + s.shed, 0)).toBe(0);
      }
    });
  }

  it('a duplicate that waits (wait) gets the real result of a handler the timeout answered for', async ({ expect, onTestFinished }) => {
    // The duplicate has a deadline of its own: sent once the first got its 504, it waits less
    // than that for the handler to finish.
    const app = await start(onTestFinished, kind, [timeout(TIMEOUT_MS)], idempotency({ wait: '2s' }));
    const key = randomUUID();
    const first = await order(app, key, { gate: 'first' });
    expect(first.status).toBe(504);
    expect(app.settled).toBe(0);
    const waiting = order(app, key);
    setTimeout(() => app.open('first'), 20);
    const replay = await waiting;
    expect(replay.status).toBe(201);
    expect(replay.json).toEqual({ id: 'order_1', amount: 1999 });
    expect(app.executions).toBe(1);
  });

  it('a client that leaves does not free its key: the retry replays what the handler went on to do', async ({ expect, onTestFinished }) => {
    const queue = new TaskQueue({ concurrency: 4, maxSize: 0 });
    const app = await start(onTestFinished, kind, [shed(queue)]);
    const key = randomUUID();
    const client = new AbortController();
    const first = order(app, key, { gate: 'first', signal: client.signal }).catch((err: unknown) => err);
    await eventually(() => expect(app.executions).toBe(1));
    client.abort();
    expect(await first).toBeInstanceOf(Error);
    expect((await order(app, key)).status).toBe(409);
    // The handler still runs and holds its slot in the queue.
    expect(queue.pending).toBe(1);
    app.open('first');
    await eventually(() => expect(app.settled).toBe(1));
    const replay = await retryUntilDone(app, key);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual({ id: 'order_1', amount: 1999 });
    await eventually(() => expect(queue.pending).toBe(0));
    expect(app.executions).toBe(1);
  });

  it('a request shed by the queue takes no key: its retry runs once', async ({ expect, onTestFinished }) => {
    const queue = new TaskQueue({ concurrency: 1, maxSize: 0 });
    const app = await start(onTestFinished, kind, [shed(queue)]);
    const busy = order(app, randomUUID(), { gate: 'busy' });
    await eventually(() => expect(app.executions).toBe(1));
    const key = randomUUID();
    const refused = await order(app, key);
    expect(refused.status).toBe(503);
    expect(refused.json.code).toBe('QUEUE_FULL');
    app.open('busy');
    expect((await busy).status).toBe(201);
    // The slot is held until the whole chain is done (the record stored), just after the 201.
    await eventually(() => expect(queue.pending).toBe(0));
    const retry = await order(app, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(app.executions).toBe(2);
  });
});

// These pause the shared Redis or watch console.error: one at a time, after the others.
describe.each(KINDS)('on %s, one at a time', (kind) => {
  afterEach(() => {
    server.resume();
    vi.restoreAllMocks();
  });

  for (const [index, name] of STACKS.entries()) {
    // Real time is the subject here (a bound on the answer): retried if a loaded machine stalls it.
    it(`${name}: Redis paused before the first request: 503 within storeTimeout, no execution`, { retry: 2 }, async ({ expect, onTestFinished }) => {
      const stack = stacks(onTestFinished)[index]!;
      const app = await start(onTestFinished, kind, stack.global(), idempotency({}, { storeTimeout: STORE_TIMEOUT_MS }));
      expect((await order(app, randomUUID())).status).toBe(201); // a first round trip, so the connection is up
      expect(app.executions).toBe(1);
      server.pause();
      const key = randomUUID();
      const reply = await order(app, key, { delay: HANDLER_MS });
      expect(reply.status).toBe(503);
      expect(reply.json.code).toBe('SERVICE_UNAVAILABLE');
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(reply.ms).toBeLessThan(STORE_TIMEOUT_MS + 50);
      await sleep(TIMEOUT_MS + 50); // past the deadline
      server.resume();
      await sleep(100); // the stalled acquire lands in Redis now
      expect(app.executions).toBe(1);
    });
  }

  it('an acquire that lands after the deadline starts no handler, gives the key back and stores nothing', async ({ expect, onTestFinished }) => {
    // A store slower than the request's deadline: the timeout answers first, then Redis comes back.
    const idem = idempotency({}, { storeTimeout: RELAXED_STORE_TIMEOUT_MS });
    const app = await start(onTestFinished, kind, [timeout(TIMEOUT_MS)], idem);
    expect((await order(app, randomUUID())).status).toBe(201);
    const key = randomUUID();
    server.pause();
    const answered = await order(app, key);
    expect(answered.status).toBe(504);
    server.resume(); // the stalled acquire takes the key now, long after the answer
    await sleep(100);
    expect(app.executions).toBe(1);
    const retry = await retryUntilDone(app, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(app.executions).toBe(2);
  });

  it('a handler that fails after the timeout answered frees its key: the retry runs again, once', async ({ expect, onTestFinished }) => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const app = await start(onTestFinished, kind, [timeout(TIMEOUT_MS)]);
    const key = randomUUID();
    const first = await order(app, key, { gate: 'first', fail: true });
    expect(first.status).toBe(504);
    app.open('first');
    await eventually(() => expect(app.settled).toBe(1));
    const retry = await retryUntilDone(app, key);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(retry.json).toEqual({ id: 'order_2', amount: 1999 });
    expect((await order(app, key)).json).toEqual({ id: 'order_2', amount: 1999 });
    expect(app.executions).toBe(2);
    // A plain node:http handler that rejects is reported (toNode answered it with a 500).
    if (kind === 'node') expect(errors).toHaveBeenCalledWith('headroom: the request handler failed', expect.any(Error));
  });
});
