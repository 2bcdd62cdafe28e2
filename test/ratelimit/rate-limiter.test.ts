import { describe, expect, it } from 'vitest';
import {
  MemoryRateLimitStore,
  RateLimitedError,
  RateLimiter,
  isHeadroomError,
  type RateLimitCheck,
  type RateLimitPolicy,
  type RateLimitStore,
  type StoreErrorEvent,
  type StoreReply,
} from '../../src/ratelimit/index.js';
import { InvalidArgumentError } from '../../src/core/index.js';
import { timerLag } from './timer-lag.js';

/** A clock the test moves by hand, in milliseconds (near Date.now() magnitudes, to exercise float rounding). */
function manualClock(start = 1_765_000_000_000): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/** A store that fails every call, synchronously or by rejecting, or never answers. */
class BrokenStore implements RateLimitStore {
  calls = 0;
  constructor(private readonly mode: 'throw' | 'reject' | 'hang') {}
  private fail<T>(): T {
    this.calls++;
    if (this.mode === 'throw') throw new Error('store down');
    return (this.mode === 'reject' ? Promise.reject(new Error('store down')) : new Promise(() => {})) as T;
  }
  take(): StoreReply | Promise<StoreReply> {
    return this.fail();
  }
  peek(): StoreReply | Promise<StoreReply> {
    return this.fail();
  }
  takeAll(): readonly StoreReply[] | Promise<readonly StoreReply[]> {
    return this.fail();
  }
  refund(): void | Promise<void> {
    return this.fail();
  }
  reset(): void | Promise<void> {
    return this.fail();
  }
}

describe('RateLimiter (GCRA, memory store, injected clock)', () => {
  it('allows burst at once, then one unit per window / limit, and says when to come back', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 10, window: '10s', burst: 3, clock });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limiter.take('a'));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, true, false]);
    expect(answers.map((a) => a.remaining)).toEqual([2, 1, 0, 0]);
    expect(answers[0]).toMatchObject({ limit: 10, resetMs: 1000, retryAfterMs: 0, degraded: false });
    expect(answers[3]).toMatchObject({ resetMs: 3000, retryAfterMs: 1000 });

    clock.advance(999);
    expect((await limiter.take('a')).allowed).toBe(false);
    clock.advance(1);
    expect(await limiter.take('a')).toMatchObject({ allowed: true, remaining: 0, resetMs: 3000 });
    // A whole idle window brings the whole burst back, never more.
    clock.advance(60_000);
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await limiter.take('a')).allowed);
    expect(after).toEqual([true, true, true, false]);
  });

  it('keeps keys apart and defaults burst to limit', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 5, window: '1m', clock });
    for (let i = 0; i < 5; i++) expect((await limiter.take('x')).allowed).toBe(true);
    expect((await limiter.take('x')).allowed).toBe(false);
    expect((await limiter.take('y')).remaining).toBe(4);
  });

  it('never admits more than burst + limit * elapsed / window, to the unit', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 7, window: '1s', burst: 4, clock });
    let admitted = 0;
    // 3 s of a request every 10 ms (about 14x the rate).
    for (let t = 0; t <= 3000; t += 10) {
      if ((await limiter.take('k')).allowed) admitted++;
      clock.advance(10);
    }
    expect(admitted).toBe(4 + Math.floor((3000 * 7) / 1000));
  });

  it('spends cost units at once; cost 0 only reads', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 10, window: '1s', clock });
    expect(await limiter.take('k', { cost: 7 })).toMatchObject({ allowed: true, remaining: 3 });
    expect(await limiter.take('k', { cost: 4 })).toMatchObject({ allowed: false, remaining: 3, retryAfterMs: 100 });
    expect(await limiter.take('k', { cost: 0 })).toMatchObject({ allowed: true, remaining: 3 });
    expect(await limiter.take('k', { cost: 3 })).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('peek answers as take would and spends nothing; reset forgets the key', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 2, window: '1m', clock });
    await limiter.take('k');
    expect(await limiter.peek('k')).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.peek('k', { cost: 2 })).toMatchObject({ allowed: false, remaining: 1, retryAfterMs: 30_000 });
    expect(await limiter.peek('k')).toMatchObject({ allowed: true, remaining: 1 });
    await limiter.take('k');
    expect((await limiter.take('k')).allowed).toBe(false);
    await limiter.reset('k');
    expect(await limiter.take('k')).toMatchObject({ allowed: true, remaining: 1 });
    expect(limiter.stats()).toMatchObject({ checks: 4, allowed: 3, limited: 1 });
  });

  it('names itself from its figures unless named, and namespaces its keys in a shared store', async () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ clock });
    const a = new RateLimiter({ limit: 1, window: '1m', store, name: 'a' });
    const b = new RateLimiter({ limit: 1, window: '1m', store, name: 'b' });
    expect(new RateLimiter({ limit: 100, window: '1m' }).name).toBe('100-per-60s');
    expect(new RateLimiter({ limit: 3, window: 1500 }).name).toBe('3-per-1500ms');
    expect((await a.take('same')).allowed).toBe(true);
    expect((await b.take('same')).allowed).toBe(true);
    expect(store.stats().keys).toBe(2);
  });

  it('emits limited only when listened to, and the disposer stops it', async () => {
    const limiter = new RateLimiter({ limit: 1, window: '1h', name: 'login', clock: manualClock() });
    const seen: unknown[] = [];
    const off = limiter.on('limited', (event) => seen.push(event));
    await limiter.take('u');
    await limiter.take('u', { cost: 1 });
    expect(seen).toEqual([{ name: 'login', key: 'u', cost: 1, retryAfterMs: 3_600_000 }]);
    off();
    off();
    await limiter.take('u');
    expect(seen).toHaveLength(1);
  });
});

