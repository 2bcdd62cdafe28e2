import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCache, isHeadroomError, TimeoutError, type Cache, type CacheOptions } from '../../src/cache/index.js';
import { deadlineTimerState } from '../../src/core/index.js';
import type { RedisServer } from '../support/redis.js';
import { deferred } from '../support/async.js';
import { TestClock, useTestClock } from '../support/test-clock.js';
import { busReady, cacheSuite, sleep, waitFor } from './helpers.js';

const suite = cacheSuite('res');
let server: RedisServer;
beforeAll(() => {
  ({ server } = suite);
});

/**
 * Waits until no call is pending on the shared deadline timer: the background L2 write of a
 * `getOrSet` has landed (a real sleep used to give it time; a moved clock does not).
 */
function written(): Promise<void> {
  return waitFor(() => deadlineTimerState().armed === 0, 'the background L2 write');
}

function make(options: CacheOptions = {}): Cache {
  const cache = createCache({ redis: server.client(), prefix: suite.nextPrefix(), ...options });
  suite.track(cache);
  return cache;
}

afterEach(() => {
  server.resume();
});

describe('grace (stale-if-error)', () => {
  it('serves the stale value when the factory fails within grace, and reports it', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 50, grace: '1m', clock });
    const stale: string[] = [];
    cache.on('stale', (e) => stale.push(e.reason));
    expect(await cache.getOrSet('k', () => 'v1')).toBe('v1');
    await written();
    await clock.advance(80);
    let seenStale: unknown;
    expect(
      await cache.getOrSet('k', (ctx) => {
        seenStale = ctx.stale;
        throw new Error('db down');
      }),
    ).toBe('v1');
    expect(seenStale).toBe('v1');
    expect(stale).toEqual(['factory-error']);
    expect(cache.stats()).toMatchObject({ staleServed: 1, factory: { calls: 2, errors: 1 } });
  });

  it('rethrows the factory error when there is no grace', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 30, clock });
    await cache.getOrSet('k', () => 'v1');
    await written();
    await clock.advance(60);
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
  });

  it('uses a stale value from L2 when this instance has none', async () => {
    const clock = new TestClock();
    const a = make({ ttl: 50, grace: '1m', prefix: 'res-shared:', clock });
    await a.getOrSet('k', () => 'from-a');
    await written();
    await clock.advance(80);
    const b = make({ ttl: 50, grace: '1m', prefix: 'res-shared:', clock });
    expect(await b.getOrSet('k', () => Promise.reject(new Error('down')))).toBe('from-a');
  });
});

describe('get() while L2 is down', () => {
  it('serves a stale L1 value within grace when L2 cannot be reached', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 30, grace: '1m', l2Timeout: 50, clock });
    const reasons: string[] = [];
    cache.on('stale', (e) => reasons.push(e.reason));
    await cache.set('k', 'v');
    await clock.advance(50);
    server.pause();
    expect(await cache.get('k')).toBe('v');
    server.resume();
    expect(reasons).toEqual(['l2-down']);
    expect(await cache.get('k')).toBeUndefined(); // L2 reachable: expired means a miss
  });
});

describe('earlyRefresh', () => {
  it('refreshes once in the background after the fraction of the ttl, serving the current value', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 1_500, earlyRefresh: 0.2, clock });
    const refreshes: string[] = [];
    cache.on('refresh', (e) => refreshes.push(e.key));
    let calls = 0;
    let release!: () => void;
    const factory = () => {
      calls++;
      if (calls === 1) return 'v1';
      return new Promise<string>((resolve) => (release = () => resolve(`v${calls}`)));
    };
    expect(await cache.getOrSet('k', factory)).toBe('v1');
    await written(); // a flight still writing would take the refresh's place
    await clock.advance(400);
    const during = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('k', factory)));
    expect(during.every((v) => v === 'v1')).toBe(true);
    await waitFor(() => calls === 2, 'the background refresh to call the factory'); // after its L2 check
    expect(await cache.getOrSet('k', factory)).toBe('v1');
    expect(calls).toBe(2);
    expect(refreshes).toEqual(['k']);
    release();
    await waitFor(async () => (await cache.getOrSet('k', factory)) === 'v2', 'the refreshed value');
    expect(calls).toBe(2);
  });
});

