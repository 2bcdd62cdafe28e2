/**
 * A limit as GCRA sees it, and the answer a store gives for one check.
 *
 * GCRA (the generic cell rate algorithm) keeps one number per key: the theoretical arrival time
 * (TAT), the moment the key's budget is full again. A check of cost `c` at time `now` moves it to
 * `max(TAT, now) + c * interval`, and is allowed when that lands no further than `tolerance` past
 * `now`. So a fresh key may spend `burst` at once, then one unit per `interval`; over any span `d`
 * it spends at most `burst + d / interval`.
 */

/**
 * The figures of one limit, derived once from a limiter's options and handed to its store with
 * every check. Stores must treat it as read-only and may keep derived values per policy object.
 */
export interface RateLimitPolicy {
  /**
   * The limiter's name. A store keeps each name's keys apart: limiters with the same name and
   * key share one budget, in this process and, through Redis, across processes.
   */
  readonly name: string;
  /** Units allowed per window (the `limit` option; fractional for a `'local'` fallback's share). */
  readonly limit: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
  /** Units that may be spent at once by a key with its whole budget available. */
  readonly burst: number;
  /** `windowMs / limit`: the time one unit takes to come back, in milliseconds. */
  readonly intervalMs: number;
  /** `burst * intervalMs`: how far ahead of now a key's TAT may be after an allowed check. */
  readonly toleranceMs: number;
}

/**
 * A store's answer to one check, in milliseconds.
 *
 * - `>= 0`: allowed (or, for a peek, would be); the key's debt after the check: how long until its
 *   whole budget is back (`TAT - now`).
 * - `< 0`: refused, nothing taken; minus how long until the same check would be allowed.
 */
export type StoreReply = number;

/**
 * Slack in comparisons, in milliseconds (one microsecond): timestamps near 1.7e12 ms carry
 * float rounding, and a check that is due within a microsecond counts as due.
 */
export const SLACK_MS = 0.001;

/** Builds a policy; the options were validated by the caller. @internal */
export function gcraPolicy(name: string, limit: number, windowMs: number, burst: number): RateLimitPolicy {
  const intervalMs = windowMs / limit;
  return Object.freeze({ name, limit, windowMs, burst, intervalMs, toleranceMs: burst * intervalMs });
}

/**
 * One GCRA step on a stored TAT (`undefined` for a key with nothing stored). Returns the reply;
 * when it is allowed and takes something, the new TAT is `now + reply`.
 *
 * @internal
 */
export function gcraStep(stored: number | undefined, now: number, cost: number, policy: RateLimitPolicy): StoreReply {
  const tat = stored === undefined || stored < now ? now : stored;
  const debt = tat - now + cost * policy.intervalMs;
  const over = debt - policy.toleranceMs;
  return over > SLACK_MS ? -over : debt;
}

/** What {@link asPeeks} reads of each check of a batch (a store's `RateLimitCheck` is one). @internal */
export interface PricedCheck {
  readonly cost: number;
  readonly policy: RateLimitPolicy;
}

/**
 * The replies of a refused batch, as peeks: a check that was allowed within the batch took
 * nothing, so its debt is what it was before its own cost.
 *
 * @internal
 */
export function asPeeks(checks: readonly PricedCheck[], replies: StoreReply[]): StoreReply[] {
  for (let i = 0; i < replies.length; i++) {
    const reply = replies[i] as number;
    if (reply < 0) continue;
    const { cost, policy } = checks[i] as PricedCheck;
    replies[i] = Math.max(0, reply - cost * policy.intervalMs);
  }
  return replies;
}
