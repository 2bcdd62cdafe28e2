import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScript } from '../support/child-script.js';

const entry = resolve(import.meta.dirname, '../../src/resilience/index.ts');

describe('resilience: nothing holds the process', () => {
  it('lets a process whose only work was settled policies exit at once', async () => {
    const result = await runScript(`
import { CircuitBreaker, FallbackPolicy, HedgePolicy, RetryBudget, RetryPolicy, TimeoutPolicy, pipeline } from ${JSON.stringify(entry)};
const budget = new RetryBudget();
const caller = new AbortController();
const signal = caller.signal;
// Long deadlines, cooldowns and delays everywhere: none of them may keep the process alive.
await new RetryPolicy({ deadline: '10m', budget }).execute(() => 'ok', { signal });
await new RetryPolicy({ backoff: { initial: 1 } }).execute(({ attempt }) => (attempt === 1 ? Promise.reject(Object.assign(new Error('x'), { status: 503 })) : 'ok'));
const breaker = new CircuitBreaker({ name: 'db', trip: { consecutive: 1 }, cooldown: '10m' });
await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
await breaker.execute(() => 'refused').catch(() => undefined);
await new TimeoutPolicy('10m').execute(() => 'ok', { signal });
await new HedgePolicy({ delay: '10m', budget }).execute(() => 'ok', { signal });
await new HedgePolicy({ delay: 5 }).execute(({ attempt, signal }) =>
  attempt === 1 ? new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))) : 'hedge',
);
await pipeline(new FallbackPolicy({ value: 0 }), new RetryPolicy({ deadline: '10m' }), new CircuitBreaker({ name: 'x', cooldown: '10m' }), new TimeoutPolicy('10m'), new HedgePolicy({ delay: '10m' }))
  .execute(() => Promise.reject(new Error('final')), { signal });
console.log('done');
`);
    expect(result.output).toContain('done');
    expect(result.code).toBe(0);
    // Deadlines, cooldowns and hedge delays were minutes away: exiting within a couple of seconds
    // proves that no timer or listener kept the event loop alive.
    expect(result.afterDoneMs).toBeLessThan(2_000);
  });
});
