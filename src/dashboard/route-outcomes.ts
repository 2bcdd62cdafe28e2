import type { PercentileStats, PercentileTracker, WindowOptions } from '../percentiles/index.js';

/**
 * How a route's answers ended over the window, apart from the ones served. `null` means the
 * tracker does not tell that outcome apart (it is then counted in `errors`).
 */
export interface RouteOutcomes {
  /** Answers counted as errors (5xx from the handler, thrown handlers). */
  errors: number;
  /** Requests refused by load shedding (503 `QUEUE_FULL`), when told apart. */
  shed: number | null;
  /** Requests answered 504 by a timeout, when told apart. */
  timedOut: number | null;
}

/**
 * The outcomes of one route, read off the tracker. The single seam between this module (the
 * dashboard's route rows and the `errorRatioAbove` alert rule) and the tracker's outcome split:
 * today the tracker records shed and timed-out answers as errors of the route, so `shed` and
 * `timedOut` are `null` and `errors` holds them all; once the tracker counts them apart, this
 * function reads them and nothing else changes.
 *
 * @internal
 */
export function routeOutcomes(_tracker: PercentileTracker, _key: string, stats: PercentileStats, _window: WindowOptions): RouteOutcomes {
  return { errors: stats.errors, shed: null, timedOut: null };
}
