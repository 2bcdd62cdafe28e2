import { type HttpExchange, type HttpResult, type Middleware, functionArgument, invalidArgument, objectArgument } from '../core/index.js';
import type { PercentileTracker } from './percentile-tracker.js';
import type { RecordOptions } from './tracker-types.js';
import type { PrometheusOptions } from './prometheus.js';
import type { RequestOutcome } from './stats.js';

/** The route part of the key when the framework matched no route (404s, static files...). */
export const UNMATCHED_ROUTE = '<unmatched>';

/** Options of {@link percentileMiddleware}. */
export interface PercentileMiddlewareOptions {
  /**
   * Add a `Server-Timing` metric with the time spent so far, written just before the response
   * head, after the metrics the handler set itself (however it set them). `true` names the
   * metric `app`; a string names it. Default `false`.
   */
  serverTiming?: boolean | string;
  /**
   * The key to record a request under. Default: `` `${method} ${route}` `` with the framework's
   * route template (`'GET /users/:id'`), or `` `${method} <unmatched>` `` when no route matched:
   * never the raw path, whose ids would make one key per user. `result` is `undefined` when the
   * handler threw.
   */
  key?: (exchange: HttpExchange, result: HttpResult | undefined) => string;
}

/** One frozen options object per outcome: recording allocates nothing. */
const RECORD: Readonly<Record<RequestOutcome, RecordOptions | undefined>> = Object.freeze({
  served: undefined,
  error: Object.freeze({ outcome: 'error' }),
  shed: Object.freeze({ outcome: 'shed' }),
  timed_out: Object.freeze({ outcome: 'timed_out' }),
  client_gone: Object.freeze({ outcome: 'client_gone' }),
});

/**
 * What happened to a request, read off the answer `next()` resolved with: whether the client
 * left first ({@link HttpResult.clientGone}), the problem `code` a middleware answered with in
 * the handler's place ({@link HttpResult.code}), else the status the handler answered with.
 * {@link percentileMiddleware} records each request with it.
 *
 * @example
 * ```ts
 * import type { Middleware } from 'headroom/http';
 *
 * const countShed: Middleware = async (exchange, next) => {
 *   const result = await next();
 *   if (requestOutcome(result) === 'shed') metrics.increment('requests_shed');
 * };
 * ```
 */
export function requestOutcome(result: HttpResult): RequestOutcome {
  if (result.clientGone === true) return 'client_gone';
  switch (result.code) {
    case 'OPERATION_TIMEOUT':
      return 'timed_out';
    case 'QUEUE_FULL':
    case 'QUEUE_CLOSED':
    case 'SERVICE_UNAVAILABLE':
      return 'shed';
    default:
      return result.status >= 500 ? 'error' : 'served';
  }
}

function defaultKey(exchange: HttpExchange): string {
  return `${exchange.method} ${exchange.route ?? UNMATCHED_ROUTE}`;
}

/**
 * HTTP middleware that records every request's duration under `METHOD route-template`, with its
 * outcome ({@link RequestOutcome}) read off the answer: the handler's answers are `served`, or
 * `error` for a 5xx (and thrown handlers); answers a headroom middleware gave in the handler's
 * place are counted apart by their problem `code`: `shed` (503 `QUEUE_FULL`, `QUEUE_CLOSED`,
 * `SERVICE_UNAVAILABLE`), `timed_out` (504 `OPERATION_TIMEOUT`), and `client_gone` when the
 * client left first. Only `served` and `error` are in the percentiles. Adapt it with `toNode`,
 * `toFastify`, `toKoa`, `toFetch` or `toHono` from `headroom/http`.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 * import { PercentileTracker, percentileMiddleware, metricsHandler } from 'headroom/percentiles';
 *
 * const tracker = new PercentileTracker();
 * app.use(toNode(percentileMiddleware(tracker, { serverTiming: true })));
 * app.get('/metrics', toNode(metricsHandler(tracker)));
 * ```
 */
export function percentileMiddleware(tracker: PercentileTracker, options?: PercentileMiddlewareOptions): Middleware {
  objectArgument(tracker, 'tracker');
  objectArgument(options, 'options');
  const timing = options?.serverTiming ?? false;
  if (typeof timing !== 'boolean' && (typeof timing !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(timing))) {
    throw invalidArgument('options.serverTiming', 'a boolean or a Server-Timing metric name (an HTTP token)', timing);
  }
  const metric = timing === true ? 'app' : timing === false ? undefined : timing;
  const keyOf = options?.key;
  if (keyOf !== undefined) functionArgument(keyOf, 'options.key');

  const record = (exchange: HttpExchange, result: HttpResult | undefined, elapsed: number, outcome: RequestOutcome): void => {
    // Recording happens after the response; a bad custom key must not fail the request.
    try {
      const key = keyOf === undefined ? defaultKey(exchange) : keyOf(exchange, result);
      tracker.record(key, elapsed, RECORD[outcome]);
    } catch (err) {
      process.emitWarning(`headroom: percentileMiddleware could not record: ${err instanceof Error ? err.message : String(err)}`, {
        code: 'HEADROOM_PERCENTILES_RECORD',
      });
    }
  };

  return async (exchange, next) => {
    const start = performance.now();
    if (metric !== undefined) {
      exchange.onBeforeSend(() => {
        exchange.appendHeader('server-timing', `${metric};dur=${(performance.now() - start).toFixed(3)}`);
      });
    }
    let result: HttpResult;
    try {
      result = await next();
    } catch (err) {
      record(exchange, undefined, performance.now() - start, 'error');
      throw err;
    }
    record(exchange, result, performance.now() - start, requestOutcome(result));
  };
}

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions extends PrometheusOptions {
  /**
   * Answer only requests to this path (and pass others on), so it can be mounted app-wide.
   * Default: answer every request it sees (mount it on your metrics route).
   */
  path?: string;
}

/**
 * HTTP handler (a middleware that answers) serving {@link PercentileTracker.toPrometheus} as
 * `text/plain; version=0.0.4`, for a Prometheus scrape.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 *
 * app.use(toNode(metricsHandler(tracker, { path: '/metrics', window: '1m' })));
 * ```
 */
export function metricsHandler(tracker: PercentileTracker, options?: MetricsHandlerOptions): Middleware {
  objectArgument(tracker, 'tracker');
  objectArgument(options, 'options');
  const { path, ...prometheus } = options ?? {};
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw invalidArgument('options.path', 'a path starting with "/"', path);
  }
  // Validate the exposition options now rather than on the first scrape.
  tracker.toPrometheus(prometheus);
  return async (exchange, next) => {
    if (path !== undefined && exchange.path !== path) {
      await next();
      return;
    }
    exchange.respond({
      status: 200,
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' },
      body: tracker.toPrometheus(prometheus),
    });
  };
}
