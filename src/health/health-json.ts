import type { CheckStatus, HealthReport, HealthStatus } from './types.js';

/** How much of a report {@link toHealthJson} shows. */
export type HealthDetail = 'public' | 'full';

/** One entry of a health+json `checks` array. */
export interface HealthJsonCheck {
  /** The component instance, when registered with `componentId` (full detail only). */
  componentId?: string;
  /** `datastore`, `component`, `system`... */
  componentType: string;
  /** The check's reading (full detail only). */
  observedValue?: number | string | boolean;
  /** The unit of `observedValue` (full detail only). */
  observedUnit?: string;
  /** `pass`, `warn` or `fail`. */
  status: CheckStatus;
  /** When the reading was taken (ISO 8601). */
  time: string;
  /** Why the check warned or failed; omitted on `pass` (full detail only). */
  output?: string;
}

/** The `application/health+json` document (draft-inadarei-api-health-check). */
export interface HealthJson {
  /** `pass` (healthy), `warn` (degraded) or `fail` (unhealthy). */
  status: CheckStatus;
  /** The service's public version, when configured. */
  version?: string;
  /** The service's identifier, when configured. */
  serviceId?: string;
  /** The service's description, when configured. */
  description?: string;
  /** The report's summary, on `warn` and `fail` (full detail only). */
  output?: string;
  /** One array per check, keyed `name:measurement` (or `name` when the check has no measurement). */
  checks?: Record<string, HealthJsonCheck[]>;
}

/** Options of {@link toHealthJson}. */
export interface HealthJsonOptions {
  /**
   * `'full'` (default) includes everything; `'public'` keeps only each check's status, type and
   * time, dropping outputs, observed values and component ids, which can reveal internals
   * (host names, error messages) to anyone who can reach the endpoint.
   */
  detail?: HealthDetail;
  /** Include `checks`. Default `true`. */
  checks?: boolean;
}

const TO_JSON_STATUS: Record<HealthStatus, CheckStatus> = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' };

/** The health+json status of a {@link HealthStatus}: `healthy` pass, `degraded` warn, `unhealthy` fail. */
export function healthJsonStatus(status: HealthStatus): CheckStatus {
  return TO_JSON_STATUS[status];
}

/**
 * Turns a {@link HealthReport} into the `application/health+json` document of
 * draft-inadarei-api-health-check: `status` pass/warn/fail, the service's `version`,
 * `serviceId` and `description`, and `checks` keyed `name:measurement`, each an array of one
 * object (`componentType`, `observedValue`, `observedUnit`, `status`, `time`, and `output` on
 * non-pass only).
 *
 * @example
 * ```ts
 * const body = JSON.stringify(toHealthJson(await health.check()));
 * // {"status":"warn","version":"1.4.2","output":"degraded: jobs warned","checks":{"redis:responseTime":[{"componentType":"datastore",
 * //   "observedValue":0.41,"observedUnit":"ms","status":"pass","time":"2025-01-01T12:00:00.000Z"}], ...}}
 * ```
 */
export function toHealthJson(report: HealthReport, options: HealthJsonOptions = {}): HealthJson {
  const full = options.detail !== 'public';
  const doc: HealthJson = { status: TO_JSON_STATUS[report.status] };
  if (report.version !== undefined) doc.version = report.version;
  if (report.serviceId !== undefined) doc.serviceId = report.serviceId;
  if (report.description !== undefined) doc.description = report.description;
  if (full && report.status !== 'healthy') doc.output = report.message;
  if (options.checks === false) return doc;
  const checks: Record<string, HealthJsonCheck[]> = {};
  for (const name of Object.keys(report.checks)) {
    const check = report.checks[name];
    if (check === undefined) continue;
    // Built in the draft's field order, so the document reads as its examples do.
    const entry = {} as HealthJsonCheck;
    if (full && check.componentId !== undefined) entry.componentId = check.componentId;
    entry.componentType = check.kind ?? 'component';
    if (full && check.observedValue !== undefined) entry.observedValue = check.observedValue;
    if (full && check.observedUnit !== undefined) entry.observedUnit = check.observedUnit;
    entry.status = check.status;
    entry.time = check.time;
    if (full && check.output !== undefined && check.status !== 'pass') entry.output = check.output;
    checks[check.measurement === undefined ? name : `${name}:${check.measurement}`] = [entry];
  }
  doc.checks = checks;
  return doc;
}