describe('RateLimiter input checks', () => {
  const bad = async (promise: Promise<unknown>, argument: string): Promise<void> => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(isHeadroomError(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe(argument);
  };

  it('rejects empty, huge and non-string keys with INVALID_ARGUMENT and stores nothing', async () => {
    const store = new MemoryRateLimitStore();
    const limiter = new RateLimiter({ limit: 5, window: '1s', store, maxKeyLength: 64 });
    await bad(limiter.take(''), 'key');
    await bad(limiter.take('k'.repeat(65)), 'key');
    await bad(limiter.take(42 as unknown as string), 'key');
    await bad(limiter.peek(''), 'key');
    await bad(limiter.reset(''), 'key');
    expect((await limiter.take('k'.repeat(64))).allowed).toBe(true);
    expect(store.stats().keys).toBe(1);
  });

  it('rejects negative, fractional, non-number and above-burst costs, and stores nothing', async () => {
    const store = new MemoryRateLimitStore();
    const limiter = new RateLimiter({ limit: 100, window: '1m', burst: 10, store });
    for (const cost of [-1, 1.5, Number.NaN, Infinity, '1', 11]) await bad(limiter.take('k', { cost: cost as number }), 'cost');
    expect(store.stats().keys).toBe(0);
    expect(limiter.stats().checks).toBe(0);
  });

  it('rejects bad options in the constructor, naming them', () => {
    const cases: Array<[unknown, string]> = [
      [{ window: '1s' }, 'limit'],
      [{ limit: 0, window: '1s' }, 'limit'],
      [{ limit: 1.5, window: '1s' }, 'limit'],
      [{ limit: 1, window: '0s' }, 'window'],
      [{ limit: 1, window: '5 minutes' }, 'window'],
      [{ limit: 1, window: -1 }, 'window'],
      [{ limit: 1_000_000, window: '1s' }, 'limit'],
      [{ limit: 1, window: '1s', burst: 0 }, 'burst'],
      [{ limit: 1, window: '1s', storeTimeout: 'soon' }, 'storeTimeout'],
      [{ limit: 1, window: '1s', storeTimeout: 0 }, 'storeTimeout'],
      [{ limit: 1, window: '1s', onStoreError: 'ignore' }, 'onStoreError'],
      [{ limit: 1, window: '1s', instances: 0 }, 'instances'],
      [{ limit: 1, window: '1s', name: 'has space' }, 'name'],
      [{ limit: 1, window: '1s', name: '{tag}' }, 'name'],
      [{ limit: 1, window: '1s', store: {} }, 'store'],
      [{ limit: 1, window: '1s', clock: { now: 1 } }, 'clock'],
      [undefined, 'options'],
    ];
    for (const [options, argument] of cases) {
      let error: unknown;
      try {
        new RateLimiter(options as never);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(options)).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).argument).toBe(argument);
    }
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow(InvalidArgumentError);
  });

  it('rejects a malformed takeAll without taking anything', async () => {
    const store = new MemoryRateLimitStore();
    const a = new RateLimiter({ limit: 5, window: '1s', store, name: 'a' });
    await bad(RateLimiter.takeAll([]), 'checks');
    await bad(RateLimiter.takeAll([{ limiter: {} as RateLimiter, key: 'k' }]), 'checks[0].limiter');
    await bad(
      RateLimiter.takeAll([
        { limiter: a, key: 'k' },
        { limiter: a, key: '' },
      ]),
      'key',
    );
    await bad(RateLimiter.takeAll([{ limiter: a, key: 'k', cost: -2 }]), 'cost');
    expect(store.stats().keys).toBe(0);
  });
});

