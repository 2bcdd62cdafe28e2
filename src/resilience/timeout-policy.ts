import { DeadlineCall, promiseWithSettlers, invalidArgument, objectArgument, parseDuration, type Duration } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import { linkFor, type Link } from './link.js';
import type { Attempt, ExecuteOptions, Policy } from './policy.js';

/** Options of {@link TimeoutPolicy}. */
export interface TimeoutPolicyOptions {
  /** The operation's name, carried by the {@link TimeoutError} and its message. */
  name?: string;
}

/**
 * One bounded attempt: core's {@link DeadlineCall} (its own deadline node on headroom's shared
 * timer, its own listener on the parent's signal, a signal for the work made only when read),
 * and the context the work receives.
 */
class TimeoutAttempt extends DeadlineCall implements Link {
  constructor(
    private readonly policy: TimeoutPolicy,
    public attempt: number,
    parent: AbortSignal | undefined,
  ) {
    super(policy.timeoutMs, parent);
  }

  watchable(): AbortSignal | undefined {
    return this.signal;
  }

  protected expired(): void {
    const error = new TimeoutError(this.timeoutMs, this.policy.name);
    // Settle first: abort listeners run synchronously and may throw.
    this.reject(error);
    this.abort(error);
  }
}

/**
 * `withTimeout` as a stage: each attempt gets a deadline, and when it passes the attempt's
 * signal aborts and `execute` rejects with {@link TimeoutError} (`OPERATION_TIMEOUT`, 504),
 * which a {@link RetryPolicy} outside it counts as transient and a {@link CircuitBreaker}
 * outside it counts as a failure. A caller's signal that aborts first rejects with its reason.
 *
 * It runs on the same shared deadline timer as `withTimeout` (no `setTimeout` per call), and
 * makes the attempt's `AbortController` only if the work reads `signal`. A settled attempt
 * leaves nothing behind; a pending one keeps the process alive until its deadline.
 *
 * @example
 * ```ts
 * const perAttempt = new TimeoutPolicy('800ms', { name: 'inventory' });
 * const stock = await perAttempt.execute(({ signal }) => fetch(`https://inventory.internal/sku/${sku}`, { signal }).then((r) => r.json()));
 * ```
 */
export class TimeoutPolicy implements Policy {
  /** The deadline of each attempt, in milliseconds. */
  readonly timeoutMs: number;
  /** The name given in the options. */
  readonly name: string | undefined;

  /**
   * @param timeout - a {@link Duration}: ms, or `'250ms'`, `'5s'`...
   * @param options - {@link TimeoutPolicyOptions}.
   */
  constructor(timeout: Duration, options: TimeoutPolicyOptions = {}) {
    this.timeoutMs = parseDuration(timeout, 'timeout', { positive: true });
    objectArgument(options, 'options');
    if (options.name !== undefined && typeof options.name !== 'string') throw invalidArgument('options.name', 'a string', options.name);
    this.name = options.name;
  }

  /**
   * Runs `fn` with a deadline; rejects with {@link TimeoutError} when it passes.
   *
   * @example
   * ```ts
   * const rows = await new TimeoutPolicy('2s').execute(({ signal }) => db.report('monthly', { signal }));
   * ```
   */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, linkFor(fn, options));
  }

  /** @internal */
  run<T>(fn: Attempt<T>, link: Link): Promise<T> {
    const parentSignal = link.watchable();
    if (parentSignal?.aborted === true) return Promise.reject(parentSignal.reason);
    const promise = promiseWithSettlers<T>();
    const attempt = new TimeoutAttempt(this, link.attempt, parentSignal);
    attempt.arm();
    let pending: PromiseLike<T> | T;
    try {
      pending = fn(attempt);
    } catch (error) {
      attempt.fail(error);
      return promise;
    }
    attempt.follow(pending);
    return promise;
  }
}
