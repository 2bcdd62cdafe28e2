/**
 * What every headroom module shares: the error model, duration parsing, option checks, a typed
 * event emitter, the clock and the shared deadline timer.
 *
 * @packageDocumentation
 */
export { ErrorCode, HeadroomError, InvalidArgumentError, isHeadroomError, invalidArgument, describe, type HeadroomErrorOptions } from './errors.js';
// The re-exports marked @internal are for headroom's modules only: the published declarations
// leave them out (stripInternal), as they leave out the declarations themselves.
/** @internal */
export { brandError } from './errors.js';
export { parseDuration, optionalDuration, type Duration, type DurationUnit, type ParseDurationOptions } from './duration.js';
export { integerOption, numberOption, stringOption, functionArgument, objectArgument, isArray } from './validate.js';
export { Emitter, type Listener, type Disposer } from './emitter.js';
export type { HeaderMap, HttpResponse, HttpResult, NextOptions, Next, HttpExchange, Middleware } from './http.js';
export { problemResponse, problemType, setProblemTypeBase, type ProblemDetails } from './problem.js';
/** @internal */
export {
  armDeadline,
  disarmDeadline,
  deadlineTimerState,
  driveDeadlinesWith,
  fireDueDeadlines,
  now as deadlineNow,
  type DeadlineNode,
  type DeadlineList,
} from './deadline-timer.js';
/** @internal */
export { Deadline } from './deadline.js';
export type { Clock } from './clock.js';
/** @internal */
export { clockOption, performanceClock, wallClock } from './clock.js';
/** @internal */
export { quitWithin, type Quittable } from './quit-within.js';
export type { Settle } from './settlers.js';
/** @internal */
export { promiseWithSettlers, settlers } from './settlers.js';
/** @internal */
export { DeadlineCall, LazyAbortController, type AbortHandle } from './deadline-call.js';
export {
  escapeLabelValue,
  escapeHelp,
  formatSampleValue,
  writeFamily,
  writeFamilies,
  METRIC_NAME,
  type PrometheusFamily,
  type PrometheusSample,
} from './prometheus-text.js';
export type { RedisEventListener, RedisScripting, RedisSubscriber, RedisPubSub } from './redis-client.js';
/** @internal */
export { corkClient, type CorkableSocket } from './redis-client.js';