describe('RateLimiter.takeAll', () => {
  it('takes from every limit, or from none when one refuses, and answers with the strictest', async () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ clock });
    const perIp = new RateLimiter({ name: 'per-ip', limit: 3, window: '1m', store });
    const perAccount = new RateLimiter({ name: 'per-account', limit: 100, window: '1h', store });
    const request = () =>
      RateLimiter.takeAll([
        { limiter: perIp, key: '10.0.0.7' },
        { limiter: perAccount, key: 'acct-42' },
      ]);
    const first = await request();
    expect(first).toMatchObject({ allowed: true, limit: 3, remaining: 2 });
    expect(first.results.map((r) => r.remaining)).toEqual([2, 99]);
    await request();
    await request();
    const refused = await request();
    expect(refused).toMatchObject({ allowed: false, limit: 3, retryAfterMs: 20_000 });
    expect(refused.results[0]).toMatchObject({ allowed: false });
    // The account limit allowed, but took nothing: its budget is untouched by the refused request.
    expect(refused.results[1]).toMatchObject({ allowed: true, remaining: 97 });
    expect((await perAccount.peek('acct-42')).remaining).toBe(97);
    expect(perIp.stats()).toMatchObject({ checks: 4, allowed: 3, limited: 1 });
    expect(perAccount.stats()).toMatchObject({ checks: 3, allowed: 3, limited: 0 });
  });

  it('is all or nothing across stores: a refusal in one gives back what the other took', async () => {
    const clock = manualClock();
    const a = new RateLimiter({ name: 'a', limit: 10, window: '1m', clock });
    const b = new RateLimiter({ name: 'b', limit: 1, window: '1m', clock });
    await b.take('k');
    const refused = await RateLimiter.takeAll([
      { limiter: a, key: 'k', cost: 4 },
      { limiter: b, key: 'k' },
    ]);
    expect(refused.allowed).toBe(false);
    expect(refused.results[0]).toMatchObject({ allowed: true, remaining: 10 });
    expect(await a.peek('k')).toMatchObject({ remaining: 10 });
  });

  it('checks a key named twice one check after the other', async () => {
    const limiter = new RateLimiter({ limit: 3, window: '1m', clock: manualClock() });
    const both = await RateLimiter.takeAll([
      { limiter, key: 'k', cost: 2 },
      { limiter, key: 'k', cost: 2 },
    ]);
    expect(both.allowed).toBe(false);
    expect((await limiter.peek('k')).remaining).toBe(3);
  });
});

