import { integerOption, invalidArgument, numberOption, parseDuration, type Duration } from '../core/index.js';
import type { BreakerShareOptions } from './breaker-share.js';
import type { Clock } from './policy.js';
import { RollingWindow } from './rolling-window.js';

/**
 * A breaker's state: `'closed'` (calls go through), `'open'` (refused until the cooldown is
 * over), `'half-open'` (`halfOpenProbes` trial calls decide) or `'isolated'` (held open by
 * `isolate()` until `reset()`).
 */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated';

/** Opens after this many failures in a row (a success resets the count). */
export interface ConsecutiveTrip {
  /** Failures in a row that open the breaker, at least 1. */
  consecutive: number;
}

/** Opens when the failure rate over a sliding window reaches `ratio`, once there are enough calls to judge. */
export interface RatioTrip {
  /** The failure rate that opens the breaker, above 0 and at most 1, e.g. `0.5`. */
  ratio: number;
  /** Calls in the window below which the rate is not judged. Default `20`. */
  minThroughput?: number;
  /** How far back calls are counted. Default `'30s'`. */
  window?: Duration;
}

/** Options of {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** The breaker's name: in errors, events, stats, and the key its instances share it under. */
  name: string;
  /** When to open. Default `{ consecutive: 5 }`. */
  trip?: ConsecutiveTrip | RatioTrip;
  /** How long the breaker stays open before trial calls are let through. Default `'5s'`. */
  cooldown?: Duration;
  /**
   * Trial calls let through in half-open; all must succeed for the breaker to close, any failure
   * opens it again, and every other call is refused meanwhile. Default `1`.
   */
  halfOpenProbes?: number;
  /**
   * Which errors count as failures of the dependency. Default: every error but an abort
   * (`name === 'AbortError'`: the caller gave up, the dependency did not fail).
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Share openings and closings with the other instances over Redis pub/sub, so that a fleet
   * stops calling a failing dependency once the first instances trip, not once each has tripped
   * alone. A message only ever hastens a transition each instance would make on its own, so a
   * lost message delays, never wedges. Call {@link CircuitBreaker.close} on shutdown.
   */
  share?: BreakerShareOptions;
  /** The clock cooldowns and windows are measured on. Default `performance.now()`. */
  clock?: Clock;
}

/** A snapshot of a {@link CircuitBreaker}, from {@link CircuitBreaker.stats}. */
export interface CircuitBreakerStats {
  /** The breaker's name. */
  name: string;
  /** Its state now. */
  state: CircuitState;
  /** How many times it opened (on its own failures or told by another instance). */
  opened: number;
  /** Calls that succeeded, since it was made. */
  successes: number;
  /** Calls that failed (as `isFailure` counts them), since it was made. */
  failures: number;
  /** Calls refused without being tried, since it was made. */
  rejected: number;
  /** Milliseconds left before trial calls are let through; 0 unless open or half-open. */
  retryAfterMs: number;
  /** Calls and failures in the window (`trip: { ratio }` only). */
  window?: {
    /** Calls counted in the window. */
    calls: number;
    /** Of which failed. */
    failures: number;
  };
  /** The shared channel and whether its subscription is up (`share` only). */
  shared?: {
    /** The pub/sub channel. */
    channel: string;
    /** Whether messages from the other instances reach this one now. */
    connected: boolean;
  };
}

/** The events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  /** It opened: on its own failures, or told by another instance. */
  open: {
    /** The breaker's name. */
    name: string;
    /** The failure that opened it; `undefined` when another instance did. */
    error: unknown;
    /** True when another instance's message opened it. */
    remote: boolean;
  };
  /** The cooldown is over (or another instance's probes passed): trial calls go through. */
  'half-open': {
    /** The breaker's name. */
    name: string;
  };
  /** Its trial calls passed, or `reset()` was called: calls go through again. */
  close: {
    /** The breaker's name. */
    name: string;
  };
  /** `isolate()` was called. */
  isolate: {
    /** The breaker's name. */
    name: string;
  };
}

/** When a closed breaker opens, as read from {@link CircuitBreakerOptions.trip}. @internal */
export interface TripRule {
  /** Failures in a row that open it (`{ consecutive }`); 0 with a ratio trip. */
  threshold: number;
  /** The failure rate that opens it (`{ ratio }`); 0 with a consecutive trip. */
  ratio: number;
  /** Calls in the window below which the rate is not judged; 0 with a consecutive trip. */
  minThroughput: number;
  /** Successes (a) and failures (b) over the window, with a ratio trip. */
  window: RollingWindow | undefined;
}

const TRIP_SHAPE = '{ consecutive } or { ratio, minThroughput?, window? }';

/** Validates `options.trip` (default `{ consecutive: 5 }`); throws `INVALID_ARGUMENT` naming the field at fault. @internal */
export function tripRule(trip: unknown = { consecutive: 5 }): TripRule {
  if (typeof trip !== 'object' || trip === null || Array.isArray(trip)) throw invalidArgument('trip', TRIP_SHAPE, trip);
  if ('consecutive' in trip) {
    const threshold = integerOption((trip as ConsecutiveTrip).consecutive, 'trip.consecutive', 5, { min: 1, max: Number.MAX_SAFE_INTEGER });
    return { threshold, ratio: 0, minThroughput: 0, window: undefined };
  }
  if ('ratio' in trip) {
    const rule = trip as RatioTrip;
    return {
      threshold: 0,
      ratio: numberOption(rule.ratio, 'trip.ratio', 0.5, { min: Number.MIN_VALUE, max: 1 }),
      minThroughput: integerOption(rule.minThroughput, 'trip.minThroughput', 20, { min: 1, max: Number.MAX_SAFE_INTEGER }),
      window: new RollingWindow(rule.window === undefined ? 30_000 : parseDuration(rule.window, 'trip.window', { positive: true })),
    };
  }
  throw invalidArgument('trip', TRIP_SHAPE, trip);
}

/** Errors named `AbortError` mean someone gave up on purpose. */
/** The default `isFailure`. @internal */
export function notAnAbort(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name !== 'AbortError';
}
