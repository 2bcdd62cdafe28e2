import { SLACK_MS, type RateLimitPolicy, type StoreReply } from './policy.js';

/** The answer to one check: {@link RateLimiter.take}, {@link RateLimiter.peek}. */
export interface RateLimitResult {
  /** True when the check was allowed (for a peek: would be). */
  readonly allowed: boolean;
  /** The limit per window that answered (for a `'local'` fallback: its share, `limit / instances`). */
  readonly limit: number;
  /**
   * Units that could still be taken right now, after this check (after nothing, for a peek or
   * for a limit that allowed within a refused `takeAll`: nothing was taken).
   */
  readonly remaining: number;
  /** Milliseconds until the key's whole budget (`burst`) is available again; 0 when it is. */
  readonly resetMs: number;
  /** When refused: milliseconds until the same check would be allowed. 0 when allowed. */
  readonly retryAfterMs: number;
  /**
   * True when the store failed and the answer came from `onStoreError` (`'allow'`, or the
   * in-process limiter of `'local'`), not from the store.
   */
  readonly degraded: boolean;
}

/** The answer to {@link RateLimiter.takeAll}: the strictest answer, and each limit's own. */
export interface RateLimitAllResult extends RateLimitResult {
  /**
   * Each limit's answer, in the order the checks were given. When one limit refused, nothing was
   * taken from any: the others' answers then say what they would have allowed, with their
   * `remaining` untouched.
   */
  readonly results: readonly RateLimitResult[];
}

/** Turns a store's reply into a result. @internal */
export function resultOf(policy: RateLimitPolicy, cost: number, reply: StoreReply, degraded: boolean): RateLimitResult {
  const { intervalMs, toleranceMs } = policy;
  if (reply >= 0) {
    return {
      allowed: true,
      limit: policy.limit,
      remaining: unitsLeft(policy, reply),
      resetMs: wholeMs(reply),
      retryAfterMs: 0,
      degraded,
    };
  }
  const debt = toleranceMs - cost * intervalMs - reply;
  return {
    allowed: false,
    limit: policy.limit,
    remaining: unitsLeft(policy, debt),
    resetMs: wholeMs(debt),
    retryAfterMs: Math.max(1, wholeMs(-reply)),
    degraded,
  };
}

/** What a key whose budget is whole answers to a check of `cost` (onStoreError `'allow'`). @internal */
export function freshResult(policy: RateLimitPolicy, cost: number): RateLimitResult {
  return resultOf(policy, cost, cost * policy.intervalMs, true);
}

function unitsLeft(policy: RateLimitPolicy, debtMs: number): number {
  const units = Math.floor((policy.toleranceMs - debtMs + SLACK_MS) / policy.intervalMs);
  return units < 0 ? 0 : units;
}

function wholeMs(ms: number): number {
  return ms <= SLACK_MS ? 0 : Math.ceil(ms - SLACK_MS);
}

/**
 * The milliseconds until `result.remaining` grows by one: the window within which the client can
 * use no more than `remaining` (the `t` parameter of the `RateLimit` header field). For a key
 * whose budget is whole, one interval.
 *
 * @internal
 */
export function nextUnitMs(policy: RateLimitPolicy, result: RateLimitResult): number {
  const free = policy.toleranceMs - result.resetMs;
  const ms = (result.remaining + 1) * policy.intervalMs - free;
  return ms > policy.intervalMs || ms <= 0 ? policy.intervalMs : ms;
}