describe('RateLimiter when the store fails', () => {
  it.each(['throw', 'reject'] as const)("onStoreError 'allow' (default) allows, degraded, when the store calls %s", async (mode) => {
    const limiter = new RateLimiter({ limit: 5, window: '1m', store: new BrokenStore(mode) });
    const events: StoreErrorEvent[] = [];
    limiter.on('store-error', (event) => events.push(event));
    const result = await limiter.take('k');
    expect(result).toMatchObject({ allowed: true, degraded: true, remaining: 4 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ operation: 'take', timedOut: false, fallback: 'allow' });
    expect(limiter.stats()).toMatchObject({ checks: 1, allowed: 1, limited: 0, degraded: 1, storeErrors: 1, storeTimeouts: 0 });
  });

  it("onStoreError 'deny' rejects with SERVICE_UNAVAILABLE (503), never RATE_LIMITED", async () => {
    const limiter = new RateLimiter({ limit: 5, window: '1m', store: new BrokenStore('reject'), onStoreError: 'deny' });
    const error = await limiter.take('k').catch((e: unknown) => e);
    expect(isHeadroomError(error, 'SERVICE_UNAVAILABLE')).toBe(true);
    expect((error as { status: number }).status).toBe(503);
    expect((error as Error).cause).toBeInstanceOf(Error);
    const all = await RateLimiter.takeAll([{ limiter, key: 'k' }]).catch((e: unknown) => e);
    expect(isHeadroomError(all, 'SERVICE_UNAVAILABLE')).toBe(true);
    expect(limiter.stats()).toMatchObject({ checks: 0, limited: 0, unavailable: 2, storeErrors: 2 });
  });

  it("onStoreError 'local' answers from an in-process limiter of limit / instances, on the injected clock", async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ limit: 8, window: '1s', store: new BrokenStore('throw'), onStoreError: 'local', instances: 4, clock });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await limiter.take('k'));
    // 8 / 4 = 2 per second each, burst 8 / 4 = 2.
    expect(answers.map((a) => a.allowed)).toEqual([true, true, false]);
    expect(answers[2]).toMatchObject({ degraded: true, limit: 2, retryAfterMs: 500 });
    clock.advance(500);
    expect((await limiter.take('k')).allowed).toBe(true);
    const all = await RateLimiter.takeAll([{ limiter, key: 'k' }]);
    expect(all).toMatchObject({ allowed: false, degraded: true });
    expect(limiter.stats()).toMatchObject({ checks: 5, limited: 2, degraded: 5 });
  });

  it("takeAll across stores: a 'deny' store that fails rejects the request and gives back what the others took", async () => {
    const clock = manualClock();
    const healthy = new RateLimiter({ name: 'healthy', limit: 5, window: '1m', clock });
    const broken = new RateLimiter({ name: 'broken', limit: 5, window: '1m', store: new BrokenStore('reject'), onStoreError: 'deny' });
    const error = await RateLimiter.takeAll([
      { limiter: healthy, key: 'k', cost: 3 },
      { limiter: broken, key: 'k' },
    ]).catch((e: unknown) => e);
    expect(isHeadroomError(error, 'SERVICE_UNAVAILABLE')).toBe(true);
    expect((await healthy.peek('k')).remaining).toBe(5);
    expect(healthy.stats().checks).toBe(0);
  });

  it("takeAll across stores: a 'local' fallback that refuses gives back what the store took, and the local share is untouched", async () => {
    const clock = manualClock();
    const healthy = new RateLimiter({ name: 'healthy', limit: 5, window: '1m', clock });
    const local = new RateLimiter({ name: 'local', limit: 4, window: '1m', store: new BrokenStore('throw'), onStoreError: 'local', instances: 2, clock });
    const request = () =>
      RateLimiter.takeAll([
        { limiter: healthy, key: 'k' },
        { limiter: local, key: 'k' },
      ]);
    expect((await request()).allowed).toBe(true);
    expect((await request()).allowed).toBe(true);
    const refused = await request();
    expect(refused).toMatchObject({ allowed: false, degraded: true, limit: 2 });
    expect(refused.results[0]).toMatchObject({ allowed: true, remaining: 3, degraded: false });
    expect((await healthy.peek('k')).remaining).toBe(3);
  });

  it('bounds a store that never answers by storeTimeout, then answers by the policy', async () => {
    const store = new BrokenStore('hang');
    const allow = new RateLimiter({ limit: 5, window: '1m', store, storeTimeout: 30 });
    const deny = new RateLimiter({ limit: 5, window: '1m', store, storeTimeout: 30, onStoreError: 'deny' });
    const events: StoreErrorEvent[] = [];
    allow.on('store-error', (event) => events.push(event));
    // A few attempts: all must answer without hanging; the tight bound must hold in one of them
    // (a machine shared with other work may preempt this process in the middle of any one).
    const overruns: number[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const started = performance.now();
      const lag = timerLag(30);
      const [allowed, denied, peeked, all, reset] = await Promise.allSettled([
        allow.take('k'),
        deny.take('k'),
        allow.peek('k'),
        RateLimiter.takeAll([{ limiter: allow, key: 'k' }]),
        allow.reset('k'),
      ]);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(29);
      expect(elapsed).toBeLessThan(30 + 1_000);
      overruns.push(elapsed - 30 - (await lag));
      expect(allowed).toMatchObject({ status: 'fulfilled', value: { allowed: true, degraded: true } });
      expect(denied.status).toBe('rejected');
      expect(isHeadroomError((denied as PromiseRejectedResult).reason, 'SERVICE_UNAVAILABLE')).toBe(true);
      expect(peeked).toMatchObject({ status: 'fulfilled', value: { allowed: true, degraded: true, remaining: 5 } });
      expect(all).toMatchObject({ status: 'fulfilled', value: { allowed: true, degraded: true } });
      expect(reset.status).toBe('rejected');
    }
    expect(Math.min(...overruns), overruns.map((o) => o.toFixed(1)).join(', ')).toBeLessThan(20);
    expect(events.slice(0, 4).map((e) => [e.operation, e.timedOut])).toEqual([
      ['take', true],
      ['peek', true],
      ['take-all', true],
      ['reset', true],
    ]);
    expect(allow.stats()).toMatchObject({ storeTimeouts: 12, storeErrors: 12 });
  });
});

