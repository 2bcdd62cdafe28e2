import { describe, expect, it, vi } from 'vitest';
import {
  HeadroomError,
  Idempotency,
  IdempotencyInProgressError,
  IdempotencyKeyReusedError,
  IdempotencyLeaseLostError,
  IdempotencyNotStoredError,
  MemoryIdempotencyStore,
  fingerprint,
  isHeadroomError,
  type IdempotencyStore,
} from '../../src/idempotency/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A memory store whose calls are counted and whose methods can be made to fail. */
class SpyStore implements IdempotencyStore {
  readonly inner = new MemoryIdempotencyStore();
  calls = { acquire: 0, complete: 0, renew: 0, release: 0 };
  fail: Partial<Record<keyof SpyStore['calls'], boolean>> = {};
  renewAnswer: boolean | undefined;
  /** The next this many `complete` calls fail. */
  completeFailures = 0;
  /** The next `complete` lands in the store, but its answer never comes back. */
  loseCompleteAnswer = false;

  async acquire(...args: Parameters<IdempotencyStore['acquire']>) {
    this.calls.acquire++;
    if (this.fail.acquire === true) throw new Error('store down');
    return this.inner.acquire(...args);
  }
  async complete(...args: Parameters<IdempotencyStore['complete']>) {
    this.calls.complete++;
    if (this.fail.complete === true) throw new Error('store down');
    if (this.completeFailures > 0) {
      this.completeFailures--;
      throw new Error('MOVED 1234 127.0.0.1:1');
    }
    if (this.loseCompleteAnswer) {
      this.loseCompleteAnswer = false;
      await this.inner.complete(...args);
      return new Promise<boolean>(() => {});
    }
    return this.inner.complete(...args);
  }
  async renew(...args: Parameters<IdempotencyStore['renew']>) {
    this.calls.renew++;
    if (this.fail.renew === true) throw new Error('store down');
    if (this.renewAnswer !== undefined) return this.renewAnswer;
    return this.inner.renew(...args);
  }
  async release(...args: Parameters<IdempotencyStore['release']>) {
    this.calls.release++;
    if (this.fail.release === true) throw new Error('store down');
    return this.inner.release(...args);
  }
}

