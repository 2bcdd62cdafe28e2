import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CircuitBreaker,
  FallbackPolicy,
  HedgePolicy,
  RetryBudget,
  RetryPolicy,
  TimeoutError,
  TimeoutPolicy,
  isHeadroomError,
  pipeline,
  type ExecuteContext,
  type Policy,
} from '../../src/resilience/index.js';
import { deadlineTimerState } from '../../src/core/index.js';
import { deferred } from '../support/async.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Never settles unless its signal aborts; then rejects with the reason. */
const hang = ({ signal }: ExecuteContext): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

describe('TimeoutPolicy', () => {
  it('rejects with TimeoutError at the deadline and aborts the attempt', async () => {
    let seen: AbortSignal | undefined;
    const started = performance.now();
    const error = await new TimeoutPolicy(30, { name: 'inventory' })
      .execute((context) => {
        seen = context.signal;
        return hang(context);
      })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'OPERATION_TIMEOUT', status: 504, timeoutMs: 30, operation: 'inventory' });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('gives a late reader of the signal one that is already aborted', async () => {
    let context: ExecuteContext | undefined;
    const gate = deferred<string>();
    const result = new TimeoutPolicy(20).execute((c) => {
      context = c;
      return gate.promise;
    });
    await expect(result).rejects.toBeInstanceOf(TimeoutError);
    expect(context?.signal.aborted).toBe(true);
    gate.resolve('too late');
  });

  it('resolves and disarms at once when the attempt answers first', async () => {
    await expect(new TimeoutPolicy('10m').execute(() => 'quick')).resolves.toBe('quick');
    await expect(new TimeoutPolicy('10m').execute(async () => 'async')).resolves.toBe('async');
    await expect(
      new TimeoutPolicy('10m').execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(deadlineTimerState().armed).toBe(0);
  });

  it("rejects at once with the caller's reason when its signal aborts first", async () => {
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = new TimeoutPolicy('10m').execute(
      (context) => {
        seen = context.signal;
        return hang(context);
      },
      { signal: controller.signal },
    );
    controller.abort('client gone');
    await expect(result).rejects.toBe('client gone');
    expect(seen?.reason).toBe('client gone');
    expect(deadlineTimerState().armed).toBe(0);
  });
});

describe('FallbackPolicy', () => {
  it('answers with a value or a function of the failure', async () => {
    await expect(new FallbackPolicy({ value: 'default' }).execute(() => Promise.reject(new Error('x')))).resolves.toBe('default');
    await expect(new FallbackPolicy({ fn: (e) => `from ${(e as Error).message}` }).execute(() => Promise.reject(new Error('x')))).resolves.toBe('from x');
    await expect(new FallbackPolicy({ value: 'unused' }).execute(() => 'real')).resolves.toBe('real');
  });

  it('lets failures through that fallbackOn refuses, and the caller’s own abort', async () => {
    const picky = new FallbackPolicy({ value: 0, fallbackOn: (e) => isHeadroomError(e, 'CIRCUIT_OPEN') });
    await expect(picky.execute(() => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    const controller = new AbortController();
    const result = new FallbackPolicy({ value: 'nobody waits for this' }).execute(hang, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(result).rejects.toThrow('caller gave up');
  });
});

describe('pipeline', () => {
  it("wires each stage's signal to the next: an outer timeout aborts the innermost attempt", async () => {
    let inner: AbortSignal | undefined;
    const guarded = pipeline(new TimeoutPolicy(30), new CircuitBreaker({ name: 'p1' }));
    const error = await guarded
      .execute((context) => {
        inner = context.signal;
        return hang(context);
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(inner?.aborted).toBe(true);
  });

  it('retries timed-out attempts, each with a fresh signal and its attempt number', async () => {
    const seen: Array<{ attempt: number; signal: AbortSignal }> = [];
    const guarded = pipeline(new RetryPolicy({ maxAttempts: 3, backoff: { initial: 1 } }), new TimeoutPolicy(20));
    const result = await guarded.execute((context) => {
      seen.push({ attempt: context.attempt, signal: context.signal });
      return context.attempt < 3 ? hang(context) : 'third time';
    });
    expect(result).toBe('third time');
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    expect(seen.map((s) => s.signal.aborted)).toEqual([true, true, false]);
    expect(new Set(seen.map((s) => s.signal)).size).toBe(3);
  });

  it('counts timeouts as breaker failures, and CIRCUIT_OPEN stops the retries', async () => {
    const breaker = new CircuitBreaker({ name: 'p2', trip: { consecutive: 2 }, cooldown: '1m' });
    let calls = 0;
    const guarded = pipeline(new RetryPolicy({ maxAttempts: 5, backoff: { initial: 1 } }), breaker, new TimeoutPolicy(15));
    const error = await guarded
      .execute((context) => {
        calls++;
        return hang(context);
      })
      .catch((e: unknown) => e);
    expect(calls).toBe(2); // the third attempt met the open breaker
    expect(breaker.state).toBe('open');
    expect(isHeadroomError(error, 'CIRCUIT_OPEN')).toBe(true);
  });

  it('falls back outermost on whatever the inner stages give up with', async () => {
    const breaker = new CircuitBreaker({ name: 'p3' });
    breaker.isolate();
    const guarded = pipeline(new FallbackPolicy({ value: 'cached' }), new RetryPolicy(), breaker, new TimeoutPolicy('1s'));
    const answer: string = await guarded.execute(() => 'live');
    expect(answer).toBe('cached');
  });

  it('keeps a hedge inside the timeout and the breaker: its attempts are one call to them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const breaker = new CircuitBreaker({ name: 'p4', trip: { consecutive: 1 } });
    const gates: Array<ReturnType<typeof deferred<string>>> = [];
    const guarded = pipeline(breaker, new HedgePolicy({ delay: 10 }));
    const result = guarded.execute(() => {
      const gate = deferred<string>();
      gates.push(gate);
      return gate.promise;
    });
    await vi.advanceTimersByTimeAsync(10);
    expect(gates).toHaveLength(2);
    gates[0]?.reject(new Error('first attempt failed'));
    gates[1]?.resolve('hedge');
    await expect(result).resolves.toBe('hedge');
    expect(breaker.stats()).toMatchObject({ state: 'closed', successes: 1, failures: 0 });
  });

  it("follows the caller's signal through every stage", async () => {
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const guarded = pipeline(new RetryPolicy(), new CircuitBreaker({ name: 'p5' }), new TimeoutPolicy('10m'));
    const result = guarded.execute(
      (context) => {
        inner = context.signal;
        return hang(context);
      },
      { signal: controller.signal },
    );
    controller.abort('client gone');
    await expect(result).rejects.toBe('client gone');
    expect(inner?.reason).toBe('client gone');
  });

  it('shares one budget between stages and pipelines', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.1, window: '10s' }); // one retry in all
    const a = pipeline(new RetryPolicy({ budget, backoff: { initial: 1 } }));
    const b = pipeline(new RetryPolicy({ budget, backoff: { initial: 1 } }));
    let calls = 0;
    const failing = (): Promise<never> => {
      calls++;
      return Promise.reject(Object.assign(new Error('x'), { status: 503 }));
    };
    const both = Promise.allSettled([a.execute(failing), b.execute(failing)]);
    await vi.runAllTimersAsync();
    await both;
    expect(calls).toBe(3);
  });

  it('runs any object with execute(fn, options) as a stage, and nests pipelines', async () => {
    const log: string[] = [];
    const logged: Policy = {
      async execute(fn, options) {
        log.push('before');
        try {
          return await fn({ signal: options?.signal ?? new AbortController().signal, attempt: 1 });
        } finally {
          log.push('after');
        }
      },
    };
    const inner = pipeline(logged, new TimeoutPolicy('1s'));
    const outer = pipeline(new FallbackPolicy({ value: -1 }), inner);
    await expect(outer.execute(({ attempt }) => attempt * 10)).resolves.toBe(10);
    await expect(outer.execute(() => Promise.reject(new Error('x')))).resolves.toBe(-1);
    expect(log).toEqual(['before', 'after', 'before', 'after']);
  });
});
