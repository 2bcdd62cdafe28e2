import type { Duration } from '../core/index.js';
import type { PercentileStats, RequestOutcome } from './stats.js';

/** Options of {@link PercentileTracker.record}. */
export interface RecordOptions {
  /** Count this value as an error (it is still part of the percentiles). Default `false`. Same as `outcome: 'error'`. */
  error?: boolean;
  /**
   * What happened to the request (see {@link RequestOutcome}). `served` (the default) and `error`
   * are recorded in the percentiles; `shed`, `timed_out` and `client_gone` are only counted, in
   * the stats' `shed`, `timedOut` and `clientGone` and in the Prometheus `_outcomes_total`
   * counter, because their duration says nothing about how fast the handler is.
   */
  outcome?: RequestOutcome;
}

/** Options of the reads ({@link PercentileTracker.stats}, `summary`, `checkBudgets`, ...). */
export interface WindowOptions {
  /** One of the configured windows. Default: the smallest. */
  window?: Duration;
}

/** Options of {@link PercentileTracker.slowest}. */
export interface SlowestOptions extends WindowOptions {
  /** The figure to rank by. Default `'p95'`. */
  by?: 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'mean' | 'max' | 'errorRate' | 'count' | 'throughputPerSec';
}

/** Options of {@link PercentileTracker.encode}. */
export interface EncodeOptions extends WindowOptions {}

/** A key's stats plus the key, as {@link PercentileTracker.slowest} returns them. */
export interface KeyedStats extends PercentileStats {
  /** The key. */
  key: string;
}

/** The shape of {@link PercentileTracker.toJSON}. */
export interface PercentileTrackerJSON {
  /** The configured windows, e.g. `['1m', '1h']`. */
  windows: string[];
  /** For each key, its stats in each window. */
  keys: Record<string, Record<string, PercentileStats>>;
}

/** One configured window, as {@link PercentileTracker.windows} describes it. */
export interface WindowInfo {
  /** The window's label, as configured (`'1m'`). */
  window: string;
  /** The window, in ms. */
  windowMs: number;
  /** Length of one interval, in ms: the step by which the window slides (its resolution). */
  intervalMs: number;
  /** Intervals in the window's ring. */
  intervals: number;
}

/** A stop function from {@link PercentileTracker.startTimer}. */
export type StopTimer = (options?: RecordOptions) => number;
