import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker, isHeadroomError } from '../../src/resilience/index.js';
import { eventually } from '../support/async.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import type { ShareCommand, ShareReport } from './share-worker.mjs';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await stopAllRedis();
});

const failing = (): Promise<never> => Promise.reject(new Error('down'));

/** One worker process and what it has reported so far. */
interface Worker {
  child: ChildProcess;
  reports: ShareReport[];
  exited: Promise<number | null>;
}

function startWorker(channel: string): Worker {
  const file = fileURLToPath(new URL('./share-worker.mts', import.meta.url));
  const child = fork(file, [String(server.port), channel], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: ShareReport[] = [];
  child.on('message', (report: ShareReport) => reports.push(report));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, reports, exited };
}

const send = (worker: Worker, command: ShareCommand): void => {
  worker.child.send(command);
};

describe('CircuitBreaker share (one Redis)', () => {
  it('opens the others within 100 ms when one opens, across three processes; with Redis down each works alone', async () => {
    const workers = [0, 1, 2].map(() => startWorker('test:breakers'));
    try {
      await eventually(() => {
        for (const w of workers) {
          const error = w.reports.find((r) => r.type === 'error');
          if (error !== undefined) throw new Error(`worker failed: ${JSON.stringify(error)}`);
          expect(w.reports.some((r) => r.type === 'ready')).toBe(true);
        }
      }, 15_000);

      const [a, b, c] = workers as [Worker, Worker, Worker];
      send(a, { type: 'trip' });
      const opened = (w: Worker) => w.reports.find((r): r is Extract<ShareReport, { type: 'open' }> => r.type === 'open');
      await eventually(() => {
        for (const w of workers) expect(opened(w)).toBeDefined();
      });
      const first = opened(a)!;
      expect(first.remote).toBe(false);
      console.log(`shared breaker: the others opened ${[b, c].map((w) => opened(w)!.at - first.at).join(' and ')} ms after the first`);
      for (const other of [b, c]) {
        const seen = opened(other)!;
        expect(seen.remote).toBe(true);
        expect(seen.at - first.at).toBeLessThan(100);
      }

      // Redis goes away: every instance keeps deciding on its own.
      await server.kill();
      for (const w of workers) send(w, { type: 'alone' });
      await eventually(() => {
        for (const w of workers) expect(w.reports.some((r) => r.type === 'alone' || r.type === 'error')).toBe(true);
      }, 10_000);
      for (const w of workers) {
        const report = w.reports.find((r) => r.type === 'alone' || r.type === 'error');
        expect(report).toEqual({
          type: 'alone',
          steps: ['ok:fine', 'err:payments down', 'err:payments down', 'err:payments down', 'open', 'err:CIRCUIT_OPEN', 'ok:probe', 'closed'],
        });
      }
    } finally {
      for (const w of workers) if (w.child.connected) send(w, { type: 'exit' });
      // Each exits on its own once its breaker and client are closed, Redis or not.
      const codes = await Promise.all(workers.map((w) => w.exited));
      expect(codes).toEqual([0, 0, 0]);
      await server.start();
    }
  }, 30_000);
});

describe('CircuitBreaker share (in one process)', () => {
  let clients: Redis[] = [];
  afterAll(() => {
    for (const client of clients) client.disconnect();
    clients = [];
  });
  const client = (): Redis => {
    const c = server.client();
    clients.push(c);
    return c;
  };

  async function connected(...breakers: CircuitBreaker[]): Promise<void> {
    await eventually(() => {
      for (const b of breakers) expect(b.stats().shared).toMatchObject({ connected: true });
    });
  }

  it('tells only breakers of the same name, and one subscription serves every breaker of a client and channel', async () => {
    const redisA = client();
    const redisB = client();
    const channel = 'test:one-process';
    const a1 = new CircuitBreaker({ name: 'users', trip: { consecutive: 1 }, share: { redis: redisA, channel } });
    const a2 = new CircuitBreaker({ name: 'orders', trip: { consecutive: 1 }, share: { redis: redisA, channel } });
    const b1 = new CircuitBreaker({ name: 'users', trip: { consecutive: 1 }, share: { redis: redisB, channel } });
    const b2 = new CircuitBreaker({ name: 'orders', trip: { consecutive: 1 }, share: { redis: redisB, channel } });
    try {
      await connected(a1, a2, b1, b2);
      const subscribers = (await redisA.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
      expect(subscribers[1]).toBe(2); // one per client, not one per breaker
      await a1.execute(failing).catch(() => undefined);
      await eventually(() => expect(b1.state).toBe('open'));
      expect(a2.state).toBe('closed');
      expect(b2.state).toBe('closed');
      await expect(b1.execute(() => 'x')).rejects.toSatisfy((e: unknown) => isHeadroomError(e, 'CIRCUIT_OPEN'));
    } finally {
      await Promise.all([a1, a2, b1, b2].map((b) => b.close()));
    }
    expect(((await redisA.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]).toBe(0);
  });

  it("moves an open breaker to half-open when another instance's trials passed", async () => {
    const channel = 'test:close';
    const clock = { t: 0, now: () => clock.t };
    const a = new CircuitBreaker({ name: 'search', trip: { consecutive: 1 }, cooldown: '1m', share: { redis: client(), channel }, clock });
    const b = new CircuitBreaker({ name: 'search', trip: { consecutive: 1 }, cooldown: '1m', share: { redis: client(), channel } });
    try {
      await connected(a, b);
      await a.execute(failing).catch(() => undefined);
      await eventually(() => expect(b.state).toBe('open'));
      clock.t += 60_000;
      await a.execute(() => 'probe passed');
      expect(a.state).toBe('closed');
      await eventually(() => expect(b.state).toBe('half-open'));
      await b.execute(() => 'b probes');
      expect(b.state).toBe('closed');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('ignores messages older than its cooldown, and malformed ones', async () => {
    const channel = 'test:stale';
    const publisher = client();
    const breaker = new CircuitBreaker({ name: 'mail', cooldown: '2s', share: { redis: client(), channel } });
    try {
      await connected(breaker);
      const message = (fields: object): string => JSON.stringify({ v: 1, n: 'mail', e: 'open', i: 'someone-else', t: Date.now(), ...fields });
      await publisher.publish(channel, message({ t: Date.now() - 5_000 }));
      await publisher.publish(channel, 'not json');
      await publisher.publish(channel, message({ v: 2 }));
      await publisher.publish(channel, message({ e: 'explode' }));
      await publisher.publish(channel, message({ n: 'other' }));
      // A fresh one, last: once it has arrived, the earlier ones have been handled too.
      await publisher.publish(channel, message({}));
      await eventually(() => expect(breaker.state).toBe('open'));
      expect(breaker.stats().opened).toBe(1);
    } finally {
      await breaker.close();
    }
  });
});