describe('factoryTimeout', () => {
  it('past soft, returns the stale value and lets the factory finish in the background', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 40, grace: '1m', factoryTimeout: { soft: 50 }, clock });
    await cache.getOrSet('k', () => 'old');
    await written();
    clock.installUntilTestEnds();
    await clock.advance(60);
    const slow = deferred<string>();
    const pending = cache.getOrSet('k', () => slow.promise);
    await clock.advance(50); // the soft timeout is armed when the flight starts, with L1's stale value at hand
    expect(await pending).toBe('old');
    slow.resolve('new');
    await waitFor(async () => (await cache.get('k')) === 'new', 'the background result');
    expect(cache.stats().factory.calls).toBe(2);
  });

  it('past soft, also serves a stale value found in L2', async () => {
    const clock = new TestClock();
    const a = make({ ttl: 40, grace: '1m', prefix: 'res-soft-l2:', clock });
    await a.getOrSet('k', () => 'old');
    await written();
    clock.installUntilTestEnds();
    await clock.advance(60);
    const b = make({ ttl: 40, grace: '1m', prefix: 'res-soft-l2:', factoryTimeout: { soft: 50 }, clock });
    const slow = deferred<string>();
    const started = deferred();
    const pending = b.getOrSet('k', () => {
      started.resolve(); // after the GET that found the stale value in L2
      return slow.promise;
    });
    await started.promise;
    await clock.advance(50);
    expect(await pending).toBe('old');
    slow.resolve('new');
  });

  it('past soft, serves a stale value that L2 yields only after soft passed, and reports it', async () => {
    const clock = new TestClock();
    const a = make({ ttl: 40, grace: '1m', clock });
    await a.getOrSet('k', () => 'old');
    await written();
    clock.installUntilTestEnds();
    await clock.advance(60);
    const b = make({ prefix: suite.lastPrefix, ttl: 40, grace: '1m', l2Timeout: 2_000, factoryTimeout: { soft: 30 }, clock });
    const events: string[] = [];
    b.on('stale', (e) => events.push(`stale:${e.reason}`));
    b.on('refresh', () => events.push('refresh'));
    server.pause();
    const slow = deferred<string>();
    const pending = b.getOrSet('k', () => slow.promise);
    await clock.advance(150); // soft passes while the GET waits for a paused Redis (l2Timeout not reached)
    expect(events).toEqual([]);
    server.resume();
    expect(await pending).toBe('old');
    slow.resolve('new');
    expect(events).toEqual(['stale:soft-timeout', 'refresh']);
    expect(b.stats().staleServed).toBe(1);
  });

  it('past soft without a stale value, keeps waiting for the factory', async () => {
    const clock = useTestClock();
    const cache = make({ factoryTimeout: { soft: 20 }, clock });
    const started = deferred();
    const pending = cache.getOrSet('k', () => {
      started.resolve();
      return clock.sleep(80).then(() => 'slow');
    });
    await started.promise;
    await clock.advance(80); // soft passes at 20 with nothing stale to serve
    expect(await pending).toBe('slow');
    expect(cache.stats().staleServed).toBe(0);
  });

  it('past hard, aborts the factory signal and rejects with OPERATION_TIMEOUT', async () => {
    const clock = useTestClock();
    const cache = make({ factoryTimeout: { hard: 50 }, clock });
    let aborted = false;
    const started = deferred();
    const pending = cache
      .getOrSet('k', ({ signal }) => {
        signal.addEventListener('abort', () => (aborted = true));
        started.resolve();
        return clock.sleep(300).then(() => 'late');
      })
      .catch((e: unknown) => e);
    await started.promise;
    await clock.advance(50);
    const error = await pending;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(isHeadroomError(error, 'OPERATION_TIMEOUT')).toBe(true);
    expect(aborted).toBe(true);
    expect(cache.stats().factory.timeouts).toBe(1);
    await clock.advance(300); // the abandoned factory's own wait ends too
  });

  it('past hard with a stale value, serves it', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 30, grace: '1m', clock });
    await cache.getOrSet('k', () => 'old');
    await written();
    clock.installUntilTestEnds();
    await clock.advance(50);
    const started = deferred();
    const pending = cache.getOrSet(
      'k',
      () => {
        started.resolve();
        return clock.sleep(300).then(() => 'late');
      },
      { factoryTimeout: { hard: 40 } },
    );
    await started.promise;
    await clock.advance(40);
    expect(await pending).toBe('old');
    await clock.advance(300);
  });
});

