import type { Duration } from '../core/index.js';

/** The status of one check, as in `application/health+json`. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

/**
 * The status of the whole service.
 *
 * - `healthy`: every check passed.
 * - `degraded`: no critical check failed, but a non-critical check failed or some check warned.
 *   The service still serves traffic (readiness answers 200).
 * - `unhealthy`: at least one critical check failed (readiness answers 503).
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** What a check may resolve with to describe its reading in detail. */
export interface CheckResult {
  /** `pass`, `warn` (the service is degraded) or `fail`. */
  status: CheckStatus;
  /** The reading, e.g. a latency in ms or a utilization in percent. */
  observedValue?: number | string | boolean;
  /** The unit of {@link CheckResult.observedValue}: `'ms'`, `'percent'`, `'tasks'`... */
  observedUnit?: string;
  /** A short human-readable explanation, shown for `warn` and `fail`. */
  output?: string;
}

/**
 * What a check returns: nothing or `true` (pass), `false` (fail), or a {@link CheckResult}.
 * Throwing (or rejecting) is a fail whose output is the error's message.
 */
export type CheckOutcome = void | undefined | boolean | CheckResult;

/**
 * A health check: a function of an `AbortSignal` that is aborted when the check's deadline
 * passes. Pass the signal on to the work (`fetch`, a driver that accepts one) so that a timed-out
 * check really stops.
 *
 * The optional properties let a built-in check carry defaults that
 * {@link HealthChecker.register} uses when its options do not say otherwise.
 *
 * @example
 * ```ts
 * const check: HealthCheck = async (signal) => {
 *   const res = await fetch('http://billing.internal/health', { signal });
 *   return res.ok;
 * };
 * ```
 */
export interface HealthCheck {
  /** Runs the check once. */
  (signal: AbortSignal): CheckOutcome | PromiseLike<CheckOutcome>;
  /** Default `componentType` in health+json: `'datastore'`, `'component'`, `'system'`... */
  kind?: string;
  /** Default measurement name in health+json keys (`name:measurement`), e.g. `'responseTime'`. */
  measurement?: string;
  /** Releases what the check holds (a histogram, a timer); called by {@link HealthChecker.close}. */
  close?: () => void;
}

/** Options of {@link HealthChecker.register}. */
export interface RegisterOptions {
  /**
   * When `true` (default), this check failing makes the service `unhealthy` (readiness 503).
   * When `false`, its failing only makes the service `degraded`.
   */
  critical?: boolean;
  /** This check's deadline; default the checker's `timeout`. */
  timeout?: Duration;
  /**
   * The component type reported in health+json (`componentType`): `'datastore'`,
   * `'component'`, `'system'` or your own. Default: the check's own `kind`, else `'component'`.
   */
  kind?: string;
  /**
   * The measurement name in the health+json key `name:measurement` (`'responseTime'`,
   * `'utilization'`...). Default: the check's own `measurement`; without one the key is `name`.
   */
  measurement?: string;
  /** A unique id of the component instance, reported as `componentId` in health+json. */
  componentId?: string;
}

/** The outcome of one check within a {@link HealthReport}. */
export interface CheckReport {
  /** `pass`, `warn` or `fail`. */
  status: CheckStatus;
  /** How long the check took (0 when it was not started because its previous run still hangs). */
  durationMs: number;
  /** Why the check warned or failed (error message, `timed out after 500 ms`...). */
  output?: string;
  /** The check's reading, when it gave one. */
  observedValue?: number | string | boolean;
  /** The unit of {@link CheckReport.observedValue}. */
  observedUnit?: string;
  /** Whether a failure of this check makes the service unhealthy. */
  critical: boolean;
  /** The component type, when known. */
  kind?: string;
  /** The measurement name, when known. */
  measurement?: string;
  /** The component instance id, when one was registered. */
  componentId?: string;
  /** When the reading was taken (ISO 8601). */
  time: string;
}

/** The result of {@link HealthChecker.check}. */
export interface HealthReport {
  /** The service's status. */
  status: HealthStatus;
  /** `true` unless the status is `unhealthy`: the service can serve (possibly degraded). */
  healthy: boolean;
  /** `true` when the status is `degraded`. */
  degraded: boolean;
  /**
   * A one-line summary naming the checks that warned or failed, e.g.
   * `degraded: cache failed, queue warned`. It never contains check outputs, so it is safe to
   * send in a response header.
   */
  message: string;
  /** One entry per registered check, by name. */
  checks: Record<string, CheckReport>;
  /** How long the whole run took. */
  durationMs: number;
  /** When the run finished (ISO 8601). */
  timestamp: string;
  /** The checker's `version` option, when set. */
  version?: string;
  /** The checker's `serviceId` option, when set. */
  serviceId?: string;
  /** The checker's `description` option, when set. */
  description?: string;
}

/** Options of {@link HealthChecker}. */
export interface HealthCheckerOptions {
  /** Each check's default deadline. Default `'500ms'`. */
  timeout?: Duration;
  /**
   * How long a finished report is reused before checks run again. Default `'1s'`; `0` runs the
   * checks on every call that does not overlap a run in progress.
   */
  cacheFor?: Duration;
  /** The service's public version, reported in health+json. */
  version?: string;
  /** A unique identifier of the service, reported in health+json. */
  serviceId?: string;
  /** A human-friendly description of the service, reported in health+json. */
  description?: string;
}
