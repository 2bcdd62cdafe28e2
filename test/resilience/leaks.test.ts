import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deadlineTimerState } from '../../src/core/index.js';
import {
  CircuitBreaker,
  FallbackPolicy,
  HedgePolicy,
  RetryBudget,
  RetryPolicy,
  TimeoutPolicy,
  pipeline,
  type ExecuteContext,
  type Policy,
} from '../../src/resilience/index.js';
import { flush, sleep } from '../support/async.js';

/** Rejects with the signal's reason when it aborts; otherwise answers after `ms`. */
const work =
  (ms: number, outcome: 'ok' | 'fail' = 'ok') =>
  ({ signal }: ExecuteContext): Promise<string> =>
    new Promise((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        if (outcome === 'ok') resolve('ok');
        else reject(Object.assign(new Error('unavailable'), { status: 503 }));
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });

const LIBRARY = fileURLToPath(new URL('../../src/', import.meta.url));

/** Timers keeping the event loop alive right now. */
const liveTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

interface Scenario {
  name: string;
  policy: () => Policy<unknown>;
  fn: (context: ExecuteContext) => unknown;
  /** Abort the caller's signal after this many ms. */
  abortAfter?: number;
}

const scenarios: Scenario[] = [
  { name: 'retry: first attempt succeeds', policy: () => new RetryPolicy(), fn: work(1) },
  { name: 'retry: fails, waits, succeeds', policy: () => new RetryPolicy({ backoff: { initial: 2 } }), fn: flakyOnce() },
  { name: 'retry: gives up', policy: () => new RetryPolicy({ maxAttempts: 2, backoff: { initial: 2 } }), fn: work(1, 'fail') },
  {
    name: 'retry: caller aborts during a wait',
    policy: () => new RetryPolicy({ backoff: { initial: '1m', jitter: 'none' } }),
    fn: work(1, 'fail'),
    abortAfter: 10,
  },
  { name: 'retry: deadline passes mid-attempt', policy: () => new RetryPolicy({ deadline: 10 }), fn: work(1_000) },
  { name: 'retry: budget refuses', policy: () => new RetryPolicy({ budget: new RetryBudget({ ratio: 0, minPerSecond: 0 }) }), fn: work(1, 'fail') },
  { name: 'breaker: success', policy: () => new CircuitBreaker({ name: 'a' }), fn: work(1) },
  { name: 'breaker: failure', policy: () => new CircuitBreaker({ name: 'b' }), fn: work(1, 'fail') },
  { name: 'breaker: refused', policy: () => isolated(), fn: work(1) },
  { name: 'timeout: answers first', policy: () => new TimeoutPolicy('10m'), fn: work(1) },
  { name: 'timeout: expires', policy: () => new TimeoutPolicy(5), fn: work(1_000) },
  { name: 'timeout: caller aborts', policy: () => new TimeoutPolicy('10m'), fn: work(1_000), abortAfter: 5 },
  { name: 'hedge: first attempt answers', policy: () => new HedgePolicy({ delay: '10m' }), fn: work(1) },
  { name: 'hedge: the hedge wins, the loser is aborted', policy: () => new HedgePolicy({ delay: 5 }), fn: slowFirst() },
  { name: 'hedge: caller aborts', policy: () => new HedgePolicy({ delay: 5 }), fn: work(1_000), abortAfter: 15 },
  { name: 'fallback', policy: () => new FallbackPolicy({ value: 'x' }), fn: work(1, 'fail') },
  {
    name: 'pipeline: fallback, retry, breaker, timeout, hedge',
    policy: () =>
      pipeline(
        new FallbackPolicy({ value: 'x' }),
        new RetryPolicy({ backoff: { initial: 1 } }),
        new CircuitBreaker({ name: 'c' }),
        new TimeoutPolicy(20),
        new HedgePolicy({ delay: 5 }),
      ),
    fn: work(1_000),
  },
  {
    name: 'pipeline: caller aborts',
    policy: () => pipeline(new RetryPolicy(), new CircuitBreaker({ name: 'd' }), new TimeoutPolicy('10m')),
    fn: work(1_000),
    abortAfter: 5,
  },
];

function flakyOnce(): (context: ExecuteContext) => Promise<string> {
  let calls = 0;
  return (context) => work(1, ++calls === 1 ? 'fail' : 'ok')(context);
}

function slowFirst(): (context: ExecuteContext) => Promise<string> {
  return (context) => work(context.attempt === 1 ? 1_000 : 1)(context);
}

function isolated(): CircuitBreaker {
  const breaker = new CircuitBreaker({ name: 'isolated' });
  breaker.isolate();
  return breaker;
}

describe('nothing outlives a settled execute', () => {
  it.each(scenarios)('$name', async ({ policy: make, fn, abortAfter }) => {
    const policy = make();
    const controller = new AbortController();
    await flush();
    const timersBefore = liveTimers();
    // Promises made by the library (the test runner makes its own meanwhile, which do not count).
    const pending = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type === 'PROMISE' && new Error().stack?.includes(LIBRARY) === true) pending.add(id);
      },
      promiseResolve(id) {
        pending.delete(id);
      },
    });
    hook.enable();
    try {
      const result = policy.execute(fn, { signal: controller.signal });
      if (abortAfter !== undefined) setTimeout(() => controller.abort(new Error('caller gave up')), abortAfter);
      await result.then(
        () => undefined,
        () => undefined,
      );
      // Let the work that lost (aborted attempts, cancelled waits) settle too.
      await sleep(abortAfter === undefined ? 0 : 5);
      await flush();
    } finally {
      hook.disable();
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(deadlineTimerState().armed).toBe(0);
    expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
    expect(pending.size).toBe(0);
  });
});
