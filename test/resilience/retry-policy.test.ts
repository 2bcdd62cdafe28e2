import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BrokenCircuitError,
  HeadroomError,
  RetryBudget,
  RetryPolicy,
  TimeoutError,
  isTransientFailure,
  type ExecuteContext,
  type GiveUpReason,
} from '../../src/resilience/index.js';

/** An error as an HTTP client would throw it. */
const httpError = (status: number, headers?: Record<string, string>): Error => Object.assign(new Error(`HTTP ${status}`), { status, headers });
const networkError = (): Error => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** A dependency that fails its first `failures` calls with `error`, then answers `value`. */
function flaky<T>(failures: number, error: () => unknown, value: T) {
  const seen: ExecuteContext[] = [];
  const fn = async (context: ExecuteContext): Promise<T> => {
    seen.push({ attempt: context.attempt, signal: context.signal });
    if (seen.length <= failures) throw error();
    return value;
  };
  return { fn, seen };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('RetryPolicy', () => {
  it('resolves on the first success without waiting', async () => {
    const { fn, seen } = flaky(0, networkError, 'ok');
    await expect(new RetryPolicy().execute(fn)).resolves.toBe('ok');
    expect(seen.map((s) => s.attempt)).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries transient failures with exponential backoff, numbering the attempts', async () => {
    const retry = new RetryPolicy({ maxAttempts: 4, backoff: { initial: '100ms', max: '10s', jitter: 'none' } });
    const delays: number[] = [];
    retry.on('retry', ({ delayMs }) => delays.push(delayMs));
    const { fn, seen } = flaky(3, () => httpError(503), 'ok');
    const result = retry.execute(fn);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(200 + 400);
    await expect(result).resolves.toBe('ok');
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3, 4]);
    expect(delays).toEqual([100, 200, 400]);
  });

  it('caps waits at backoff.max and spreads them with full jitter', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const retry = new RetryPolicy({ maxAttempts: 6, backoff: { initial: 100, max: 300 } });
    const delays: number[] = [];
    retry.on('retry', ({ delayMs }) => delays.push(delayMs));
    const { fn } = flaky(5, networkError, 'ok');
    const result = retry.execute(fn);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    // Ceilings 100, 200, 300 (capped), 300, 300; full jitter takes half of each here.
    expect(delays).toEqual([50, 100, 150, 150, 150]);
  });

  it('keeps decorrelated waits between initial and three times the previous one', async () => {
    const random = vi.spyOn(Math, 'random');
    const retry = new RetryPolicy({ maxAttempts: 5, backoff: { initial: 100, max: 10_000, jitter: 'decorrelated' } });
    const delays: number[] = [];
    retry.on('retry', ({ delayMs }) => delays.push(delayMs));
    random.mockReturnValueOnce(1).mockReturnValueOnce(1).mockReturnValueOnce(0).mockReturnValueOnce(0.5);
    const { fn } = flaky(4, networkError, 'ok');
    const result = retry.execute(fn);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    // upper = max(initial, 3 x previous): 100, 300, 900, 300 -> waits 100, 300, 100, 100 + 0.5 x 200.
    expect(delays).toEqual([100, 300, 100, 200]);
  });

  it.each([
    ['HTTP 503', () => httpError(503)],
    ['HTTP 429', () => httpError(429)],
    ['HTTP 504 (statusCode)', () => Object.assign(new Error('x'), { statusCode: 504 })],
    ['ECONNRESET', networkError],
    ['fetch failed with a socket cause', () => new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' }) })],
    ['QUEUE_FULL', () => new HeadroomError('QUEUE_FULL', 'full', { status: 503 })],
    ['OPERATION_TIMEOUT', () => new TimeoutError(10)],
    ['SERVICE_UNAVAILABLE', () => new HeadroomError('SERVICE_UNAVAILABLE', 'down', { status: 503 })],
  ])('retries a transient failure: %s', async (_name, error) => {
    expect(isTransientFailure(error())).toBe(true);
    const { fn, seen } = flaky(1, error, 'ok');
    const result = new RetryPolicy({ backoff: { initial: 1 } }).execute(fn);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(seen).toHaveLength(2);
  });

  it.each([
    ['HTTP 400', () => httpError(400)],
    ['HTTP 404', () => httpError(404)],
    ['HTTP 409', () => httpError(409)],
    ['HTTP 500', () => httpError(500)],
    ['a plain Error', () => new Error('bug')],
    ['an AbortError', () => new DOMException('aborted', 'AbortError')],
    ['CIRCUIT_OPEN', () => new BrokenCircuitError('db', 'open', 1000)],
    ['INVALID_ARGUMENT', () => new HeadroomError('INVALID_ARGUMENT', 'bad', { status: 400 })],
  ])('does not retry %s', async (_name, error) => {
    expect(isTransientFailure(error())).toBe(false);
    const reasons: GiveUpReason[] = [];
    const retry = new RetryPolicy();
    retry.on('give-up', ({ reason }) => reasons.push(reason));
    const { fn, seen } = flaky(1, error, 'ok');
    await expect(retry.execute(fn)).rejects.toThrow();
    expect(seen).toHaveLength(1);
    expect(reasons).toEqual(['not-retryable']);
  });

  it('rejects with the last failure once maxAttempts are spent', async () => {
    let n = 0;
    const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initial: 10, jitter: 'none' } });
    const gaveUp: Array<{ attempt: number; reason: GiveUpReason }> = [];
    retry.on('give-up', ({ attempt, reason }) => gaveUp.push({ attempt, reason }));
    const result = retry.execute(() => Promise.reject(httpError(503 + 0 * ++n)));
    const settled = expect(result).rejects.toMatchObject({ status: 503 });
    await vi.runAllTimersAsync();
    await settled;
    expect(n).toBe(3);
    expect(gaveUp).toEqual([{ attempt: 3, reason: 'attempts' }]);
  });

  it('uses retryOn instead of the default classification', async () => {
    const retryOn = vi.fn((error: unknown, attempt: number) => (error as Error).message === 'again' && attempt < 5);
    const { fn, seen } = flaky(2, () => new Error('again'), 'ok');
    const result = new RetryPolicy({ retryOn, backoff: { initial: 1 } }).execute(fn);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(seen).toHaveLength(3);
    expect(retryOn.mock.calls.map(([, attempt]) => attempt)).toEqual([1, 2]);
  });

  it("waits at least as long as the failure's retryAfterMs or Retry-After asks", async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initial: 10, max: '10s' } });
    const delays: number[] = [];
    retry.on('retry', ({ delayMs }) => delays.push(delayMs));
    const errors = [new HeadroomError('QUEUE_FULL', 'full', { status: 503, retryAfterMs: 1500 }), httpError(429, { 'retry-after': '2' })];
    const { fn } = flaky(2, () => errors.shift(), 'ok');
    const result = retry.execute(fn);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([1500, 2000]);
  });

  it('gives up at once when Retry-After asks for longer than backoff.max', async () => {
    const reasons: GiveUpReason[] = [];
    const retry = new RetryPolicy({ backoff: { max: '1s' } });
    retry.on('give-up', ({ reason }) => reasons.push(reason));
    const { fn, seen } = flaky(1, () => httpError(503, { 'retry-after': '30' }), 'ok');
    await expect(retry.execute(fn)).rejects.toMatchObject({ status: 503 });
    expect(seen).toHaveLength(1);
    expect(reasons).toEqual(['retry-after']);
  });

  it("never sleeps past the caller's signal: rejects at once with its reason and clears the wait", async () => {
    const controller = new AbortController();
    const { fn, seen } = flaky(5, networkError, 'ok');
    const result = new RetryPolicy({ backoff: { initial: '1m', jitter: 'none' } }).execute(fn, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1); // the one-minute wait
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(result).rejects.toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(seen).toHaveLength(1);
    // The attempts saw the caller's own signal.
    expect(seen[0]?.signal).toBe(controller.signal);
  });

  it('rejects at once when the signal is already aborted, without calling fn', async () => {
    const fn = vi.fn(async () => 'ok');
    await expect(new RetryPolicy().execute(fn, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(fn).not.toHaveBeenCalled();
  });

  it('does not start a wait that would end past the deadline', async () => {
    const reasons: GiveUpReason[] = [];
    const retry = new RetryPolicy({ maxAttempts: 10, deadline: '1s', backoff: { initial: 300, jitter: 'none' } });
    retry.on('give-up', ({ reason }) => reasons.push(reason));
    const { fn, seen } = flaky(10, networkError, 'ok');
    const result = retry.execute(fn);
    const settled = expect(result).rejects.toMatchObject({ code: 'ECONNRESET' });
    await vi.advanceTimersByTimeAsync(300); // attempt 2 at 300 ms; the next wait (600) would end at 900: allowed
    await vi.advanceTimersByTimeAsync(600); // attempt 3 at 900 ms; the next wait (1200) would pass 1 s
    await settled;
    expect(seen).toHaveLength(3);
    expect(reasons).toEqual(['deadline']);
  });

  it('aborts the attempt in flight at the deadline and rejects with TimeoutError', async () => {
    const signals: AbortSignal[] = [];
    const retry = new RetryPolicy({ deadline: '500ms', name: 'pricing' });
    const result = retry.execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          signals.push(signal);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    );
    const settled = expect(result).rejects.toBeInstanceOf(TimeoutError);
    await vi.advanceTimersByTimeAsync(500);
    await settled;
    await expect(result).rejects.toMatchObject({ code: 'OPERATION_TIMEOUT', operation: 'pricing', timeoutMs: 500 });
    expect(signals).toHaveLength(1);
    expect(signals[0]?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('accepts a plain value or a synchronous throw from fn', async () => {
    await expect(new RetryPolicy().execute(() => 42)).resolves.toBe(42);
    let calls = 0;
    const result = new RetryPolicy({ backoff: { initial: 1 } }).execute(() => {
      if (++calls === 1) throw networkError();
      return 'second';
    });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('second');
  });
});

describe('RetryPolicy with a RetryBudget', () => {
  it('keeps the extra calls against a dependency that fails every call within the budget', async () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 1, window: '10s' });
    const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initial: 10, max: 100 }, budget });
    const callers = 100;
    let calls = 0;
    const results = Array.from({ length: callers }, () =>
      retry.execute(async () => {
        calls++;
        throw httpError(503);
      }),
    );
    const settled = Promise.allSettled(results);
    await vi.runAllTimersAsync();
    expect((await settled).every((r) => r.status === 'rejected')).toBe(true);
    const floor = 1 * 10; // minPerSecond x window seconds
    const extra = calls - callers;
    console.log(
      `retry budget: ${callers} callers x maxAttempts 3 against a dependency failing 100% -> ${calls} calls ` +
        `(${extra} retries = ${((extra / callers) * 100).toFixed(0)}% extra; budget ${callers * 0.1} + floor ${floor}; without it ${callers * 3})`,
    );
    expect(calls).toBeLessThanOrEqual(callers * 1.1 + floor);
    expect(calls).toBeGreaterThan(callers); // the budget still allowed some
    // Each caller asks until it is refused once, or until its two retries are spent.
    const { requests, retries, refused } = budget.stats();
    expect({ requests, retries }).toEqual({ requests: callers, retries: extra });
    expect(refused).toBeGreaterThanOrEqual(callers - extra);
  });

  it('leaves retries untouched while the dependency is healthy', async () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0 });
    const retry = new RetryPolicy({ maxAttempts: 3, backoff: { initial: 1 }, budget });
    let calls = 0;
    // One call in twenty fails its first attempt: 5% retries, within a 10% budget.
    const results = Array.from({ length: 1000 }, (_, i) => {
      let failed = false;
      return retry.execute(async () => {
        calls++;
        if (i % 20 === 19 && !failed) {
          failed = true;
          throw networkError();
        }
        return i;
      });
    });
    const all = Promise.all(results);
    await vi.runAllTimersAsync();
    expect(await all).toHaveLength(1000);
    expect(calls).toBe(1050);
    expect(budget.stats()).toMatchObject({ requests: 1000, retries: 50, refused: 0 });
  });

  it('ages first attempts and retries out of the window', () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0, window: '10s', clock: { now: () => now } });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.stats()).toMatchObject({ requests: 10, allowed: 5, available: 5 });
    for (let i = 0; i < 5; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    now += 10_000;
    expect(budget.stats()).toMatchObject({ requests: 0, retries: 0, available: 0, refused: 1 });
    expect(budget.tryRetry()).toBe(false);
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
  });

  it('reports refusals to listeners, and a disposed listener hears nothing', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 });
    const heard: number[] = [];
    const off = budget.on('refused', ({ allowed }) => heard.push(allowed));
    expect(budget.tryRetry()).toBe(false);
    off();
    expect(budget.tryRetry()).toBe(false);
    expect(heard).toEqual([0]);
    expect(budget.stats().refused).toBe(2);
  });
});
