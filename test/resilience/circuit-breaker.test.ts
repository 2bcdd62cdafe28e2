import { describe, expect, it } from 'vitest';
import { BrokenCircuitError, CircuitBreaker, isHeadroomError, type CircuitBreakerOptions, type CircuitState } from '../../src/resilience/index.js';
import { problemResponse } from '../../src/core/index.js';
import { deferred, flush } from '../support/async.js';

/** A breaker on a clock the test moves by hand, recording its transitions. */
function breakerOn(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { t: 1_000, now: () => clock.t };
  const breaker = new CircuitBreaker({ name: 'db', trip: { consecutive: 3 }, cooldown: '5s', clock, ...options });
  const transitions: string[] = [];
  breaker.on('open', ({ remote }) => transitions.push(remote ? 'open (remote)' : 'open'));
  breaker.on('half-open', () => transitions.push('half-open'));
  breaker.on('close', () => transitions.push('close'));
  breaker.on('isolate', () => transitions.push('isolate'));
  return { breaker, clock, transitions };
}

const ok = (): Promise<string> => Promise.resolve('ok');
const boom = (): Promise<never> => Promise.reject(new Error('db down'));

async function fail(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await breaker.execute(boom).catch(() => undefined);
}

describe('CircuitBreaker', () => {
  it('opens after `consecutive` failures in a row; a success resets the count', async () => {
    const { breaker, transitions } = breakerOn();
    await fail(breaker, 2);
    await breaker.execute(ok);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['open']);
  });

  it('refuses calls while open with CIRCUIT_OPEN, 503 and the cooldown left, without calling fn', async () => {
    const { breaker, clock } = breakerOn();
    await fail(breaker, 3);
    clock.t += 1_500;
    let called = false;
    const error = await breaker
      .execute(() => {
        called = true;
        return ok();
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(BrokenCircuitError);
    expect(isHeadroomError(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(error).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, retryAfterMs: 3_500, breaker: 'db', state: 'open' });
    expect(breaker.stats()).toMatchObject({ rejected: 1, failures: 3, opened: 1, retryAfterMs: 3_500 });
  });

  it('admits exactly halfOpenProbes trial calls after the cooldown, and closes when they all succeed', async () => {
    const { breaker, clock, transitions } = breakerOn({ halfOpenProbes: 3 });
    await fail(breaker, 3);
    clock.t += 5_000;
    const gates = Array.from({ length: 5 }, () => deferred<string>());
    let started = 0;
    const calls = gates.map((gate) =>
      breaker.execute(() => {
        started++;
        return gate.promise;
      }),
    );
    expect(breaker.state).toBe('half-open');
    expect(started).toBe(3);
    await expect(calls[3]).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', state: 'half-open' });
    await expect(calls[4]).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    gates[0]?.resolve('a');
    gates[1]?.resolve('b');
    await flush();
    expect(breaker.state).toBe('half-open'); // two of three trials passed
    gates[2]?.resolve('c');
    await expect(Promise.all(calls.slice(0, 3))).resolves.toEqual(['a', 'b', 'c']);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['open', 'half-open', 'close']);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('opens again when a trial call fails, and ignores the late answers of the other trials', async () => {
    const { breaker, clock, transitions } = breakerOn({ halfOpenProbes: 2 });
    await fail(breaker, 3);
    clock.t += 5_000;
    const first = deferred<string>();
    const second = deferred<string>();
    const a = breaker.execute(() => first.promise);
    const b = breaker.execute(() => second.promise);
    first.reject(new Error('still down'));
    await expect(a).rejects.toThrow('still down');
    expect(breaker.state).toBe('open');
    second.resolve('late');
    await expect(b).resolves.toBe('late');
    expect(breaker.state).toBe('open');
    expect(breaker.stats()).toMatchObject({ opened: 2, retryAfterMs: 5_000 });
    expect(transitions).toEqual(['open', 'half-open', 'open']);
  });

  it('starts a new round of trials when the trial calls never report, instead of staying half-open', async () => {
    const { breaker, clock } = breakerOn();
    await fail(breaker, 3);
    clock.t += 5_000;
    expect(breaker.tryAcquire()).toBe(true); // a trial that will never report
    expect(breaker.tryAcquire()).toBe(false);
    clock.t += 4_999;
    expect(breaker.tryAcquire()).toBe(false);
    clock.t += 1;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
  });

  it('ignores the answers of calls made before it opened', async () => {
    const { breaker } = breakerOn();
    const slow = deferred<string>();
    const before = breaker.execute(() => slow.promise);
    await fail(breaker, 3);
    slow.resolve('late');
    await expect(before).resolves.toBe('late');
    expect(breaker.state).toBe('open');
  });

  it('does not count aborts as failures, and follows isFailure when given', async () => {
    const { breaker } = breakerOn();
    for (let i = 0; i < 5; i++) await breaker.execute(() => Promise.reject(new DOMException('gone', 'AbortError'))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().failures).toBe(0);

    const picky = breakerOn({ isFailure: (e) => (e as { status?: number }).status === 503 }).breaker;
    for (let i = 0; i < 5; i++) await picky.execute(() => Promise.reject(Object.assign(new Error('nf'), { status: 404 }))).catch(() => undefined);
    expect(picky.state).toBe('closed');
    for (let i = 0; i < 3; i++) await picky.execute(() => Promise.reject(Object.assign(new Error('u'), { status: 503 }))).catch(() => undefined);
    expect(picky.state).toBe('open');
  });

  it('counts synchronous throws and plain values', async () => {
    const { breaker } = breakerOn();
    for (let i = 0; i < 3; i++) {
      await breaker
        .execute(() => {
          throw new Error('sync');
        })
        .catch(() => undefined);
    }
    expect(breaker.state).toBe('open');
    const other = breakerOn().breaker;
    await expect(other.execute(() => 7)).resolves.toBe(7);
    expect(other.stats().successes).toBe(1);
  });

  it('opens on a failure ratio once minThroughput calls are in the window, and forgets calls that leave it', async () => {
    const { breaker, clock } = breakerOn({ trip: { ratio: 0.5, minThroughput: 10, window: '10s' } });
    // 4 failures in 8 calls: 50%, but under minThroughput.
    for (let i = 0; i < 4; i++) await breaker.execute(ok);
    await fail(breaker, 4);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().window).toEqual({ calls: 8, failures: 4 });
    // The window moves on: those calls are forgotten.
    clock.t += 10_000;
    expect(breaker.stats().window).toEqual({ calls: 0, failures: 0 });
    for (let i = 0; i < 6; i++) await breaker.execute(ok);
    await fail(breaker, 3);
    expect(breaker.state).toBe('closed'); // 3 in 9
    await fail(breaker, 1);
    expect(breaker.state).toBe('closed'); // 4 in 10: 40%
    await fail(breaker, 1);
    expect(breaker.state).toBe('closed'); // 5 in 11: 45%
    await fail(breaker, 1);
    expect(breaker.state).toBe('open'); // 6 in 12: 50%
  });

  it('isolate() holds it open until reset(), whatever the clock says', async () => {
    const { breaker, clock, transitions } = breakerOn();
    breaker.isolate();
    clock.t += 60_000;
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', state: 'isolated', retryAfterMs: undefined });
    expect(breaker.state).toBe('isolated');
    breaker.reset();
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(transitions).toEqual(['isolate', 'close']);
  });

  it('reset() closes an open breaker and forgets its failures', async () => {
    const { breaker } = breakerOn();
    await fail(breaker, 3);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('reports through tryAcquire / recordSuccess / recordFailure without execute', () => {
    const { breaker, clock } = breakerOn({ trip: { consecutive: 2 } });
    const states: CircuitState[] = [];
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure(new Error('x'));
    breaker.recordFailure(new Error('x'));
    states.push(breaker.state);
    expect(breaker.tryAcquire()).toBe(false);
    clock.t += 5_000;
    expect(breaker.tryAcquire()).toBe(true);
    states.push(breaker.state);
    breaker.recordSuccess();
    states.push(breaker.state);
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(breaker.stats()).toMatchObject({ name: 'db', state: 'closed', opened: 1, successes: 1, failures: 2, rejected: 1, retryAfterMs: 0 });
  });

  it('passes the caller context through: signal and attempt', async () => {
    const { breaker } = breakerOn();
    const controller = new AbortController();
    let seen: { signal: AbortSignal; attempt: number } | undefined;
    await breaker.execute(({ signal, attempt }) => (seen = { signal, attempt }), { signal: controller.signal });
    expect(seen?.signal).toBe(controller.signal);
    expect(seen?.attempt).toBe(1);
  });

  it('stops telling a disposed listener', async () => {
    const breaker = new CircuitBreaker({ name: 'x', trip: { consecutive: 1 } });
    let heard = 0;
    const off = breaker.on('open', () => heard++);
    off();
    off();
    await fail(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(heard).toBe(0);
    await breaker.close(); // nothing shared: nothing to close
  });
});

describe('BrokenCircuitError over HTTP', () => {
  it('becomes a 503 problem+json with Retry-After in whole seconds', async () => {
    const breaker = new CircuitBreaker({ name: 'pricing', trip: { consecutive: 1 }, cooldown: '2500ms' });
    await fail(breaker, 1);
    const error = await breaker.execute(ok).catch((e: unknown) => e);
    const response = problemResponse(error as BrokenCircuitError);
    expect(response.status).toBe(503);
    expect(response.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '3' });
    expect(JSON.parse(response.body as string)).toMatchObject({ code: 'CIRCUIT_OPEN', status: 503, type: 'about:blank' });
  });
});
