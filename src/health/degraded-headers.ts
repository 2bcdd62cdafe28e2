import { objectArgument, optionalDuration, problemResponse, type Duration, type HttpResponse, type Middleware } from '../core/index.js';
import type { HealthChecker } from './health-checker.js';

/** Options of {@link degradedHeaders}. */
export interface DegradedHeadersOptions {
  /**
   * `Retry-After` of the 503 sent while unhealthy. Default: the checker's `cacheFor` (at least
   * 1 s), the soonest a new report can say otherwise.
   */
  retryAfter?: Duration;
}

/**
 * Middleware for application routes: reads the checker's latest report (never waits for a check
 * run) and
 *
 * - `healthy`: passes the request on untouched;
 * - `degraded`: passes it on and sets `X-Service-Status: degraded` on the response;
 * - `unhealthy`: answers `503` `application/problem+json` (`SERVICE_UNAVAILABLE`, `Retry-After`)
 *   without calling the handler;
 * - during a graceful shutdown: sets `Connection: close` so clients reconnect elsewhere, and
 *   once the server is closing (after `delay`) answers 503 to requests still arriving on
 *   kept-alive connections.
 *
 * Per request it costs a clock read and a few property reads. When the report is older than
 * `cacheFor`, a run starts in the background and the request is judged on the previous report;
 * before the first report exists, requests pass (the readiness probe keeps traffic away from an
 * instance that is not ready). So a hanging dependency never adds latency to a request.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * app.use('/api', toNode(degradedHeaders(health)));
 * ```
 */
export function degradedHeaders(health: HealthChecker, options: DegradedHeadersOptions = {}): Middleware {
  objectArgument(options, 'options');
  const retryAfterMs = optionalDuration(options.retryAfter, 'retryAfter', Math.max(1_000, health.cacheForMs));
  const unhealthy: HttpResponse = problemResponse({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    detail: 'The service is unhealthy; retry later.',
    retryAfterMs,
  });
  const draining: HttpResponse = withConnectionClose(
    problemResponse({ status: 503, code: 'SERVICE_UNAVAILABLE', detail: 'The service is shutting down.', retryAfterMs: 1_000 }),
  );
  return async (exchange, next) => {
    if (health.shuttingDown) {
      if (health.draining) {
        exchange.respond(draining);
        return;
      }
      exchange.setHeader('connection', 'close');
      await next();
      return;
    }
    const report = health.latest();
    if (report !== undefined) {
      if (report.status === 'unhealthy') {
        exchange.respond(unhealthy);
        return;
      }
      if (report.status === 'degraded') exchange.setHeader('x-service-status', 'degraded');
    }
    await next();
  };
}

function withConnectionClose(response: HttpResponse): HttpResponse {
  return { ...response, headers: { ...response.headers, connection: 'close' } };
}
