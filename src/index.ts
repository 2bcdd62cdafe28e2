/**
 * headroom: performance and load-safety primitives for Node.js services.
 *
 * Every module is also published on its own subpath (`headroom/timeout`, `headroom/queue`,
 * `headroom/cache`, `headroom/percentiles`, `headroom/idempotency`, `headroom/health`,
 * `headroom/ratelimit`), so a service that needs one piece loads nothing else. The HTTP adapters and middleware live on
 * `headroom/http` only, where their short names (`timeout`, `shed`) cannot be confused.
 *
 * @packageDocumentation
 */
export {
  ErrorCode,
  HeadroomError,
  InvalidArgumentError,
  isHeadroomError,
  parseDuration,
  problemResponse,
  type HeadroomErrorOptions,
  type Duration,
  type DurationUnit,
  type ParseDurationOptions,
  type Disposer,
  type Listener,
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
export * from './ratelimit/index.js';