describe('Idempotency.run', () => {
  it('runs the operation once and answers a completed duplicate with the stored result', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    let runs = 0;
    const op = async (): Promise<{ id: number; at: string }> => ({ id: ++runs, at: 'first' });
    expect(await idem.run('k1', op)).toEqual({ id: 1, at: 'first' });
    expect(await idem.run('k1', op)).toEqual({ id: 1, at: 'first' });
    expect(runs).toBe(1);
  });

  it('replays an undefined result as undefined', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    let runs = 0;
    expect(await idem.run('k', () => void runs++)).toBeUndefined();
    expect(await idem.run('k', () => void runs++)).toBeUndefined();
    expect(runs).toBe(1);
  });

  it('rejects a duplicate in flight with IDEMPOTENCY_IN_PROGRESS, status 409 and a retryAfterMs', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    const gate = deferred();
    const first = idem.run('k', async () => {
      await gate.promise;
      return 'done';
    });
    await sleep(5);
    const err = await caught(idem.run('k', async () => 'second'));
    expect(err).toBeInstanceOf(IdempotencyInProgressError);
    expect(err).toMatchObject({ code: 'IDEMPOTENCY_IN_PROGRESS', status: 409 });
    expect((err as HeadroomError).retryAfterMs).toBeGreaterThan(0);
    expect((err as HeadroomError).retryAfterMs).toBeLessThanOrEqual(1000);
    gate.resolve();
    expect(await first).toBe('done');
  });

  it('waits for the first result when wait is given', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    let runs = 0;
    const first = idem.run('k', async () => {
      runs++;
      await sleep(150);
      return 'first';
    });
    await sleep(5);
    expect(await idem.run('k', async () => `dup${++runs}`, { wait: '5s' })).toBe('first');
    expect(await first).toBe('first');
    expect(runs).toBe(1);
  });

  it('rejects with IDEMPOTENCY_IN_PROGRESS once wait runs out', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    const gate = deferred();
    const first = idem.run('k', () => gate.promise);
    await sleep(5);
    const started = Date.now();
    const err = await caught(idem.run('k', async () => 'dup', { wait: 120 }));
    expect(isHeadroomError(err, 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    gate.resolve();
    await first;
  });

  it('runs the operation itself when the first call failed while it waited', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    const first = idem.run('k', async () => {
      await sleep(60);
      throw new Error('boom');
    });
    await sleep(5);
    const second = idem.run('k', async () => 'second ran', { wait: '5s' });
    await expect(first).rejects.toThrow('boom');
    expect(await second).toBe('second ran');
  });

  it('rejects a duplicate with another fingerprint with IDEMPOTENCY_KEY_REUSED (422), done or in flight', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    const gate = deferred();
    const first = idem.run('k', () => gate.promise.then(() => 'a'), { fingerprint: fingerprint({ amount: 10 }) });
    await sleep(5);
    const inFlight = await caught(idem.run('k', async () => 'b', { fingerprint: fingerprint({ amount: 99 }) }));
    expect(inFlight).toBeInstanceOf(IdempotencyKeyReusedError);
    expect(inFlight).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 });
    gate.resolve();
    await first;
    const done = await caught(idem.run('k', async () => 'b', { fingerprint: fingerprint({ amount: 99 }) }));
    expect(isHeadroomError(done, 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
    // Same payload, keys in another order: same fingerprint, a replay.
    expect(await idem.run('k', async () => 'c', { fingerprint: fingerprint({ amount: 10 }) })).toBe('a');
    // No fingerprint counts as '' and so differs from a given one.
    expect(isHeadroomError(await caught(idem.run('k', async () => 'd')), 'IDEMPOTENCY_KEY_REUSED')).toBe(true);
  });

  it('releases the key when the operation throws, so that a retry runs it again', async () => {
    const store = new SpyStore();
    const idem = new Idempotency({ store });
    await expect(idem.run('k', async () => Promise.reject(new Error('card network down')))).rejects.toThrow('card network down');
    expect(store.calls.release).toBe(1);
    expect(await idem.run('k', async () => 'retried')).toBe('retried');
  });

  it('stores the errors storeErrors picks and replays them with their code and status', async () => {
    class DeclinedError extends Error {
      readonly code = 'card_declined';
      readonly status = 402;
    }
    const idem = new Idempotency({ store: new MemoryIdempotencyStore(), storeErrors: (err) => err instanceof DeclinedError });
    let runs = 0;
    const op = async (): Promise<string> => {
      runs++;
      throw new DeclinedError('declined');
    };
    await expect(idem.run('k', op)).rejects.toBeInstanceOf(DeclinedError);
    const replayed = await caught(idem.run('k', op));
    expect(replayed).toBeInstanceOf(Error);
    expect(replayed).toMatchObject({ name: 'Error', message: 'declined', code: 'card_declined', status: 402 });
    expect(runs).toBe(1);
    // A transient error is not stored.
    await expect(idem.run('k2', async () => Promise.reject(new Error('timeout')))).rejects.toThrow('timeout');
    expect(await idem.run('k2', async () => 'ok')).toBe('ok');
  });

  it('replays a stored HeadroomError as a HeadroomError', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore(), storeErrors: () => true });
    const op = async (): Promise<never> => {
      throw new HeadroomError('QUEUE_FULL', 'full', { status: 503, retryAfterMs: 250 });
    };
    await expect(idem.run('k', op)).rejects.toThrow('full');
    const replayed = await caught(idem.run('k', op));
    expect(replayed).toBeInstanceOf(HeadroomError);
    expect(replayed).toMatchObject({ code: 'QUEUE_FULL', status: 503, retryAfterMs: 250 });
  });

  it('runs the same key twice in two scopes, and neither scope reads the other result', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    expect(await idem.run('order-1', async () => 'tenant A secret', { scope: 'tenant-a' })).toBe('tenant A secret');
    expect(await idem.run('order-1', async () => 'tenant B secret', { scope: 'tenant-b' })).toBe('tenant B secret');
    expect(await idem.run('order-1', async () => 'x', { scope: 'tenant-a' })).toBe('tenant A secret');
    expect(await idem.run('order-1', async () => 'x', { scope: 'tenant-b' })).toBe('tenant B secret');
    expect(await idem.run('order-1', async () => 'unscoped')).toBe('unscoped');
  });

  it('keeps scope and key apart when their concatenations would collide', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    expect(await idem.run('c', async () => 'scope a:b', { scope: 'a:b' })).toBe('scope a:b');
    expect(await idem.run('b:c', async () => 'scope a', { scope: 'a' })).toBe('scope a');
    expect(await idem.run('a:b:c', async () => 'no scope')).toBe('no scope');
    expect(await idem.run('1:a:b:c', async () => 'no scope 2')).toBe('no scope 2');
    expect(await idem.run('a:b:c', async () => 'empty scope', { scope: '' })).toBe('empty scope');
  });

  it('runs again once the result ttl has passed', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore(), ttl: 80 });
    let runs = 0;
    await idem.run('k', async () => ++runs);
    expect(await idem.run('k', async () => ++runs)).toBe(1);
    await sleep(150);
    expect(await idem.run('k', async () => ++runs)).toBe(2);
  });

  it('renews the lease of a long operation, so duplicates keep getting 409 past lockTtl', async () => {
    const store = new SpyStore();
    const idem = new Idempotency({ store, lockTtl: 200 });
    let runs = 0;
    const first = idem.run('k', async () => {
      runs++;
      await sleep(750);
      return 'long';
    });
    for (let i = 0; i < 7; i++) {
      await sleep(90);
      expect(isHeadroomError(await caught(idem.run('k', async () => ++runs)), 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    }
    expect(await first).toBe('long');
    expect(runs).toBe(1);
    expect(store.calls.renew).toBeGreaterThanOrEqual(3);
    expect(idem.running).toBe(0);
  });

  it('does not renew a short operation', async () => {
    const store = new SpyStore();
    const idem = new Idempotency({ store, lockTtl: '30s' });
    await Promise.all(Array.from({ length: 50 }, (_, i) => idem.run(`k${i}`, async () => i)));
    expect(store.calls.renew).toBe(0);
    expect(store.calls.acquire).toBe(50);
    expect(store.calls.complete).toBe(50);
  });

  it('lets another caller take the key of a crashed holder once its lease lapses', async () => {
    const store = new MemoryIdempotencyStore();
    const idem = new Idempotency({ store, lockTtl: 100 });
    // A holder that acquired and died: nobody renews or releases.
    const { status } = await store.acquire(':k', 'dead-process', '', 100);
    expect(status).toBe('acquired');
    expect(isHeadroomError(await caught(idem.run('k', async () => 'retry')), 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    await sleep(150);
    expect(await idem.run('k', async () => 'retry')).toBe('retry');
    expect(await idem.run('k', async () => 'again')).toBe('retry');
  });

  it('aborts the operation signal with IDEMPOTENCY_LEASE_LOST and emits lease-lost when a renewal finds another holder', async () => {
    const store = new SpyStore();
    store.renewAnswer = false;
    const idem = new Idempotency({ store, lockTtl: 60 });
    const lost: unknown[] = [];
    const off = idem.on('lease-lost', (e) => lost.push(e));
    const reason = await idem.run(
      'k',
      ({ signal }) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => resolve(signal.reason), { once: true });
        }),
      { scope: 's' },
    );
    off();
    expect(reason).toBeInstanceOf(IdempotencyLeaseLostError);
    expect(reason).toMatchObject({ code: 'IDEMPOTENCY_LEASE_LOST' });
    expect(lost[0]).toEqual({ key: 'k', scope: 's' });
  });

  it('reports failed renewals as error events and gives the lease up once lockTtl has passed without one', async () => {
    const store = new SpyStore();
    store.fail.renew = true;
    const idem = new Idempotency({ store, lockTtl: 60 });
    const phases: string[] = [];
    idem.on('error', (e) => phases.push(e.phase));
    const reason = await idem.run(
      'k',
      ({ signal }) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true })),
    );
    expect(isHeadroomError(reason, 'IDEMPOTENCY_LEASE_LOST')).toBe(true);
    expect(phases).toContain('renew');
    expect(idem.running).toBe(0);
  });

  it('rejects with SERVICE_UNAVAILABLE (503) and does not run when the store cannot be reached', async () => {
    const store = new SpyStore();
    store.fail.acquire = true;
    const idem = new Idempotency({ store });
    let runs = 0;
    const err = await caught(idem.run('k', async () => ++runs));
    expect(err).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect((err as Error).cause).toBeInstanceOf(Error);
    expect(runs).toBe(0);
  });

  it('tries a failed complete again and answers once the result is stored: one execution per key', async () => {
    const store = new SpyStore();
    store.completeFailures = 2;
    const idem = new Idempotency({ store });
    const errors: Array<{ phase: string }> = [];
    idem.on('error', (e) => errors.push(e));
    let runs = 0;
    expect(await idem.run('k', async () => `order #${++runs}`)).toBe('order #1');
    expect(errors.map((e) => e.phase)).toEqual(['complete', 'complete']);
    expect(store.calls.complete).toBe(3);
    // A client's retry replays; it does not run the operation a second time.
    expect(await idem.run('k', async () => `order #${++runs}`)).toBe('order #1');
    expect(runs).toBe(1);
    expect(idem.stats()).toMatchObject({ executions: 1, replays: 1, completionRetries: 2, notStored: 0 });
  });

  it('takes a retried complete whose first try landed unanswered as stored (same token)', async () => {
    const store = new SpyStore();
    store.loseCompleteAnswer = true;
    const idem = new Idempotency({ store, storeTimeout: 30 });
    let runs = 0;
    expect(await idem.run('k', async () => `order #${++runs}`)).toBe('order #1');
    expect(store.calls.complete).toBe(2);
    expect(await idem.run('k', async () => `order #${++runs}`)).toBe('order #1');
    expect(runs).toBe(1);
  });

  it('keeps renewing the lease while the complete is retried, so duplicates get 409 and never run', async () => {
    const store = new SpyStore();
    store.fail.complete = true;
    // lockTtl well above a loaded machine's timer delays, so that only missing renewals could lose it.
    const idem = new Idempotency({ store, lockTtl: 600, storeTimeout: 20 });
    let runs = 0;
    const first = idem.run('k', async () => `order #${++runs}`);
    // Well past lockTtl: without renewals during the retries the lease would have lapsed.
    for (let i = 0; i < 10; i++) {
      await sleep(100);
      await expect(idem.run('k', async () => `order #${++runs}`)).rejects.toBeInstanceOf(IdempotencyInProgressError);
    }
    expect(store.calls.renew).toBeGreaterThan(0);
    store.fail.complete = false;
    expect(await first).toBe('order #1');
    expect(await idem.run('k', async () => `order #${++runs}`)).toBe('order #1');
    expect(runs).toBe(1);
  });

  it('rejects IDEMPOTENCY_NOT_STORED (503) when the result cannot be stored before the lease would lapse', async () => {
    const store = new SpyStore();
    store.fail.complete = true;
    store.fail.renew = true; // the store is out of reach: nothing extends the lease
    const idem = new Idempotency({ store, lockTtl: 300, storeTimeout: 20 });
    const phases: string[] = [];
    idem.on('error', (e) => phases.push(e.phase));
    const started = Date.now();
    const err = await caught(idem.run('k', async () => 'charged'));
    expect(err).toBeInstanceOf(IdempotencyNotStoredError);
    expect(err).toMatchObject({ code: 'IDEMPOTENCY_NOT_STORED', status: 503, retryAfterMs: 1000, key: 'k' });
    // Given up when the lease would lapse (300 ms after it was taken), not held for ever; the
    // bound leaves room for a loaded machine's late timers.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(phases.filter((p) => p === 'complete').length).toBeGreaterThanOrEqual(2);
    expect(idem.stats()).toMatchObject({ notStored: 1, running: 0 });
    expect(idem.stats().completionRetries).toBeGreaterThanOrEqual(1);
  });

  it('answers with the result at once and stores it in the background with holdUntilStored: false', async () => {
    const store = new SpyStore();
    store.completeFailures = 1;
    const idem = new Idempotency({ store, holdUntilStored: false });
    const errors: Array<{ phase: string }> = [];
    idem.on('error', (e) => errors.push(e));
    expect(await idem.run('k', async () => 'charged')).toBe('charged');
    expect(store.calls.complete).toBe(1); // the retry comes later, after its backoff
    await vi.waitFor(() => expect(idem.stats().running).toBe(0));
    expect(errors).toMatchObject([{ phase: 'complete', key: 'k' }]);
    expect(await idem.run('k', async () => 'again')).toBe('charged');
  });

  it('rejects with the operation error even when releasing the key fails', async () => {
    const store = new SpyStore();
    store.fail.release = true;
    const idem = new Idempotency({ store });
    const errors: Array<{ phase: string }> = [];
    idem.on('error', (e) => errors.push(e));
    await expect(idem.run('k', async () => Promise.reject(new Error('op failed')))).rejects.toThrow('op failed');
    expect(errors[0]).toMatchObject({ phase: 'release' });
  });

  it('releases the key when the result cannot be serialized', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    await expect(idem.run('k', async () => ({ n: 1n }))).rejects.toThrow(TypeError);
    expect(await idem.run('k', async () => 'ok')).toBe('ok');
  });

  it('uses a custom serializer', async () => {
    const idem = new Idempotency({
      store: new MemoryIdempotencyStore(),
      serializer: { serialize: (v) => String((v as Date).getTime()), deserialize: (t) => new Date(Number(t)) },
    });
    const when = new Date(1_700_000_000_000);
    await idem.run('k', async () => when);
    const replay = await idem.run('k', async () => new Date());
    expect(replay).toBeInstanceOf(Date);
    expect(replay.getTime()).toBe(when.getTime());
  });

  it('runs the operation exactly once for 200 concurrent duplicates; the others replay or get 409', async () => {
    const idem = new Idempotency({ store: new MemoryIdempotencyStore() });
    let runs = 0;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, () =>
        idem.run('pay-1', async () => {
          runs++;
          await sleep(20);
          return { charged: 100 };
        }),
      ),
    );
    expect(runs).toBe(1);
    for (const o of outcomes) {
      if (o.status === 'fulfilled') expect(o.value).toEqual({ charged: 100 });
      else expect(isHeadroomError(o.reason, 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
    }
  });

  describe('argument checks', () => {
    const store = new MemoryIdempotencyStore();
    it.each([
      ['store', { store: {} }],
      ['store', { store: undefined }],
      ['ttl', { store, ttl: '1 day' }],
      ['ttl', { store, ttl: 0 }],
      ['lockTtl', { store, lockTtl: -5 }],
      ['lockTtl', { store, lockTtl: 1 }],
      ['storeErrors', { store, storeErrors: true }],
      ['serializer', { store, serializer: {} }],
      ['holdUntilStored', { store, holdUntilStored: 'yes' }],
    ])('rejects a bad %s with INVALID_ARGUMENT naming it', (name, options) => {
      let err: unknown;
      try {
        new Idempotency(options as never);
      } catch (e) {
        err = e;
      }
      expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as Error).message).toContain(name);
    });

    it.each([[''], [undefined], [42], ['x'.repeat(70_000)]])('rejects the key %s with INVALID_ARGUMENT', async (key) => {
      const idem = new Idempotency({ store });
      const err = await caught(idem.run(key as string, async () => 1));
      expect(isHeadroomError(err, 'INVALID_ARGUMENT')).toBe(true);
    });

    it('rejects a bad wait or scope with INVALID_ARGUMENT naming it', async () => {
      const idem = new Idempotency({ store });
      expect((await caught(idem.run('k', async () => 1, { wait: 'soon' as never }))) as Error).toMatchObject({
        code: 'INVALID_ARGUMENT',
        argument: 'options.wait',
      });
      expect((await caught(idem.run('k', async () => 1, { scope: 7 as never }))) as Error).toMatchObject({
        argument: 'options.scope',
      });
    });
  });
});