describe('fail-open when Redis is paused or killed', () => {
  it('answers from L1 and the factory within l2Timeout while Redis is paused, then recovers', async () => {
    const cache = make({ l2Timeout: 100, breaker: { threshold: 3, cooldown: 200 } });
    await busReady(cache);
    await cache.set('warm', 'w');
    const errors: string[] = [];
    cache.on('error', (e) => errors.push(e.operation));
    server.pause();
    try {
      const t0 = Date.now();
      expect(await cache.getOrSet('warm', () => 'never')).toBe('w'); // L1
      expect(await cache.getOrSet('cold', () => 'computed')).toBe('computed'); // L2 GET times out, factory runs
      expect(Date.now() - t0).toBeLessThan(100 + 1_000); // l2Timeout for the GET (the SET is not awaited), plus slack
      expect(await cache.get('missing')).toBeUndefined();
      await cache.set('w2', 1); // L2 write abandoned, no throw
      await cache.delete('w2');
      expect(cache.stats().breaker.state).toBe('open');
      // With the breaker open, L2 is skipped: no wait at all.
      const t1 = Date.now();
      expect(await cache.getOrSet('cold2', () => 'fast')).toBe('fast');
      expect(Date.now() - t1).toBeLessThan(190); // without the breaker: >= l2Timeout, plus the factory
    } finally {
      server.resume();
    }
    expect(errors.length).toBeGreaterThan(0);
    await waitFor(async () => {
      await cache.get('probe');
      return cache.stats().breaker.state === 'closed';
    }, 'the breaker to close after Redis resumes');
    await cache.set('after', 'ok');
    const other = make({ prefix: suite.lastPrefix });
    expect(await other.get('after')).toBe('ok');
  });

  it('keeps answering when Redis is killed, and uses L2 again after it restarts', async () => {
    const cache = make({ l2Timeout: 100, breaker: { threshold: 2, cooldown: 100 } });
    await cache.getOrSet('k', () => 'v');
    await server.kill();
    try {
      expect(await cache.getOrSet('k', () => 'never')).toBe('v');
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => cache.getOrSet(`cold${i}`, () => i)));
      expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await server.restart();
    }
    await waitFor(
      async () => {
        await cache.set('after-restart', 1);
        return cache.stats().breaker.state === 'closed';
      },
      'L2 to be used again',
      10_000,
    );
    const checker = server.client();
    await waitFor(async () => (await checker.exists(`${suite.lastPrefix}_:e:after-restart`)) === 1, 'the write to reach Redis', 5_000);
  });
});

describe('errors reported, never thrown', () => {
  it('reports an L2 call past l2Timeout as OPERATION_TIMEOUT', async () => {
    const cache = make({ l2Timeout: 50, bus: false });
    const errors: unknown[] = [];
    cache.on('error', (e) => errors.push(e.error));
    server.pause();
    expect(await cache.get('k')).toBeUndefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(errors[0]).toMatchObject({ code: 'OPERATION_TIMEOUT', operation: 'cache L2 get', timeoutMs: 50 });
  });

  it('reports a SCAN that failed part way as CACHE_INVALIDATION_INCOMPLETE', async () => {
    const cache = make({ l2Timeout: 50, bus: false });
    await cache.set('report:1', 1);
    const errors: Array<{ operation: string; code: unknown }> = [];
    cache.on('error', (e) => errors.push({ operation: e.operation, code: (e.error as { code?: unknown }).code }));
    server.pause();
    expect(await cache.invalidatePattern('report:*')).toBe(0);
    await cache.clear();
    expect(errors).toContainEqual({ operation: 'invalidate-pattern', code: 'CACHE_INVALIDATION_INCOMPLETE' });
    expect(errors).toContainEqual({ operation: 'clear', code: 'CACHE_INVALIDATION_INCOMPLETE' });
    expect(errors).toContainEqual({ operation: 'l2-scan', code: 'OPERATION_TIMEOUT' });
  });
});

