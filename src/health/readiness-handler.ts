import { invalidArgument, objectArgument, type HttpExchange, type HttpResponse, type Middleware } from '../core/index.js';
import type { HealthChecker } from './health-checker.js';
import { toHealthJson, type HealthDetail } from './health-json.js';
import { HEALTH_JSON, headerSafe, pathOption, queryFlag } from './http-shared.js';
import type { HealthReport } from './types.js';

/** Options of {@link readinessHandler}. */
export interface ReadinessOptions {
  /**
   * What a verbose answer shows. `'public'` (default): each check's name, status, type and time,
   * never outputs, observed values or component ids, since anyone who can reach the port can
   * read them. `'full'`: everything (use it on an internal port or behind auth).
   */
  detail?: HealthDetail;
  /**
   * When to include the `checks` object. Default: when the request has `?verbose` (or
   * `?verbose=1`, `?verbose=true`). `true` always, `false` never, or a function of the exchange.
   */
  verbose?: boolean | ((exchange: HttpExchange) => boolean);
  /** Answer only this path and pass other requests on with `next()`. Default: answer every request. */
  path?: string;
}

/** A report's two rendered answers, built once per report. */
interface Rendered {
  report: HealthReport;
  terse: HttpResponse;
  verbose: HttpResponse | undefined;
}

/**
 * The readiness probe: runs the checks (through the checker's cache and coalescing, so a
 * thousand concurrent probes cost one run) and answers with `application/health+json`:
 *
 * | service status | HTTP | `X-Service-Status` |
 * | --- | --- | --- |
 * | healthy | 200 | `healthy` |
 * | degraded | 200 | `degraded`, plus `X-Service-Message` naming the checks at fault |
 * | unhealthy | 503 | `unhealthy`, plus `X-Service-Message` |
 * | shutting down | 503 | `shutting-down` (no check runs) |
 *
 * Always `Cache-Control: no-store`. The body is `{"status":"pass"|"warn"|"fail", version...}`,
 * with `checks` when verbose (see {@link ReadinessOptions}).
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * app.get('/ready', toNode(readinessHandler(health, { detail: 'public' })));
 * // GET /ready?verbose -> {"status":"warn","checks":{"jobs:utilization":[{"componentType":"component","status":"warn",...}]}}
 * ```
 */
export function readinessHandler(health: HealthChecker, options: ReadinessOptions = {}): Middleware {
  if (health === null || typeof health !== 'object' || typeof health.check !== 'function') {
    throw invalidArgument('health', 'a HealthChecker', health);
  }
  objectArgument(options, 'options');
  const detail = options.detail ?? 'public';
  if (detail !== 'public' && detail !== 'full') throw invalidArgument('detail', '"public" or "full"', detail);
  const verbose = options.verbose;
  if (verbose !== undefined && typeof verbose !== 'boolean' && typeof verbose !== 'function') {
    throw invalidArgument('verbose', 'a boolean or a function of the exchange', verbose);
  }
  const path = pathOption(options.path);
  const stopping = unavailable(health, 'shutting-down', 'shutting down');
  const closed = unavailable(health, 'unhealthy', 'health checker closed');
  let rendered: Rendered | undefined;

  const render = (report: HealthReport, wantVerbose: boolean): HttpResponse => {
    if (rendered?.report !== report) rendered = { report, terse: respond(report, detail, false), verbose: undefined };
    if (!wantVerbose) return rendered.terse;
    rendered.verbose ??= respond(report, detail, true);
    return rendered.verbose;
  };

  return async (exchange, next) => {
    if (path !== undefined && exchange.path !== path) {
      await next();
      return;
    }
    if (health.shuttingDown) {
      exchange.respond(stopping);
      return;
    }
    let report: HealthReport;
    try {
      report = await health.check();
    } catch {
      exchange.respond(closed);
      return;
    }
    // A shutdown may have started while the checks ran.
    if (health.shuttingDown) {
      exchange.respond(stopping);
      return;
    }
    const wantVerbose = verbose === undefined ? queryFlag(exchange, 'verbose') : typeof verbose === 'boolean' ? verbose : verbose(exchange) === true;
    exchange.respond(render(report, wantVerbose));
  };
}

function respond(report: HealthReport, detail: HealthDetail, verbose: boolean): HttpResponse {
  const headers: Record<string, string> = {
    'content-type': HEALTH_JSON,
    'cache-control': 'no-store',
    'x-service-status': report.status,
  };
  if (report.status !== 'healthy') headers['x-service-message'] = headerSafe(report.message);
  return {
    status: report.status === 'unhealthy' ? 503 : 200,
    headers,
    body: JSON.stringify(toHealthJson(report, { detail, checks: verbose })),
  };
}

function unavailable(health: HealthChecker, status: string, output: string): HttpResponse {
  return {
    status: 503,
    headers: { 'content-type': HEALTH_JSON, 'cache-control': 'no-store', 'x-service-status': status },
    body: JSON.stringify({ status: 'fail', ...health.metadata, output }),
  };
}
