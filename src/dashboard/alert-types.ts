import type { Duration } from '../core/index.js';
import type { HealthReport } from '../health/index.js';
import type { PercentileTracker } from '../percentiles/index.js';

/** How bad an alert is. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/**
 * One alert rule: exactly one condition (`p99Above`, `errorRatioAbove` or `checkFailing`) that
 * must hold for `for` before the alert fires.
 */
export interface AlertRule {
  /** A name for the rule, unique among the rules (it names the alert). */
  name: string;
  /** `info`, `warning` or `critical`. */
  severity: AlertSeverity;
  /**
   * The tracker key the rule watches (`'GET /report'`). Default: every key, each its own alert
   * (`subject` tells which).
   */
  key?: string;
  /** Fires when the key's p99 over the window is above this duration (`'500ms'`, `250`). */
  p99Above?: Duration;
  /** Fires when the key's error ratio (errors / requests) over the window is above this fraction (0 to 1). */
  errorRatioAbove?: number;
  /**
   * Fires when this health check fails (`'redis'`), or with `true` any check, each its own
   * alert. A check that warns is not failing.
   */
  checkFailing?: string | true;
  /**
   * How long the condition must hold before the alert fires (`'1m'`; `0` fires on the first
   * evaluation that finds it). It resolves as soon as the condition stops holding.
   */
  for: Duration;
  /** The tracker window the figures are read over. Default: the tracker's smallest window. */
  window?: Duration;
}

/** Which condition an alert is about. */
export type AlertCondition = 'p99Above' | 'errorRatioAbove' | 'checkFailing';

/** An alert that is firing. Times are ms since the epoch. */
export interface Alert {
  /** The rule's name. */
  rule: string;
  /** The rule's severity. */
  severity: AlertSeverity;
  /** The rule's condition. */
  condition: AlertCondition;
  /** What it is about: the tracker key, or the check's name. */
  subject: string;
  /** The figure that crossed the threshold (p99 in ms, error ratio) at the last evaluation; `null` for a check. */
  value: number | null;
  /** The threshold (ms, or a ratio); `null` for a check. */
  threshold: number | null;
  /** One line for people, e.g. `p99 of GET /report is 812 ms, above 500 ms`. */
  summary: string;
  /** When the condition started to hold. */
  since: number;
  /** When the alert fired (`since` + the rule's `for`, give or take one evaluation). */
  firedAt: number;
}

/** An alert that stopped firing. */
export interface ResolvedAlert extends Alert {
  /** When it resolved. */
  resolvedAt: number;
}

/** A webhook delivery that failed for good (after its retries) or was dropped. */
export interface AlertDeliveryError {
  /** Why: the last attempt's error, or the queue's `QUEUE_FULL` / `QUEUE_CLOSED` error. */
  error: unknown;
  /** `firing` or `resolved`. */
  status: 'firing' | 'resolved';
  /** The alert the message was about. */
  alert: Alert;
}

/** The events of {@link AlertRules}, by name. */
export interface AlertEvents {
  /** An alert started firing: once per transition. */
  firing: Alert;
  /** A firing alert stopped: once per transition. */
  resolved: ResolvedAlert;
  /** A webhook message could not be delivered. */
  'delivery-error': AlertDeliveryError;
}

/**
 * Where firing and resolved alerts are posted, as JSON:
 * `{"status":"firing"|"resolved","alert":{...}}` (see {@link Alert}, {@link ResolvedAlert}).
 */
export interface AlertWebhookOptions {
  /** The URL to POST to. */
  url: string | URL;
  /** Extra request headers (an `Authorization` token...). */
  headers?: Readonly<Record<string, string>>;
  /** Bound of each POST, response included. Default `'2s'`. */
  timeout?: Duration;
  /** Further attempts after a failed POST (network error, timeout, non-2xx). Default `2`. */
  retries?: number;
  /** Pause before the first retry, doubled before each next. Default `'500ms'`. */
  backoff?: Duration;
  /** Messages waiting to be posted at most; past it new ones are dropped (`delivery-error`). Default `100`. */
  maxQueued?: number;
}

/** A health checker as the alert rules read it: a `HealthChecker` is one. */
export interface AlertHealthSource {
  /** The latest report, without waiting (a run starts in the background when it is stale). */
  latest(): HealthReport | undefined;
}

/** Options of {@link alertRules}. */
export interface AlertRulesOptions {
  /** The tracker `p99Above` and `errorRatioAbove` rules read. */
  percentiles?: PercentileTracker;
  /** The checker `checkFailing` rules read. */
  health?: AlertHealthSource;
  /** The rules (at least one). */
  rules: readonly AlertRule[];
  /** Post each firing and resolved alert here. */
  webhook?: AlertWebhookOptions;
  /** How often the rules are evaluated. Default `'1s'`. */
  interval?: Duration;
}
