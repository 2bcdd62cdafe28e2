import { invalidArgument } from '../core/index.js';

/** What every attempt receives: the signal to pass on to the work, and which attempt this is. */
export interface ExecuteContext {
  /**
   * Aborts when the caller's signal does, or when a policy gives up on this attempt (a
   * {@link TimeoutPolicy} deadline, a {@link HedgePolicy} race lost, a {@link RetryPolicy}
   * deadline). Pass it to the work (fetch, pg, ioredis...) so that giving up really stops it.
   * It is made the first time it is read: an attempt that never reads it costs no
   * `AbortController`.
   */
  readonly signal: AbortSignal;
  /**
   * 1 for the first call of the function in this execution, then 2, 3... for each retry (or
   * hedge) made by the nearest {@link RetryPolicy} or {@link HedgePolicy} around it.
   */
  readonly attempt: number;
}

/** Options of every policy's `execute`. */
export interface ExecuteOptions {
  /** The caller's signal: when it aborts, the call rejects at once with its reason and the attempt's signal aborts. */
  signal?: AbortSignal;
}

/** The work a policy runs: called once per attempt with an {@link ExecuteContext}. */
export type Attempt<T> = (context: ExecuteContext) => PromiseLike<T> | T;

/**
 * What every resilience policy is, and what {@link pipeline} composes: one `execute` entry point.
 * Your own object with this shape can take part in a pipeline too.
 *
 * @typeParam Extra - what `execute` may resolve with besides the work's own value (a
 *   {@link FallbackPolicy}'s fallback); `never` for every other policy.
 * @example
 * ```ts
 * const logged: Policy = {
 *   async execute(fn, options) {
 *     const started = performance.now();
 *     try { return await fn({ signal: options?.signal ?? new AbortController().signal, attempt: 1 }); }
 *     finally { log.debug({ ms: performance.now() - started }); }
 *   },
 * };
 * const guarded = pipeline(new RetryPolicy(), logged, new TimeoutPolicy('2s'));
 * ```
 */
export interface Policy<Extra = never> {
  /** Runs `fn` under the policy and resolves with its value, or rejects with why it gave up. */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T | Extra>;
}

/**
 * A clock for the policies' own bookkeeping (cooldowns, windows, deadlines): milliseconds from
 * any fixed origin. The default reads `performance.now()`; tests pass their own to move time by
 * hand, as with lru-cache's `perf` option.
 *
 * @example
 * ```ts
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

/** The default {@link Clock}; reads the global `performance` each time, so fake timers apply. @internal */
export const performanceClock: Clock = { now: () => performance.now() };

/** Reads a `clock` option: an object with a `now()` method, or the default. @internal */
export function clockOption(value: unknown): Clock {
  if (value === undefined) return performanceClock;
  if (typeof value !== 'object' || value === null || typeof (value as Clock).now !== 'function') {
    throw invalidArgument('clock', 'an object with a now() method returning milliseconds', value);
  }
  return value as Clock;
}
