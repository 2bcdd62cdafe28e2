import { objectArgument, type Middleware, type HttpResponse } from '../core/index.js';
import type { HealthChecker } from './health-checker.js';
import { HEALTH_JSON, pathOption } from './http-shared.js';

/** Options of {@link livenessHandler}. */
export interface LivenessOptions {
  /** Answer only this path and pass other requests on with `next()`. Default: answer every request. */
  path?: string;
}

/**
 * The liveness probe: answers `200 {"status":"pass"}` (`application/health+json`) as long as the
 * process can answer at all. It never runs dependency checks: a database outage must not make
 * Kubernetes restart every pod. It also stays 200 during a graceful shutdown, since failing
 * liveness then would get the pod killed before it finished draining; readiness is what turns
 * 503.
 *
 * @param health - optional; its `version`, `serviceId` and `description` are included.
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * app.get('/live', toNode(livenessHandler(health)));
 * ```
 */
export function livenessHandler(health?: HealthChecker, options: LivenessOptions = {}): Middleware {
  objectArgument(options, 'options');
  const path = pathOption(options.path);
  const meta = health === undefined ? {} : pickMeta(health);
  // Built once: the probe answers with the same bytes every time.
  const response: HttpResponse = {
    status: 200,
    headers: { 'content-type': HEALTH_JSON, 'cache-control': 'no-store' },
    body: JSON.stringify({ status: 'pass', ...meta }),
  };
  return async (exchange, next) => {
    if (path !== undefined && exchange.path !== path) {
      await next();
      return;
    }
    exchange.respond(response);
  };
}

function pickMeta(health: HealthChecker): Record<string, string> {
  const meta: Record<string, string> = {};
  const { version, serviceId, description } = health.metadata;
  if (version !== undefined) meta.version = version;
  if (serviceId !== undefined) meta.serviceId = serviceId;
  if (description !== undefined) meta.description = description;
  return meta;
}
