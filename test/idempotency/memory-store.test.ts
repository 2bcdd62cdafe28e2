import { describe, expect, it } from 'vitest';
import { MemoryIdempotencyStore, isHeadroomError } from '../../src/idempotency/index.js';
import { storeContract } from './store-contract.js';

storeContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore({ maxEntries: 10_000 }));

describe('MemoryIdempotencyStore', () => {
  it('holds at most maxEntries records, dropping the least recently used', async () => {
    const store = new MemoryIdempotencyStore({ maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) {
      await store.acquire(`k${i}`, 't', '', 60_000);
      await store.complete(`k${i}`, 't', '', `v${i}`, 60_000);
    }
    expect(store.size).toBe(100);
    expect(await store.acquire('k999', 't2', '', 60_000)).toEqual({ status: 'completed', fingerprint: '', value: 'v999' });
    expect(await store.acquire('k0', 't2', '', 60_000)).toEqual({ status: 'acquired' });
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
