import type { BudgetViolation } from './budgets.js';

/** Payload of the `slow` event. */
export interface SlowEvent {
  /** The key the value was recorded under ({@link OVERFLOW_KEY} for a folded key). */
  key: string;
  /** The value that crossed the threshold, in ms. */
  durationMs: number;
  /** The configured `slowThreshold`, in ms. */
  thresholdMs: number;
  /** Slow records of this key not reported since the previous `slow` event (the cooldown). */
  suppressed: number;
}

/** Payload of the `budget` event: one violated budget metric. */
export interface BudgetEvent extends BudgetViolation {
  /** Violations of this key and metric not reported since the previous event (the cooldown). */
  suppressed: number;
}

/** Payload of the `overflow` event. */
export interface OverflowEvent {
  /** The first key that did not fit. It, and every later new key, is recorded under {@link OVERFLOW_KEY}. */
  key: string;
  /** The configured `maxKeys`. */
  maxKeys: number;
}

/** The events a {@link PercentileTracker} emits, by name. */
export interface PercentileTrackerEvents {
  /** A record above `slowThreshold`; at most one per key per `eventCooldown`. */
  slow: SlowEvent;
  /**
   * A budget was exceeded, found by {@link PercentileTracker.checkBudgets} or by the automatic
   * check at each interval of the smallest window (which runs only while a `budget` listener is
   * attached); at most one per key and metric per `eventCooldown`.
   */
  budget: BudgetEvent;
  /** `maxKeys` was reached and keys started folding into {@link OVERFLOW_KEY}. Fires once. */
  overflow: OverflowEvent;
}

/** The key new keys are folded into once `maxKeys` keys are tracked. */
export const OVERFLOW_KEY = '<overflow>';
