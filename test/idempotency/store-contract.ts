/**
 * The behaviour every IdempotencyStore must have, run against each store (memory, Redis, Cluster).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IdempotencyStore } from '../../src/idempotency/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function storeContract(name: string, getStore: () => IdempotencyStore): void {
  describe(`${name}: the IdempotencyStore contract`, () => {
    const k = (): string => `contract:${randomUUID()}`;

    it('acquires an absent key, then reports it in progress with the holder fingerprint and lease left', async () => {
      const store = getStore();
      const key = k();
      expect(await store.acquire(key, 't1', 'fp', 5_000)).toEqual({ status: 'acquired' });
      const second = await store.acquire(key, 't2', 'fp', 5_000);
      expect(second.status).toBe('in-progress');
      if (second.status !== 'in-progress') return;
      expect(second.fingerprint).toBe('fp');
      expect(second.leaseRemainingMs).toBeGreaterThan(0);
      expect(second.leaseRemainingMs).toBeLessThanOrEqual(5_000);
    });

    it('completes for the holder token and answers the stored value afterwards', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      expect(await store.complete(key, 't1', 'fp', 'v{"a":"é\\u0000"}', 60_000)).toBe(true);
      // toMatchObject: a store may answer with its record itself, which holds more than the contract's fields.
      expect(await store.acquire(key, 't2', 'fp', 5_000)).toMatchObject({ status: 'completed', fingerprint: 'fp', value: 'v{"a":"é\\u0000"}' });
    });

    it('keeps an empty fingerprint as an empty string', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', '', 5_000);
      const held = await store.acquire(key, 't2', '', 5_000);
      expect(held.status === 'in-progress' && held.fingerprint).toBe('');
      await store.complete(key, 't1', '', 'u', 60_000);
      expect(await store.acquire(key, 't2', '', 5_000)).toMatchObject({ status: 'completed', fingerprint: '', value: 'u' });
    });

    it('refuses to complete for a token that does not hold the lease', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      expect(await store.complete(key, 'intruder', 'fp', 'vx', 60_000)).toBe(false);
      expect((await store.acquire(key, 't2', 'fp', 5_000)).status).toBe('in-progress');
    });

    it('stores a result whose record vanished (expired or lost), but never overwrites a completed one', async () => {
      const store = getStore();
      const key = k();
      expect(await store.complete(key, 't1', 'fp', 'v1', 60_000)).toBe(true);
      expect(await store.complete(key, 't2', 'fp', 'v2', 60_000)).toBe(false);
      expect(await store.acquire(key, 't3', 'fp', 5_000)).toMatchObject({ status: 'completed', fingerprint: 'fp', value: 'v1' });
    });

    it('answers true to a repeated complete by the token that completed the record, changing nothing', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      expect(await store.complete(key, 't1', 'fp', 'v1', 60_000)).toBe(true);
      // A retry of a complete whose first try landed although its answer was lost.
      expect(await store.complete(key, 't1', 'fp', 'v1', 60_000)).toBe(true);
      expect(await store.acquire(key, 't2', 'fp', 5_000)).toMatchObject({ status: 'completed', fingerprint: 'fp', value: 'v1' });
    });

    it("fences a stale holder: A's lease lapses, B acquires, A's late complete is refused and B's result stands", async () => {
      const store = getStore();
      const key = k();
      expect(await store.acquire(key, 'A', 'fp', 100)).toEqual({ status: 'acquired' });
      await sleep(250);
      expect(await store.acquire(key, 'B', 'fp', 5_000)).toEqual({ status: 'acquired' });
      // A comes back while B runs, and again once B has completed: refused both times.
      expect(await store.complete(key, 'A', 'fp', 'vA', 60_000)).toBe(false);
      expect(await store.complete(key, 'B', 'fp', 'vB', 60_000)).toBe(true);
      expect(await store.complete(key, 'A', 'fp', 'vA', 60_000)).toBe(false);
      expect(await store.renew(key, 'A', 5_000)).toBe(false);
      expect(await store.release(key, 'A')).toBe(false);
      expect(await store.acquire(key, 'C', 'fp', 5_000)).toMatchObject({ status: 'completed', fingerprint: 'fp', value: 'vB' });
    });

    it('renews only for the holder token (compare-and-set)', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 300);
      expect(await store.renew(key, 'intruder', 5_000)).toBe(false);
      expect(await store.renew(key, 't1', 5_000)).toBe(true);
      await sleep(400);
      // Renewed past the first 300 ms lease: still held.
      expect((await store.acquire(key, 't2', 'fp', 5_000)).status).toBe('in-progress');
    });

    it('does not renew a completed record', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      await store.complete(key, 't1', 'fp', 'v1', 60_000);
      expect(await store.renew(key, 't1', 5_000)).toBe(false);
    });

    it('releases only for the holder token, after which the key is free', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      expect(await store.release(key, 'intruder')).toBe(false);
      expect(await store.release(key, 't1')).toBe(true);
      expect(await store.acquire(key, 't2', 'other', 5_000)).toEqual({ status: 'acquired' });
    });

    it('lets another token take the key once the lease lapses, and refuses the old holder afterwards', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 100);
      await sleep(250);
      expect(await store.acquire(key, 't2', 'fp', 5_000)).toEqual({ status: 'acquired' });
      expect(await store.renew(key, 't1', 5_000)).toBe(false);
      expect(await store.complete(key, 't1', 'fp', 'stale', 60_000)).toBe(false);
      expect(await store.release(key, 't1')).toBe(false);
    });

    it('forgets a completed record after its ttl', async () => {
      const store = getStore();
      const key = k();
      await store.acquire(key, 't1', 'fp', 5_000);
      await store.complete(key, 't1', 'fp', 'v1', 100);
      await sleep(250);
      expect(await store.acquire(key, 't2', 'fp', 5_000)).toEqual({ status: 'acquired' });
    });

    it('gives the key to exactly one of 200 concurrent acquires', async () => {
      const store = getStore();
      const key = k();
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.acquire(key, `t${i}`, 'fp', 5_000)));
      expect(results.filter((r) => r.status === 'acquired')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'in-progress')).toHaveLength(199);
    });
  });
}
