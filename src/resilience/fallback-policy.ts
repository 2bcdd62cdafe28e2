import { invalidArgument, objectArgument } from '../core/index.js';
import { callAttempt, linkFor, type Link } from './link.js';
import type { Attempt, ExecuteOptions, Policy } from './policy.js';

/** Options of {@link FallbackPolicy}: a `value`, or a function `fn` of the failure. */
export type FallbackPolicyOptions<F> = (
  | {
      /** What `execute` resolves with instead of rejecting. */
      value: F;
      /** Not with `value`. */
      fn?: never;
    }
  | {
      /** Computes the answer from the failure; may be async, and may throw to reject after all. */
      fn: (error: unknown) => F | PromiseLike<F>;
      /** Not with `fn`. */
      value?: never;
    }
) & {
  /**
   * Which failures fall back. Default: every failure except the caller's own abort (when the
   * caller's signal has aborted, nobody is waiting for a fallback).
   */
  fallbackOn?: (error: unknown) => boolean;
};

/**
 * Answers with a fallback instead of failing: a stale copy, a default, a degraded response.
 * It is usually the outermost stage, so that it catches what the others finally give up with
 * (`CIRCUIT_OPEN`, `OPERATION_TIMEOUT`, the last retried failure).
 *
 * @typeParam F - the fallback's type; `execute` resolves with the work's type or this one.
 * @example
 * ```ts
 * const orEmpty = new FallbackPolicy({ value: [] as unknown[] });
 * const recommendations = await orEmpty.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json() as Promise<unknown[]>));
 *
 * const orStale = new FallbackPolicy({ fn: () => cache.get(`prices:${sku}`) });
 * ```
 */
export class FallbackPolicy<F = unknown> implements Policy<F> {
  private readonly hasFn: boolean;
  private readonly value: F | undefined;
  private readonly fn: ((error: unknown) => F | PromiseLike<F>) | undefined;
  private readonly fallbackOn: ((error: unknown) => boolean) | undefined;

  constructor(options: FallbackPolicyOptions<F>) {
    if (options === undefined) throw invalidArgument('options', 'an options object { value } or { fn }', options);
    objectArgument(options, 'options');
    const hasValue = 'value' in options;
    this.hasFn = options.fn !== undefined;
    if (hasValue === this.hasFn) throw invalidArgument('options', 'an options object with exactly one of value or fn', options);
    if (this.hasFn && typeof options.fn !== 'function') throw invalidArgument('fn', 'a function (error) => value', options.fn);
    if (options.fallbackOn !== undefined && typeof options.fallbackOn !== 'function') {
      throw invalidArgument('fallbackOn', 'a function (error) => boolean', options.fallbackOn);
    }
    this.value = options.value;
    this.fn = options.fn;
    this.fallbackOn = options.fallbackOn;
  }

  /**
   * Runs `fn`; when it fails, resolves with the fallback instead.
   *
   * @example
   * ```ts
   * const banner = await new FallbackPolicy({ value: null }).execute(() => cache.get<string>('banner:home'));
   * ```
   */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T | F> {
    return this.run(fn, linkFor(fn, options));
  }

  /** @internal */
  run<T>(fn: Attempt<T>, link: Link): Promise<T | F> {
    return Promise.resolve(callAttempt(fn, link)).then(undefined, (error: unknown) => this.recover(error, link));
  }

  private recover(error: unknown, link: Link): F | PromiseLike<F> {
    if (link.watchable()?.aborted === true) throw error;
    if (this.fallbackOn !== undefined && !this.fallbackOn(error)) throw error;
    return this.hasFn ? (this.fn as (error: unknown) => F | PromiseLike<F>)(error) : (this.value as F);
  }
}