describe('L2 writes do not hold up callers', () => {
  it('answers a cold getOrSet within one l2Timeout while Redis is paused, and writes L2 once it resumes', async () => {
    const cache = make({ l2Timeout: 300 });
    await busReady(cache);
    const errors: string[] = [];
    cache.on('error', (e) => errors.push(e.operation));
    let calls = 0;
    server.pause();
    try {
      const t0 = Date.now();
      expect(await cache.getOrSet('cold', () => `computed-${++calls}`)).toBe('computed-1');
      // The GET waits for l2Timeout; the SET of the computed value no longer adds a second one.
      expect(Date.now() - t0).toBeLessThan(300 + 200);
      expect(await cache.getOrSet('cold', () => `computed-${++calls}`)).toBe('computed-1');
      expect(calls).toBe(1);
      await waitFor(() => errors.includes('l2-set'), 'the background SET to time out');
      expect(cache.stats().l2.timeouts).toBe(2); // the GET and the SET, counted; no error reached the caller
      expect(cache.stats().breaker.state).toBe('closed');
    } finally {
      server.resume();
    }
    // The SET was sent before the deadline abandoned it: Redis applies it when it resumes.
    const checker = server.client();
    await waitFor(async () => (await checker.exists(`${suite.lastPrefix}_:e:cold`)) === 1, 'the value to reach Redis');
    const other = make({ prefix: suite.lastPrefix });
    expect(await other.get('cold')).toBe('computed-1');
  });

  it('with l1: false, shares the computed value with later callers while its L2 write is pending', async () => {
    const cache = make({ l1: false, l2Timeout: 300 });
    let calls = 0;
    server.pause();
    try {
      expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v1');
      expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v1'); // no second GET, no second factory call
      expect(calls).toBe(1);
      // A set while the write is pending overtakes the computed value: it is no longer shared.
      const setting = cache.set('k', 'newer');
      expect(await cache.getOrSet('k', () => `v${++calls}`)).toBe('v2'); // L2 unreachable, no L1: the factory
      await setting;
    } finally {
      server.resume();
    }
  });

  it('resolves set() without throwing within one l2Timeout while Redis is paused', async () => {
    const cache = make({ l2Timeout: 300 });
    await busReady(cache);
    server.pause();
    try {
      const t0 = Date.now();
      await expect(cache.set('k', 'v')).resolves.toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(300 + 200);
      expect(cache.stats().l2.timeouts).toBe(1); // the SET; the bus message is not sent after a failed write
      expect(cache.stats().bus.messagesOut).toBe(0);
      expect(await cache.get('k')).toBe('v'); // L1
    } finally {
      server.resume();
    }
  });

  it('with lock: true, answers the holder at once and keeps the lock until its L2 write is done', async () => {
    const prefix = suite.nextPrefix();
    const a = make({ prefix, lock: true, l2Timeout: '2s' });
    const b = make({ prefix, lock: true, l2Timeout: '2s' });
    await busReady(a, b);
    const t0 = Date.now();
    // The factory stalls Redis after the lock is taken: the SET of its value cannot complete yet.
    expect(
      await a.getOrSet('k', () => {
        server.pause();
        return 'from-a';
      }),
    ).toBe('from-a');
    expect(Date.now() - t0).toBeLessThan(1_000); // not waiting for the SET (2 s timeout)
    let bCalls = 0;
    const fromB = b.getOrSet('k', () => `from-b-${++bCalls}`);
    await sleep(50);
    server.resume();
    expect(await fromB).toBe('from-a');
    expect(bCalls).toBe(0);
    const checker = server.client();
    await waitFor(async () => (await checker.exists(`${prefix}_:l:k`)) === 0, 'the lock to be released');
    expect(await checker.exists(`${prefix}_:e:k`)).toBe(1);
    expect(a.stats().lock.acquired).toBe(1);
  });
});

