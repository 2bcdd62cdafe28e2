import { describe, expect, it } from 'vitest';
import { Deadline, deadlineNow, deadlineTimerState } from '../../src/core/index.js';
import { TimeoutError, withTimeout } from '../../src/timeout/index.js';
import { TestClock, useTestClock } from '../support/test-clock.js';

/** A deadline that writes when it fired, on the timer's clock, into a shared log. */
class Probe extends Deadline {
  constructor(
    readonly name: string,
    readonly log: Array<[string, number]>,
  ) {
    super();
  }
  onDeadline(): void {
    this.log.push([this.name, deadlineNow()]);
  }
}

describe('TestClock driving the shared deadline timer', () => {
  it('fires each deadline at its time, never early, the earliest first', async () => {
    const clock = useTestClock(1_000);
    const log: Array<[string, number]> = [];
    const late = new Probe('late', log);
    const early = new Probe('early', log);
    late.armDeadline(300);
    early.armDeadline(100);
    await clock.advance(99);
    expect(log).toEqual([]);
    expect(early.deadlineArmed).toBe(true);
    await clock.advance(1);
    expect(log).toEqual([['early', 1_100]]);
    expect(early.deadlineArmed).toBe(false);
    await clock.advance(10_000);
    expect(log).toEqual([
      ['early', 1_100],
      ['late', 1_300],
    ]);
    expect(clock.now()).toBe(11_100);
    expect(deadlineTimerState().armed).toBe(0);
  });

  it('fires a deadline armed by another one within the same advance, at its own time', async () => {
    const clock = useTestClock(0);
    const log: Array<[string, number]> = [];
    const second = new Probe('second', log);
    class Chain extends Probe {
      override onDeadline(): void {
        super.onDeadline();
        // Armed from a promise callback, as a retry's next nap would be.
        void Promise.resolve().then(() => second.armDeadline(50));
      }
    }
    new Chain('first', log).armDeadline(20);
    await clock.advance(1_000);
    expect(log).toEqual([
      ['first', 20],
      ['second', 70],
    ]);
  });

  it('times out a withTimeout call at its deadline with no real time passing', async () => {
    const clock = useTestClock();
    const started = performance.now();
    const pending = withTimeout(new Promise<never>(() => {}), '30s');
    const outcome = pending.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await clock.advance(29_999);
    expect(clock.armed()).toBe(1);
    await clock.advance(1);
    expect(await outcome).toBeInstanceOf(TimeoutError);
    expect(clock.armed()).toBe(0);
    // Thirty simulated seconds took a few event-loop turns.
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('keeps the time a deadline had left when the timer changes hands', async () => {
    const log: Array<[string, number]> = [];
    const probe = new Probe('armed before', log);
    probe.armDeadline(60_000);
    const clock = new TestClock(0).install();
    try {
      await clock.advance(59_000);
      expect(log).toEqual([]);
      await clock.advance(1_000);
      expect(log).toHaveLength(1);
      // Handed over a few real microseconds after arming, so it fires at most 1 ms later.
      expect(log[0]?.[1]).toBeLessThanOrEqual(60_001);
    } finally {
      clock.uninstall();
    }
  });

  it('gives the timer back: a deadline armed after uninstall fires on real time', async () => {
    const clock = new TestClock(0).install();
    clock.uninstall();
    const log: Array<[string, number]> = [];
    const probe = new Probe('real', log);
    const fired = new Promise<void>((resolve) => {
      probe.onDeadline = () => resolve();
    });
    probe.armDeadline(1);
    await fired;
    expect(deadlineTimerState().armed).toBe(0);
  });
});
