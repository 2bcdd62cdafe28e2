import type { PercentileStats, PercentileTracker, WindowOptions } from '../percentiles/index.js';

/**
 * How a route's answers ended over the window, apart from the ones served. `null` means the
 * outcome is not told apart (a frame from a source that does not count it).
 */
export interface RouteOutcomes {
  /** Answers counted as errors (5xx from the handler, thrown handlers). */
  errors: number;
  /** Requests refused before the handler ran (503 `QUEUE_FULL`, `QUEUE_CLOSED`, `SERVICE_UNAVAILABLE`). */
  shed: number | null;
  /** Requests answered 504 by a timeout in the handler's place. */
  timedOut: number | null;
}

/**
 * The outcomes of one route, read off the tracker. The single seam between this module (the
 * dashboard's route rows and the `errorRatioAbove` alert rule) and the tracker's outcome split:
 * the tracker counts shed and timed-out answers apart from the handler's (`stats.shed`,
 * `stats.timedOut`), so `errors` holds only the handler's failures.
 *
 * @internal
 */
export function routeOutcomes(_tracker: PercentileTracker, _key: string, stats: PercentileStats, _window: WindowOptions): RouteOutcomes {
  return { errors: stats.errors, shed: stats.shed, timedOut: stats.timedOut };
}