describe('bounded L2 reads', () => {
  it('leaves nothing armed on the shared deadline timer once reads and background writes settle', async () => {
    await written(); // what earlier tests left in flight (against a paused Redis) settles first
    const cache = make({ l1: false, l2Timeout: '2s' });
    await cache.set('a', 1);
    // set() answers after its SET; the announcement to the other instances settles just after.
    await waitFor(() => deadlineTimerState().armed === 0, 'the set and its announcement to settle', 1_000);
    await Promise.all([cache.get('a'), cache.get('b'), cache.getOrSet('a', () => 0), cache.getOrSet('c', () => 3), cache.has('a')]);
    // getOrSet('c') answered before its SET's reply; that reply disarms it well before the 2 s deadline.
    await waitFor(() => deadlineTimerState().armed === 0, 'the background SET to settle', 1_000);
  });

  it("disarms a factory's soft and hard timeouts as soon as it answers", async () => {
    const cache = make({ l1: false, bus: false, factoryTimeout: { soft: '5s', hard: '10s' } });
    expect(await cache.getOrSet('k', () => new Promise((resolve) => setImmediate(resolve, 'v')))).toBe('v');
    await waitFor(() => deadlineTimerState().armed === 0, 'the background SET to settle', 1_000);
  });

  it('serves the L1 stale value to every caller of a get() whose shared read times out', async () => {
    const clock = new TestClock();
    const cache = make({ ttl: 30, grace: '1m', l2Timeout: 80, breaker: { threshold: 100, cooldown: 100 }, clock });
    await cache.set('k', 'old');
    await clock.advance(50); // past ttl, within grace: a stale L1 entry
    await written(); // no other call of this cache is in flight when Redis stops answering
    server.pause();
    try {
      const t0 = Date.now();
      const values = await Promise.all(Array.from({ length: 10 }, () => cache.get('k')));
      expect(values).toEqual(Array.from({ length: 10 }, () => 'old'));
      expect(Date.now() - t0).toBeLessThan(80 + 1_000);
      expect(cache.stats().l2.timeouts).toBe(1); // one shared GET
      expect(cache.stats().staleServed).toBe(10);
    } finally {
      server.resume();
    }
  });
});

describe('Redis down for longer than busDownL1Ttl', () => {
  it('keeps serving L1 entries within their ttl instead of calling the factory', async () => {
    const clock = new TestClock();
    const cache = make({ l2Timeout: 100, busDownL1Ttl: 30, breaker: { threshold: 1, cooldown: '10s' }, clock });
    await busReady(cache);
    await cache.getOrSet('k', () => 'cached');
    await server.kill();
    try {
      await waitFor(() => !cache.stats().bus.connected, 'the bus to notice');
      await clock.advance(60);
      let calls = 0;
      expect(await cache.getOrSet('k', () => `factory-${++calls}`)).toBe('cached');
      expect(calls).toBe(0);
    } finally {
      await server.restart();
    }
  });
});

describe('circuit breaker', () => {
  it('opens after threshold failures, probes once after cooldown, and closes on success', async () => {
    const cache = make({ l2Timeout: 50, breaker: { threshold: 2, cooldown: 150 } });
    const transitions: string[] = [];
    cache.on('l2-down', () => transitions.push('down'));
    cache.on('l2-up', () => transitions.push('up'));
    server.pause();
    await cache.get('a');
    expect(cache.stats().breaker.state).toBe('closed');
    await cache.get('b');
    expect(cache.stats().breaker.state).toBe('open');
    expect(cache.stats().l2.timeouts).toBe(2);
    await cache.get('c'); // skipped: no new timeout
    expect(cache.stats().l2.timeouts).toBe(2);
    await sleep(170);
    await cache.get('d'); // half-open probe, Redis still paused: fails, opens again
    expect(cache.stats().breaker.state).toBe('open');
    expect(cache.stats().breaker.opened).toBe(2);
    server.resume();
    await sleep(170);
    await cache.get('e'); // probe succeeds
    expect(cache.stats().breaker.state).toBe('closed');
    expect(transitions).toEqual(['down', 'down', 'up']);
  });
});
