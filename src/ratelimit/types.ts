import type { Clock, Duration } from '../core/index.js';
import type { RateLimitStore } from './store.js';

/**
 * What a limiter answers when its store fails or passes `storeTimeout`:
 * - `'allow'` (fail open): the check is allowed (`degraded: true`), as for a key with its whole budget.
 * - `'deny'` (fail closed): the call rejects with `SERVICE_UNAVAILABLE` (503), never "rate limited".
 * - `'local'`: an in-process limiter answers, sized `limit / instances` (and `burst / instances`,
 *   rounded up), so that `instances` processes together stay near the shared limit.
 */
export type StoreErrorPolicy = 'allow' | 'deny' | 'local';

/** Options for {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Units allowed per `window` (a whole number >= 1): the sustained rate. */
  limit: number;
  /** The window `limit` is counted over, e.g. `'1m'`. */
  window: Duration;
  /**
   * Units a key may spend at once when its whole budget is there (a whole number >= 1). Default
   * `limit`: a key idle for a window may spend the window's worth at once, then `limit` per window.
   * `1` spaces requests evenly (one per `window / limit`). Over any span `d`, a key is allowed at
   * most `burst + limit * d / window`.
   */
  burst?: number;
  /**
   * Names the limit: in store keys, in the `RateLimit-Policy` header, in events and stats.
   * Limiters sharing a store must have different names (same name and key: one shared budget);
   * processes sharing a Redis must use the same name for the same limit. Letters, digits and
   * `. _ : ~ -`, at most 64. Default from the figures, e.g. `'100-per-60s'`.
   */
  name?: string;
  /** Where the timestamps live. Default a {@link MemoryRateLimitStore} of its own. */
  store?: RateLimitStore;
  /** The longest store call waited for; past it `onStoreError` answers. Default `'200ms'`. */
  storeTimeout?: Duration;
  /** See {@link StoreErrorPolicy}. Default `'allow'`. */
  onStoreError?: StoreErrorPolicy;
  /** For `onStoreError: 'local'`: how many processes share the limit. Default `1`. */
  instances?: number;
  /** The longest key accepted, in characters; longer is `INVALID_ARGUMENT`. Default `512`. */
  maxKeyLength?: number;
  /**
   * The clock of the default memory store and of the `'local'` fallback, in milliseconds.
   * Default `performance.now()`. A Redis store always uses Redis' clock.
   */
  clock?: Clock;
}

/** Options of {@link RateLimiter.take} and {@link RateLimiter.peek}. */
export interface TakeOptions {
  /** Units this check spends (a whole number from 0 to `burst`). Default `1`. */
  cost?: number;
}

/** Payload of the `limited` event. */
export interface LimitedEvent {
  /** The limiter's name. */
  name: string;
  /** The key that was refused, as the caller gave it. */
  key: string;
  /** The cost of the refused check. */
  cost: number;
  /** Milliseconds until it would be allowed. */
  retryAfterMs: number;
}

/** Payload of the `store-error` event. */
export interface StoreErrorEvent {
  /** The limiter's name. */
  name: string;
  /** What the store threw or rejected with; a `TimeoutError` when it passed `storeTimeout`. */
  error: unknown;
  /** The call that failed. */
  operation: 'take' | 'peek' | 'take-all' | 'refund' | 'reset';
  /** True when the call passed `storeTimeout` (it may still complete in the store later). */
  timedOut: boolean;
  /** What answered instead (for `reset` and `refund`, nothing: they reject or stay taken). */
  fallback: StoreErrorPolicy;
}

/** The events of a {@link RateLimiter}, by name. Listeners cost nothing until one is added. */
export interface RateLimiterEvents {
  /** A take was refused. */
  limited: LimitedEvent;
  /** A store call failed or passed `storeTimeout`; `onStoreError` answered. */
  'store-error': StoreErrorEvent;
}

/** Counters of a {@link RateLimiter} since it was made. */
export interface RateLimiterStats {
  /** The limiter's name. */
  name: string;
  /** The configured limit per window. */
  limit: number;
  /** The window in milliseconds. */
  windowMs: number;
  /** The configured burst. */
  burst: number;
  /** Takes answered (allowed or refused), each check of a `takeAll` counted once. */
  checks: number;
  /** Takes allowed. */
  allowed: number;
  /** Takes refused by the limit. */
  limited: number;
  /** Takes answered by `onStoreError` (`'allow'` or `'local'`) rather than by the store. */
  degraded: number;
  /** Takes rejected with `SERVICE_UNAVAILABLE` because the store failed (`onStoreError: 'deny'`). */
  unavailable: number;
  /** Store calls that failed, timeouts included. */
  storeErrors: number;
  /** Store calls that passed `storeTimeout`. */
  storeTimeouts: number;
}
