import { describe, expect, it } from 'vitest';
import { Idempotency, MemoryIdempotencyStore, isHeadroomError, type AcquireResult } from '../../src/idempotency/index.js';
import { storeContract } from './store-contract.js';

storeContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore({ maxEntries: 10_000 }));

describe('MemoryIdempotencyStore', () => {
  it("calls a subclass's own acquire and complete: Idempotency uses only the store interface", async () => {
    const calls: string[] = [];
    class AuditedStore extends MemoryIdempotencyStore {
      override acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
        calls.push(`acquire ${key}`);
        return super.acquire(key, token, fingerprint, lockTtlMs);
      }
      override complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean> {
        calls.push(`complete ${key}`);
        return super.complete(key, token, fingerprint, value, ttlMs);
      }
    }
    const idempotency = new Idempotency({ store: new AuditedStore() });
    expect(await idempotency.run('k', () => 1)).toBe(1);
    expect(await idempotency.run('k', () => 2)).toBe(1);
    expect(calls).toEqual(['acquire :k', 'complete :k', 'acquire :k']);
  });

  it('rejects bad run() arguments as promises, never by throwing synchronously', async () => {
    const idempotency = new Idempotency({ store: new MemoryIdempotencyStore() });
    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = idempotency.run('', () => 1);
    }).not.toThrow();
    await expect(pending).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(idempotency.run('k', () => 1, { wait: 'soon' as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('holds at most maxEntries records, dropping the least recently used', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) {
      await store.acquire(`k${i}`, 't', '', 60_000);
      await store.complete(`k${i}`, 't', '', `v${i}`, 60_000);
    }
    expect(store.size).toBe(100);
    expect(await store.acquire('k999', 't2', '', 60_000)).toMatchObject({ status: 'completed', fingerprint: '', value: 'v999' });
    expect(await store.acquire('k0', 't2', '', 60_000)).toEqual({ status: 'acquired' });
  });

  it('keeps a record it was asked about, and drops the one untouched longest', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 3 });
    for (const key of ['a', 'b', 'c']) {
      await store.acquire(key, 't', '', 60_000);
      await store.complete(key, 't', '', key, 60_000);
    }
    await store.acquire('a', 'other', '', 60_000); // a replay: 'a' is now the most recently used
    await store.acquire('d', 't', '', 60_000); // pushes out 'b'
    expect(store.size).toBe(3);
    expect(await store.acquire('a', 'x', '', 60_000)).toMatchObject({ status: 'completed', value: 'a' });
    expect(await store.acquire('c', 'x', '', 60_000)).toMatchObject({ status: 'completed', value: 'c' });
    expect(await store.acquire('d', 'x', '', 60_000)).toMatchObject({ status: 'in-progress' });
    expect(await store.acquire('b', 'x', '', 60_000)).toEqual({ status: 'acquired' });
    // released and re-acquired keys keep the list consistent
    expect(await store.release('b', 'x')).toBe(true);
    expect(store.size).toBe(3 - 1);
    for (let i = 0; i < 10; i++) await store.acquire(`n${i}`, 't', '', 60_000);
    expect(store.size).toBe(3);
    expect(await store.acquire('n9', 'y', '', 60_000)).toMatchObject({ status: 'in-progress' });
    expect(await store.acquire('n6', 'y', '', 60_000)).toEqual({ status: 'acquired' });
    store.clear();
    expect(store.size).toBe(0);
    await store.acquire('z', 't', '', 60_000);
    expect(store.size).toBe(1);
  });

  it('defaults to 10 000 entries', () => {
    expect(new MemoryIdempotencyStore().maxEntries).toBe(10_000);
  });

  it.each([0, -1, 1.5, '10', Number.NaN])('rejects maxEntries %s with INVALID_ARGUMENT naming it', (maxEntries) => {
    let caught: unknown;
    try {
      new MemoryIdempotencyStore({ maxEntries: maxEntries as number });
    } catch (err) {
      caught = err;
    }
    expect(isHeadroomError(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).toContain('maxEntries');
  });

  it('empties on clear()', async () => {
    const store = new MemoryIdempotencyStore();
    await store.acquire('a', 't', '', 1_000);
    store.clear();
    expect(store.size).toBe(0);
  });
});
