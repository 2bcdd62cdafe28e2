/**
 * Performance and load-safety primitives for Node.js services. Every module is published on its
 * own subpath (`headroom/timeout`, `headroom/cache`, ...), so a service that needs one piece loads
 * nothing else, and all but `headroom/http` are re-exported here. Declared here: the error model
 * every module shares ({@link HeadroomError} with its stable {@link ErrorCode}, status and
 * `retryAfterMs`) and {@link parseDuration}, the parser behind every duration option.
 *
 * @example
 * ```ts
 * import { isHeadroomError } from 'headroom';
 *
 * try {
 *   await queue.add(work);
 * } catch (err) {
 *   if (!isHeadroomError(err, 'QUEUE_FULL')) throw err;
 *   log.warn({ retryAfterMs: err.retryAfterMs }, `shed: ${err.code}, answer ${err.status}`); // 503
 * }
 * ```
 *
 * @packageDocumentation
 */
/**
 * The error model, durations and event types every module shares: documented here, re-exported
 * by the modules that use them.
 *
 * @primaryExport
 */
export {
  ErrorCode,
  HeadroomError,
  InvalidArgumentError,
  isHeadroomError,
  parseDuration,
  type HeadroomErrorOptions,
  type Duration,
  type DurationUnit,
  type ParseDurationOptions,
  type Disposer,
  type Listener,
  type Clock,
} from './core/index.js';
// The framework-neutral HTTP shapes are documented in `headroom/http`, which uses them.
export {
  problemResponse,
  setProblemTypeBase,
  type ProblemDetails,
  type HeaderMap,
  type HttpResponse,
  type HttpResult,
  type NextOptions,
  type Next,
  type HttpExchange,
  type Middleware,
} from './core/index.js';
export * from './timeout/index.js';
export * from './queue/index.js';
export * from './cache/index.js';
export * from './percentiles/index.js';
export * from './idempotency/index.js';
export * from './health/index.js';
export * from './resilience/index.js';
export * from './ratelimit/index.js';
export * from './dashboard/index.js';
// The dashboard's metricsHandler also takes a tracker alone, as the percentiles one does.
export { metricsHandler } from './dashboard/index.js';
