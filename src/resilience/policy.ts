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
 *     finally { log.info({ ms: performance.now() - started }, 'policy'); }
 *   },
 * };
 * const guarded = pipeline(new RetryPolicy(), logged, new TimeoutPolicy('2s'));
 * ```
 */
export interface Policy<Extra = never> {
  /** Runs `fn` under the policy and resolves with its value, or rejects with why it gave up. */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T | Extra>;
}

// The policies' clock is core's (milliseconds from any fixed origin; default `performance.now()`).
export type { Clock } from '../core/index.js';
/** @internal */
export { clockOption } from '../core/index.js';
