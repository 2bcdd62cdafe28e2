/**
 * The behaviour every RateLimitStore owes a RateLimiter (see src/ratelimit/store.ts), run against
 * each implementation. Windows are long (an hour) so that no budget refills while a test runs:
 * the stores' own clocks (Redis' TIME) cannot be moved.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RateLimiter, type RateLimitStore } from '../../src/ratelimit/index.js';

/**
 * `atomic`: the store checks keys of different limits in one atomic step (memory, standalone
 * Redis). On a Cluster they sit in different slots, taken at once and given back on a refusal:
 * a concurrent request may then be refused while units are held, never allowed beyond a limit.
 */
export function storeContract(name: string, makeStore: () => RateLimitStore, { atomic }: { atomic: boolean }): void {
  describe(`${name} (store contract)`, () => {
    const limiter = (options: { limit: number; burst?: number; name?: string }) =>
      new RateLimiter({ window: '1h', storeTimeout: '10s', onStoreError: 'deny', name: `c-${randomUUID()}`, store: makeStore(), ...options });

    it('allows the burst, refuses the next with the wait, and keeps keys apart', async () => {
      const l = limiter({ limit: 60, burst: 3 });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await l.take('k'));
      expect(answers.map((a) => [a.allowed, a.remaining])).toEqual([
        [true, 2],
        [true, 1],
        [true, 0],
        [false, 0],
      ]);
      // One unit per minute comes back: the refused check waits about a minute.
      expect(answers[3]!.retryAfterMs).toBeGreaterThan(59_000);
      expect(answers[3]!.retryAfterMs).toBeLessThanOrEqual(60_000);
      expect(answers[2]!.resetMs).toBeGreaterThan(179_000);
      expect((await l.take('other')).remaining).toBe(2);
    });

    it('spends costs atomically under concurrency: never more than the burst', async () => {
      const l = limiter({ limit: 1000, burst: 50 });
      const answers = await Promise.all(Array.from({ length: 120 }, () => l.take('hot', { cost: 1 })));
      expect(answers.filter((a) => a.allowed)).toHaveLength(50);
      const costly = await Promise.all(Array.from({ length: 10 }, () => l.take('costly', { cost: 7 })));
      expect(costly.filter((a) => a.allowed)).toHaveLength(7);
    });

    it('peeks without taking', async () => {
      const l = limiter({ limit: 60, burst: 2 });
      await l.take('k');
      expect(await l.peek('k')).toMatchObject({ allowed: true, remaining: 1 });
      expect((await l.peek('k', { cost: 2 })).allowed).toBe(false);
      expect(await l.take('k')).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('reset makes the whole budget available again', async () => {
      const l = limiter({ limit: 60, burst: 1 });
      await l.take('k');
      expect((await l.take('k')).allowed).toBe(false);
      await l.reset('k');
      expect((await l.take('k')).allowed).toBe(true);
    });

    it('takeAll takes all or none, and the others answer untouched', async () => {
      const store = makeStore();
      const a = new RateLimiter({ window: '1h', limit: 60, burst: 5, name: `a-${randomUUID()}`, store, onStoreError: 'deny', storeTimeout: '10s' });
      const b = new RateLimiter({ window: '1h', limit: 60, burst: 2, name: `b-${randomUUID()}`, store, onStoreError: 'deny', storeTimeout: '10s' });
      const request = () =>
        RateLimiter.takeAll([
          { limiter: a, key: 'ip-1' },
          { limiter: b, key: 'acct-1' },
        ]);
      expect((await request()).allowed).toBe(true);
      expect((await request()).allowed).toBe(true);
      const refused = await request();
      expect(refused.allowed).toBe(false);
      expect(refused.results.map((r) => [r.allowed, r.remaining])).toEqual([
        [true, 3],
        [false, 0],
      ]);
      expect((await a.peek('ip-1')).remaining).toBe(3);
      // A key named twice in one request: checked one after the other, still all or none.
      const twice = await RateLimiter.takeAll([
        { limiter: a, key: 'ip-2', cost: 3 },
        { limiter: a, key: 'ip-2', cost: 3 },
      ]);
      expect(twice.allowed).toBe(false);
      expect((await a.peek('ip-2')).remaining).toBe(5);
    });

    it('takeAll under concurrency never overspends either limit', async () => {
      const store = makeStore();
      const a = new RateLimiter({ window: '1h', limit: 60, burst: 30, name: `a-${randomUUID()}`, store, onStoreError: 'deny', storeTimeout: '10s' });
      const b = new RateLimiter({ window: '1h', limit: 60, burst: 20, name: `b-${randomUUID()}`, store, onStoreError: 'deny', storeTimeout: '10s' });
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          RateLimiter.takeAll([
            { limiter: a, key: 'shared' },
            { limiter: b, key: `acct-${i % 2}` },
          ]),
        ),
      );
      // b allows 20 per account (two accounts, 30 requests each), a 30 in all.
      const allowed = answers.filter((r) => r.allowed).length;
      if (atomic) expect(allowed).toBe(30);
      else expect(allowed).toBeGreaterThan(0);
      expect(allowed).toBeLessThanOrEqual(30);
      // All or nothing: each limit spent exactly what was allowed, no more, no less.
      expect(30 - (await a.peek('shared')).remaining).toBe(allowed);
      expect(40 - (await b.peek('acct-0')).remaining - (await b.peek('acct-1')).remaining).toBe(allowed);
    });
  });
}