describe('RateLimitedError', () => {
  it('carries RATE_LIMITED, 429, the wait and the policies', () => {
    const error = new RateLimitedError({ retryAfterMs: 1500, policies: ['per-ip'] });
    expect(isHeadroomError(error, 'RATE_LIMITED')).toBe(true);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 1500, policies: ['per-ip'], name: 'RateLimitedError' });
    expect(error.message).toBe('headroom: rate limited by per-ip; retry in 2 s');
  });
});

describe('MemoryRateLimitStore', () => {
  const policy: RateLimitPolicy = { name: 'p', limit: 1, windowMs: 60_000, burst: 1, intervalMs: 60_000, toleranceMs: 60_000 };

  it('stays within maxKeys, keeping a key until maxKeys / 2 others were added after its last check', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ maxKeys: 4, clock });
    for (const key of ['a', 'b', 'c', 'd']) expect(store.take(key, 1, policy)).toBeGreaterThanOrEqual(0);
    // 'a' checked again (refused: its budget is spent): it stays, 'b' was not.
    expect(store.take('a', 1, policy)).toBeLessThan(0);
    store.take('e', 1, policy);
    store.take('f', 1, policy);
    // b, c and d went with their generations; a (checked again) and the newest are kept.
    expect(store.stats()).toEqual({ keys: 3, maxKeys: 4, names: 1, evictions: 3 });
    expect(store.take('a', 1, policy)).toBeLessThan(0);
    expect(store.take('b', 1, policy)).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 100; i++) {
      store.take(`k${i}`, 1, policy);
      expect(store.stats().keys).toBeLessThanOrEqual(4);
    }
  });

  it('gives back refunds without going below a whole budget', () => {
    const clock = manualClock();
    const store = new MemoryRateLimitStore({ clock });
    const checks: RateLimitCheck[] = [{ key: 'k', cost: 1, policy }];
    expect(store.takeAll(checks)).toEqual([60_000]);
    store.refund(checks);
    store.refund(checks);
    expect(store.stats().keys).toBe(0);
    expect(store.take('k', 1, policy)).toBe(60_000);
  });
});
