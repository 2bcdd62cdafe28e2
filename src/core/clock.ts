import { invalidArgument } from './errors.js';

/**
 * A clock: milliseconds from a fixed origin, read through `now()`. Every headroom option named
 * `clock` takes one, as lru-cache's `perf` option does, so a test can move time by hand instead
 * of sleeping. What the origin is depends on the module: the policies and the rate limiter only
 * subtract readings (any origin will do), while the cache compares its readings with expiry
 * times other processes wrote (milliseconds since the epoch, as `Date.now()`).
 *
 * @example
 * ```ts
 * import { CircuitBreaker, type Clock } from 'headroom/resilience';
 *
 * let now = 0;
 * const clock: Clock = { now: () => now };
 * const breaker = new CircuitBreaker({ name: 'db', cooldown: '5s', clock });
 * now += 5_000; // the cooldown is over
 * ```
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
}

/**
 * The monotonic default: reads the global `performance` on each call (so a test runner's fake
 * `performance` applies). @internal
 */
export const performanceClock: Clock = { now: () => performance.now() };

/** The wall-clock default: `Date.now()` on each call. @internal */
export const wallClock: Clock = { now: () => Date.now() };

/**
 * Reads a `clock` option: an object with a `now()` method, or `fallback` when it is absent.
 * Throws `INVALID_ARGUMENT` naming `name` for anything else. @internal
 */
export function clockOption(value: unknown, fallback: Clock = performanceClock, name = 'clock'): Clock {
  if (value === undefined) return fallback;
  if (typeof value !== 'object' || value === null || typeof (value as Clock).now !== 'function') {
    throw invalidArgument(name, 'an object with a now() method returning milliseconds', value);
  }
  return value as Clock;
}
