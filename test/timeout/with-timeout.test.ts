import { getEventListeners, setMaxListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { HeadroomError, isHeadroomError } from '../../src/core/index.js';
import { deadlineTimerState } from '../../src/core/index.js';
import { TimeoutError, withTimeout } from '../../src/timeout/index.js';
import { flush, trackUnhandledRejections } from '../support/async.js';
import { useTestClock } from '../support/test-clock.js';
import { timerLag } from '../ratelimit/timer-lag.js';

const never = <T = never>(): Promise<T> => new Promise<T>(() => {});

/**
 * Lets `ms` pass on a test clock that drives the shared deadline timer (no real time passes),
 * then hands back `pending`: a deadline armed before keeps the time it had left.
 */
async function after<T>(ms: number, pending: Promise<T>): Promise<T> {
  pending.catch(() => {}); // settled while the clock moves; the caller looks at it after
  await useTestClock().advance(ms);
  return pending;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

const unhandled = trackUnhandledRejections();

describe('withTimeout: settling before the deadline', () => {
  it('resolves with the value of a promise that settles in time', async () => {
    await expect(withTimeout(Promise.resolve(42), 1000)).resolves.toBe(42);
  });

  it('resolves with the value of a function that settles in time, passing it a live signal', async () => {
    let seen: AbortSignal | undefined;
    const value = await withTimeout(async (signal) => {
      seen = signal;
      await flush();
      return 'ok';
    }, '1s');
    expect(value).toBe('ok');
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen?.aborted).toBe(false);
  });

  it('does not abort the signal after the function settles in time', async () => {
    let seen: AbortSignal | undefined;
    const clock = useTestClock();
    await withTimeout(async (signal) => {
      seen = signal;
      return 1;
    }, 20);
    await clock.advance(60);
    expect(seen?.aborted).toBe(false);
  });

  it('accepts a function returning a plain value', async () => {
    await expect(withTimeout(() => 7, 1000)).resolves.toBe(7);
  });

  it('accepts a non-native thenable', async () => {
    const thenable: PromiseLike<string> = {
      then(onFulfilled) {
        setTimeout(() => void onFulfilled?.('thenable'), 1);
        return this as never;
      },
    };
    await expect(withTimeout(thenable, 1000)).resolves.toBe('thenable');
  });

  it('rejects with the error of a promise that rejects in time', async () => {
    const boom = new Error('boom');
    await expect(withTimeout(Promise.reject(boom), 1000)).rejects.toBe(boom);
  });

  it('rejects with the error a function throws synchronously', async () => {
    const boom = new Error('sync');
    await expect(
      withTimeout(() => {
        throw boom;
      }, 1000),
    ).rejects.toBe(boom);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('rejects with the error of a thenable whose then() throws', async () => {
    const boom = new Error('bad thenable');
    const thenable = {
      then(): never {
        throw boom;
      },
    } as unknown as PromiseLike<number>;
    await expect(withTimeout(thenable, 1000)).rejects.toBe(boom);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('disarms its deadline as soon as the operation settles, whichever way', async () => {
    const calls = [
      withTimeout(Promise.resolve(1), 5000),
      withTimeout(Promise.reject(new Error('x')), 5000).catch(() => 'caught'),
      withTimeout(async () => 2, 5000),
      withTimeout(
        flush().then(() => 3),
        5000,
      ),
    ];
    expect(deadlineTimerState().armed).toBeGreaterThan(0);
    expect(deadlineTimerState().timerRefed).toBe(true);
    await Promise.all(calls);
    expect(deadlineTimerState().armed).toBe(0);
    // A timer may still be set for the earliest old deadline, but it no longer holds the process.
    expect(deadlineTimerState().timerRefed).toBe(false);
  });
});

describe('withTimeout: expiry', () => {
  it('rejects with TimeoutError (OPERATION_TIMEOUT, 504, operation, timeoutMs)', async () => {
    const error = await after(20, withTimeout(never(), 20, 'scenario_list')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(HeadroomError);
    expect(isHeadroomError(error, 'OPERATION_TIMEOUT')).toBe(true);
    const timeout = error as TimeoutError;
    expect(timeout.code).toBe('OPERATION_TIMEOUT');
    expect(timeout.status).toBe(504);
    expect(timeout.operation).toBe('scenario_list');
    expect(timeout.timeoutMs).toBe(20);
    expect(timeout.message).toContain('scenario_list');
  });

  it('takes the name from the options object', async () => {
    const error = (await after(10, withTimeout(never(), 10, { name: 'pricing_api' })).catch((e: unknown) => e)) as TimeoutError;
    expect(error.operation).toBe('pricing_api');
  });

  it('reads duration strings', async () => {
    const error = (await after(15, withTimeout(never(), '15ms')).catch((e: unknown) => e)) as TimeoutError;
    expect(error.timeoutMs).toBe(15);
    expect(error.operation).toBeUndefined();
  });

  it('aborts the function signal with the TimeoutError as reason', async () => {
    let seen: AbortSignal | undefined;
    const error = await after(
      20,
      withTimeout((signal) => {
        seen = signal;
        return never();
      }, 20),
    ).catch((e: unknown) => e);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('lets work that listens to its signal stop at the deadline', async () => {
    let stopped = false;
    const work = (signal: AbortSignal): Promise<string> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve('late'), 5000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          stopped = true;
          reject(signal.reason);
        });
      });
    await expect(after(20, withTimeout(work, 20))).rejects.toBeInstanceOf(TimeoutError);
    expect(stopped).toBe(true);
  });

  it('ignores the operation settling after the deadline, and its late rejection is handled', async () => {
    const clock = useTestClock();
    const late = clock.sleep(40).then(() => {
      throw new Error('late failure');
    });
    const call = withTimeout(late, 10).catch((e: unknown) => e);
    await clock.advance(10);
    expect(await call).toBeInstanceOf(TimeoutError);
    await clock.advance(50); // the late rejection happens
    expect(unhandled).toEqual([]);
  });

  it('times out a never-settling operation with a zero timeout', async () => {
    await expect(withTimeout(never(), 0)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('lets an already-resolved promise win against a zero timeout', async () => {
    await expect(withTimeout(Promise.resolve('first'), 0)).resolves.toBe('first');
  });

  it('never fires early and fires within a few ms, for interleaved durations', async () => {
    const durations = [60, 20, 100, 40, 20, 80, 60, 30];
    const start = performance.now();
    // A plain timer beside them says how late this machine runs timers right now.
    const lag = timerLag(100);
    const firedAfter = await Promise.all(durations.map((ms) => withTimeout(never(), ms).catch(() => performance.now() - start)));
    const machineLag = await lag;
    firedAfter.forEach((elapsed, i) => {
      const ms = durations[i] as number;
      expect(elapsed).toBeGreaterThanOrEqual(ms);
      // Within a few ms of the deadline, beyond what a plain timer was late by at the same time.
      expect(elapsed).toBeLessThan(ms + 60 + machineLag);
    });
  });

  it('expires only the calls still pending among many sharing a duration', async () => {
    const clock = useTestClock();
    const all = Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        withTimeout(i % 2 === 0 ? clock.sleep(1).then(() => 'done') : never<string>(), 40).catch((e: unknown) =>
          e instanceof TimeoutError ? 'timeout' : 'other',
        ),
      ),
    );
    await clock.advance(40);
    const results = await all;
    expect(results.filter((r) => r === 'done')).toHaveLength(100);
    expect(results.filter((r) => r === 'timeout')).toHaveLength(100);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('handles deadlines beyond setTimeout range without firing early or warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const cancel = new AbortController();
    try {
      const clock = useTestClock();
      let outcome = 'pending';
      void withTimeout(never(), 3_000_000_000, { signal: cancel.signal }).then(
        () => (outcome = 'settled'),
        (e: unknown) => (outcome = e instanceof TimeoutError ? 'timed out' : 'rejected'),
      );
      await clock.advance(2_999_999_999);
      expect(outcome).toBe('pending');
      await clock.advance(1);
      expect(outcome).toBe('timed out');
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      cancel.abort();
    }
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('keeps the number of internal lists bounded when every call uses a different timeout', async () => {
    await Promise.all(Array.from({ length: 300 }, (_, i) => withTimeout(Promise.resolve(i), 1000 + i)));
    expect(deadlineTimerState().lists).toBeLessThanOrEqual(17);
  });
});

describe('withTimeout: fallback', () => {
  it('resolves with a fallback value on expiry', async () => {
    await expect(after(10, withTimeout(never<string>(), 10, { fallback: 'cached' }))).resolves.toBe('cached');
  });

  it('resolves with undefined when fallback is explicitly undefined', async () => {
    await expect(after(10, withTimeout(never<string | undefined>(), 10, { fallback: undefined }))).resolves.toBeUndefined();
  });

  it('calls a fallback function with the TimeoutError and resolves with its result', async () => {
    const fallback = vi.fn((error: TimeoutError) => `fallback after ${error.timeoutMs}`);
    await expect(after(10, withTimeout(never<string>(), 10, { name: 'x', fallback }))).resolves.toBe('fallback after 10');
    expect(fallback).toHaveBeenCalledOnce();
    expect(fallback.mock.calls[0]?.[0]).toBeInstanceOf(TimeoutError);
  });

  it('resolves with the promise a fallback function returns', async () => {
    await expect(after(10, withTimeout(never<number>(), 10, { fallback: async () => 5 }))).resolves.toBe(5);
  });

  it('rejects with the error a fallback function throws', async () => {
    const boom = new Error('fallback failed');
    await expect(
      after(
        10,
        withTimeout(never<number>(), 10, {
          fallback: () => {
            throw boom;
          },
        }),
      ),
    ).rejects.toBe(boom);
  });

  it('still aborts the work when a fallback answers', async () => {
    let seen: AbortSignal | undefined;
    await after(
      10,
      withTimeout(
        (signal) => {
          seen = signal;
          return never<number>();
        },
        10,
        { fallback: 0 },
      ),
    );
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TimeoutError);
  });

  it('does not use the fallback when the operation fails in time', async () => {
    const boom = new Error('real failure');
    await expect(withTimeout(Promise.reject(boom), 1000, { fallback: 'nope' })).rejects.toBe(boom);
  });
});

describe('withTimeout: parent signal', () => {
  it('rejects with the parent reason and aborts the work when the parent aborts first', async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const call = withTimeout(
      (signal) => {
        seen = signal;
        return never();
      },
      5000,
      { signal: parent.signal },
    );
    const reason = new Error('client went away');
    parent.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(reason);
    expect(abortListeners(parent.signal)).toBe(0);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('rejects at once with the reason of an already aborted parent, without calling the function', async () => {
    const parent = new AbortController();
    parent.abort(new Error('already'));
    const fn = vi.fn(async () => 1);
    await expect(withTimeout(fn, 1000, { signal: parent.signal })).rejects.toThrow('already');
    expect(fn).not.toHaveBeenCalled();
    expect(abortListeners(parent.signal)).toBe(0);
  });

  it('handles a later rejection of a promise when the parent was already aborted', async () => {
    const parent = new AbortController();
    parent.abort('gone');
    const clock = useTestClock();
    const late = clock.sleep(10).then(() => {
      throw new Error('late');
    });
    await expect(withTimeout(late, 1000, { signal: parent.signal })).rejects.toBe('gone');
    await clock.advance(30);
    expect(unhandled).toEqual([]);
  });

  it('rejects a plain promise with the parent reason', async () => {
    const parent = new AbortController();
    const call = withTimeout(never(), 5000, { signal: parent.signal });
    parent.abort('stop');
    await expect(call).rejects.toBe('stop');
  });

  it('removes its listener from the parent signal whichever way the call settles', async () => {
    const parent = new AbortController();
    const { signal } = parent;
    await withTimeout(Promise.resolve(1), 1000, { signal });
    expect(abortListeners(signal)).toBe(0);
    await withTimeout(Promise.reject(new Error('x')), 1000, { signal }).catch(() => undefined);
    expect(abortListeners(signal)).toBe(0);
    await withTimeout(async (s) => s.aborted, 1000, { signal });
    expect(abortListeners(signal)).toBe(0);
    await withTimeout(never(), 10, { signal }).catch(() => undefined);
    expect(abortListeners(signal)).toBe(0);
    await withTimeout(never(), 10, { signal, fallback: 1 });
    expect(abortListeners(signal)).toBe(0);
  });

  it('does not pile up listeners on a long-lived parent signal', async () => {
    const parent = new AbortController();
    // 500 calls are in flight at once here, each with its listener until it settles.
    setMaxListeners(1000, parent.signal);
    await Promise.all(Array.from({ length: 500 }, (_, i) => withTimeout(Promise.resolve(i), 1000, { signal: parent.signal })));
    expect(abortListeners(parent.signal)).toBe(0);
  });

  it('ignores a parent that aborts after the call settled', async () => {
    const parent = new AbortController();
    await expect(withTimeout(Promise.resolve('done'), 1000, { signal: parent.signal })).resolves.toBe('done');
    parent.abort();
    await flush();
    expect(unhandled).toEqual([]);
  });
});

describe('withTimeout: bad arguments', () => {
  const cases: [string, () => unknown, string][] = [
    ['a negative timeout', () => withTimeout(Promise.resolve(1), -1), 'timeout'],
    ['a NaN timeout', () => withTimeout(Promise.resolve(1), Number.NaN), 'timeout'],
    ['an infinite timeout', () => withTimeout(Promise.resolve(1), Infinity), 'timeout'],
    ['a malformed duration string', () => withTimeout(Promise.resolve(1), '5 minutes' as never), 'timeout'],
    ['a missing operation', () => withTimeout(undefined as never, 100), 'operation'],
    ['a non-promise operation', () => withTimeout(42 as never, 100), 'operation'],
    ['an object without then', () => withTimeout({} as never, 100), 'operation'],
    ['options that are not an object', () => withTimeout(Promise.resolve(1), 100, 5 as never), 'options'],
    ['a name that is not a string', () => withTimeout(Promise.resolve(1), 100, { name: 5 as never }), 'options.name'],
    ['a signal that is not an AbortSignal', () => withTimeout(Promise.resolve(1), 100, { signal: {} as never }), 'options.signal'],
  ];
  for (const [what, call, argument] of cases) {
    it(`throws INVALID_ARGUMENT naming ${argument} for ${what}`, () => {
      let thrown: unknown;
      try {
        call();
      } catch (err) {
        thrown = err;
      }
      expect(isHeadroomError(thrown, 'INVALID_ARGUMENT')).toBe(true);
      expect((thrown as { argument: string }).argument).toBe(argument);
      expect(deadlineTimerState().armed).toBe(0);
    });
  }
});
