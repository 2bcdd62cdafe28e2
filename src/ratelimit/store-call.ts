import {
  armDeadline,
  closureFreePromise,
  disarmDeadline,
  settlers,
  type DeadlineList,
  type DeadlineNode,
  type Settle,
} from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import type { LimiterCore } from './limiter-core.js';
import type { StoreReply } from './policy.js';
import { resultOf, type RateLimitResult } from './result.js';

/** True for a promise (or any thenable) a store answered with. @internal */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * A take or a peek whose store answered with a promise: on headroom's shared deadline timer (no
 * timer of its own), it settles with the store's answer, or, when the store fails or passes
 * `storeTimeout`, with `onStoreError`'s. Exactly once; a reply arriving after the deadline is
 * dropped.
 *
 * @internal
 */
export class StoreCall implements DeadlineNode {
  deadlineAt = 0;
  deadlinePrev: DeadlineNode | null = null;
  deadlineNext: DeadlineNode | null = null;
  deadlineList: DeadlineList | null = null;
  readonly promise: Promise<RateLimitResult>;
  private readonly resolve: Settle;
  private readonly reject: Settle;
  private done = false;

  constructor(
    private readonly core: LimiterCore,
    private readonly key: string,
    private readonly cost: number,
    private readonly take: boolean,
    pending: Promise<StoreReply>,
  ) {
    this.promise = closureFreePromise();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
    armDeadline(this, core.storeTimeoutMs);
    pending.then(
      (reply) => this.replied(reply),
      (error: unknown) => this.failed(error, false),
    );
  }

  private replied(reply: StoreReply): void {
    if (this.done) return;
    this.done = true;
    disarmDeadline(this);
    const core = this.core;
    this.resolve(this.take ? core.answered(this.key, this.cost, reply) : resultOf(core.policy, this.cost, reply, false));
  }

  private failed(error: unknown, timedOut: boolean): void {
    if (this.done) return;
    this.done = true;
    disarmDeadline(this);
    try {
      this.resolve(answerFailure(this.core, this.key, this.cost, this.take, error, timedOut));
    } catch (rejection) {
      this.reject(rejection);
    }
  }

  /** The store passed `storeTimeout`. */
  onDeadline(): void {
    this.failed(new TimeoutError(this.core.storeTimeoutMs, `rate limit store ${this.take ? 'take' : 'peek'}`), true);
  }
}

/**
 * Answers a take or a peek whose store call failed: counted, reported, and answered by
 * `onStoreError` (a throw for `'deny'`).
 *
 * @internal
 */
export function answerFailure(
  core: LimiterCore,
  key: string,
  cost: number,
  take: boolean,
  error: unknown,
  timedOut: boolean,
): RateLimitResult {
  core.storeFailed(take ? 'take' : 'peek', error, timedOut);
  const result = core.fallback(key, cost, take, error);
  return take ? core.counted(key, cost, result) : result;
}

/** A store call other than a take or a peek, bounded by a timeout. */
class BoundedCall<T> implements DeadlineNode {
  deadlineAt = 0;
  deadlinePrev: DeadlineNode | null = null;
  deadlineNext: DeadlineNode | null = null;
  deadlineList: DeadlineList | null = null;
  readonly promise: Promise<T>;
  private readonly resolve: Settle;
  private readonly reject: Settle;
  private done = false;

  constructor(
    pending: Promise<T>,
    private readonly timeoutMs: number,
    private readonly operation: string,
  ) {
    this.promise = closureFreePromise();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
    armDeadline(this, timeoutMs);
    pending.then(
      (value) => this.settle(this.resolve, value),
      (error: unknown) => this.settle(this.reject, error),
    );
  }

  private settle(settle: Settle, outcome: unknown): void {
    if (this.done) return;
    this.done = true;
    disarmDeadline(this);
    settle(outcome);
  }

  onDeadline(): void {
    this.settle(this.reject, new TimeoutError(this.timeoutMs, `rate limit store ${this.operation}`));
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
  return isPromise(value) ? new BoundedCall(value, timeoutMs, operation).promise : Promise.resolve(value);
}
