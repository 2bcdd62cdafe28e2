/**
 * A clock the test moves by hand, that also drives headroom's shared deadline timer: pass it as a
 * module's `clock` option, `install()` it, and `advance(ms)` fires every deadline that falls in
 * those milliseconds, in order, letting the promises they settle run in between. Nothing sleeps,
 * so a test of a 30 s cooldown takes microseconds and does not depend on the machine's load.
 *
 * Only headroom's timer and the clocks handed to headroom follow it: Node's own timers (ioredis'
 * reconnects, a server's keep-alive, `setTimeout` in the test) and I/O keep real time.
 */
import { onTestFinished } from 'vitest';
import { Deadline, deadlineTimerState, driveDeadlinesWith, fireDueDeadlines, type Clock } from '../../src/core/index.js';

/** Sweeps at one instant before `advance` gives up on a deadline that keeps re-arming itself due. */
const MAX_SWEEPS_AT_ONE_TIME = 10_000;

/** A wait on the shared deadline timer: resolves when the deadline passes. */
class Wake extends Deadline {
  constructor(private readonly resolve: () => void) {
    super();
  }
  onDeadline(): void {
    this.resolve();
  }
}

/** Lets promise callbacks and I/O callbacks that are ready run (one turn of the event loop). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TestClock implements Clock {
  private time: number;
  private driving = false;

  /** @param start - the first reading; default the wall clock now, so epoch-based code reads sane times. */
  constructor(start: number = Date.now()) {
    this.time = start;
  }

  /** The current time in milliseconds. */
  now(): number {
    return this.time;
  }

  /** Hands headroom's shared deadline timer to this clock until {@link TestClock.uninstall}. */
  install(): this {
    driveDeadlinesWith(this);
    this.driving = true;
    return this;
  }

  /** {@link TestClock.install}s it until the current test finishes (pass or fail). */
  installUntilTestEnds(): this {
    this.install();
    onTestFinished(() => this.uninstall());
    return this;
  }

  /** Gives the shared deadline timer back to the real clock (deadlines still armed keep their time left). */
  uninstall(): void {
    if (!this.driving) return;
    this.driving = false;
    driveDeadlinesWith(undefined);
  }

  /**
   * Moves the clock `ms` forward. With the timer installed, it stops at each deadline due on the
   * way (the earliest first), fires it, and lets the event loop turn before going on, so work that
   * a deadline starts (a retry, the next nap) can arm its own deadline within the same advance.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new Error(`TestClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.time + ms;
    let sweepsHere = 0;
    for (;;) {
      await turn();
      if (!this.driving) break;
      if (fireDueDeadlines()) {
        // Let what the sweep settled run (it may arm deadlines, due already or later), then look again.
        if (++sweepsHere > MAX_SWEEPS_AT_ONE_TIME) throw new Error('TestClock.advance: a deadline keeps re-arming itself due');
        continue;
      }
      const next = deadlineTimerState().nextDueAt;
      if (next > target) break;
      sweepsHere = 0;
      this.time = next;
    }
    this.time = target;
    await turn();
  }

  /**
   * Resolves once `ms` have passed on the shared deadline timer: on this clock while it is
   * installed (work that "takes" 1 s in a test takes one advance), else in real time.
   */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => new Wake(resolve).armDeadline(ms));
  }

  /** Deadlines armed on the shared timer now. */
  armed(): number {
    return deadlineTimerState().armed;
  }
}

/**
 * A {@link TestClock} driving the shared deadline timer for the rest of the current test (given
 * back when the test finishes, pass or fail). Deadlines armed before (by earlier tests' leftover
 * work) move to this clock too: a test that counts armed deadlines installs its clock after its
 * setup settled (`new TestClock()`, then `installUntilTestEnds()`).
 *
 * @example
 * ```ts
 * const clock = useTestClock();
 * const breaker = new CircuitBreaker({ name: 'db', cooldown: '30s', clock });
 * await clock.advance(30_000);
 * ```
 */
export function useTestClock(start?: number): TestClock {
  return new TestClock(start).installUntilTestEnds();
}
