import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { MemoryRateLimitStore, RateLimiter } from '../../src/ratelimit/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

it('stays within maxKeys under 1 million distinct keys, with a flat heap', async () => {
  const store = new MemoryRateLimitStore({ maxKeys: 10_000 });
  const limiter = new RateLimiter({ limit: 10, window: '1m', store });
  const heaps: number[] = [];
  let n = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < 100_000; i++) void limiter.take(`client-${n++}`);
    // Let the answered promises go.
    await new Promise((resolve) => setImmediate(resolve));
    heaps.push(heapAfterGc());
    expect(store.stats().keys).toBe(10_000);
  }
  expect(store.stats()).toEqual({ keys: 10_000, maxKeys: 10_000, names: 1, evictions: 1_000_000 - 10_000 });
  expect(limiter.stats().allowed).toBe(1_000_000);
  // From the first 100k keys on, the heap does not grow with the key count (a leak of even 8
  // bytes a key would add 7 MB over the 900k keys that follow).
  const growth = Math.max(...heaps.slice(1)) - heaps[0]!;
  expect(growth, heaps.map((h) => (h / 1e6).toFixed(1)).join(' MB, ')).toBeLessThan(2_000_000);
}, 60_000);
