/**
 * What every headroom module shares: the error model, duration parsing, option checks, a typed
 * event emitter, the clock and the shared deadline timer.
 *
 * @packageDocumentation
 */
export {
  ErrorCode,
  HeadroomError,
  InvalidArgumentError,
  brandError,
  isHeadroomError,
  invalidArgument,
  describe,
  type HeadroomErrorOptions,
} from './errors.js';
export { parseDuration, optionalDuration, type Duration, type DurationUnit, type ParseDurationOptions } from './duration.js';
export { integerOption, numberOption, stringOption, functionArgument, objectArgument } from './validate.js';
export { Emitter, type Listener, type Disposer } from './emitter.js';
export type { HeaderMap, HttpResponse, HttpResult, NextOptions, Next, HttpExchange, Middleware } from './http.js';
export { problemResponse, problemType, setProblemTypeBase, type ProblemDetails } from './problem.js';
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
export { Deadline } from './deadline.js';
export { clockOption, performanceClock, wallClock, type Clock } from './clock.js';
export { quitWithin, type Quittable } from './quit-within.js';
export { closureFreePromise, settlers, type Settle } from './settlers.js';
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
export { corkClient, type CorkableSocket, type RedisEventListener, type RedisScripting, type RedisSubscriber, type RedisPubSub } from './redis-client.js';
