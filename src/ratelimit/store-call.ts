import { promiseWithSettlers, Deadline, settlers, type Settle } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import type { LimiterCore } from './limiter-core.js';
import type { StoreReply } from './policy.js';
import { resultOf, type RateLimitResult } from './result.js';

/** True for a promise (or any thenable) a store answered with. @internal */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * A store call on headroom's shared deadline timer (no timer of its own): it settles exactly once,
 * with what the store answered or, past `timeoutMs`, as a failure with a `TimeoutError`. An
 * answer arriving after the deadline is dropped. Subclasses say what each outcome resolves to.
 */
abstract class BoundCall<T> extends Deadline {
  readonly promise: Promise<T>;
  protected readonly resolve: Settle;
  protected readonly reject: Settle;
  private done = false;

  constructor(
    pending: Promise<unknown>,
    private readonly timeoutMs: number,
    private readonly operation: string,
  ) {
    super();
    this.promise = promiseWithSettlers();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
    this.armDeadline(timeoutMs);
    pending.then(
      (value) => {
        if (this.finish()) this.answered(value);
      },
      (error: unknown) => {
        if (this.finish()) this.failed(error, false);
      },
    );
  }

  /** The store answered in time. */
  protected abstract answered(value: unknown): void;
  /** The store failed, or passed the timeout. */
  protected abstract failed(error: unknown, timedOut: boolean): void;

  /** The timeout passed. */
  onDeadline(): void {
    if (this.finish()) this.failed(new TimeoutError(this.timeoutMs, `rate limit store ${this.operation}`), true);
  }

  /** True the first time only. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.disarmDeadline();
    return true;
  }
}

/**
 * A take or a peek whose store answered with a promise: it settles with the store's answer, or,
 * when the store fails or passes `storeTimeout`, with `onStoreError`'s.
 *
 * @internal
 */
export class StoreCall extends BoundCall<RateLimitResult> {
  constructor(
    private readonly core: LimiterCore,
    private readonly key: string,
    private readonly cost: number,
    private readonly take: boolean,
    pending: Promise<StoreReply>,
  ) {
    super(pending, core.storeTimeoutMs, take ? 'take' : 'peek');
  }

  protected answered(reply: unknown): void {
    const core = this.core;
    this.resolve(this.take ? core.answered(this.key, this.cost, reply as StoreReply) : resultOf(core.policy, this.cost, reply as StoreReply, false));
  }

  protected failed(error: unknown, timedOut: boolean): void {
    try {
      this.resolve(answerFailure(this.core, this.key, this.cost, this.take, error, timedOut));
    } catch (rejection) {
      this.reject(rejection);
    }
  }
}

/**
 * Answers a take or a peek whose store call failed: counted, reported, and answered by
 * `onStoreError` (a throw for `'deny'`).
 *
 * @internal
 */
export function answerFailure(core: LimiterCore, key: string, cost: number, take: boolean, error: unknown, timedOut: boolean): RateLimitResult {
  core.storeFailed(take ? 'take' : 'peek', error, timedOut);
  const result = core.fallback(key, cost, take, error);
  return take ? core.counted(key, cost, result) : result;
}

/** Any other store call: resolves with the store's value, rejects with its failure or a `TimeoutError`. */
class PlainCall<T> extends BoundCall<T> {
  protected answered(value: unknown): void {
    this.resolve(value);
  }

  protected failed(error: unknown): void {
    this.reject(error);
  }
}

/**
 * Runs a store call and bounds it: resolves with its value, rejects with what it threw or
 * rejected with, or with a `TimeoutError` past `timeoutMs`. A synchronous answer costs no timer.
 *
 * @internal
 */
export function boundedStoreCall<T>(run: () => T | Promise<T>, timeoutMs: number, operation: string): Promise<T> {
  let value: T | Promise<T>;
  try {
    value = run();
  } catch (error) {
    return Promise.reject(error);
  }
  return isPromise(value) ? new PlainCall<T>(value, timeoutMs, operation).promise : Promise.resolve(value);
}
