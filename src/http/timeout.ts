import {
  objectArgument,
  parseDuration,
  problemResponse,
  stringOption,
  type Duration,
  type HttpExchange,
  type Middleware,
  promiseWithSettlers,
  Deadline,
  settlers,
  type Settle,
} from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';

/** Options of {@link timeout}. */
export interface TimeoutMiddlewareOptions {
  /** The operation name the {@link TimeoutError} (and the problem's `detail`) carries. Default: none. */
  name?: string;
}

/**
 * One request's deadline: a node of the shared deadline timer (no timer, no AbortController,
 * no `withTimeout` race of its own), settling the middleware's promise at the deadline or when
 * the rest of the chain settles, whichever comes first.
 */
class RequestDeadline extends Deadline {
  done = false;
  readonly resolve: Settle = settlers.resolve;
  readonly reject: Settle = settlers.reject;

  constructor(
    readonly exchange: HttpExchange,
    readonly timeoutMs: number,
    readonly name: string | undefined,
  ) {
    super();
  }

  onDeadline(): void {
    if (this.done) return;
    this.done = true;
    this.expire(new TimeoutError(this.timeoutMs, this.name));
  }

  fulfil(): void {
    if (this.done) return;
    this.done = true;
    this.disarmDeadline();
    this.resolve(undefined);
  }

  fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    this.disarmDeadline();
    // A TimeoutError from further down (a queue's, a handler's) is answered like our own.
    if (err instanceof TimeoutError) this.expire(err);
    else this.reject(err);
  }

  private expire(err: TimeoutError): void {
    // Answer first, so that what the handler does on abort lands on a sent response.
    try {
      this.exchange.respond(problemResponse(err));
      this.exchange.abort(err);
    } catch (thrown) {
      this.reject(thrown);
      return;
    }
    this.resolve(undefined);
  }
}

/**
 * A request that runs past `duration` gets a `504` with an `application/problem+json` body
 * (`type`, `title`, `status`, `code: 'OPERATION_TIMEOUT'`, `detail`), and the exchange signal
 * is aborted with the {@link TimeoutError}, so a handler that passed `requestSignal(req)` to its
 * work stops it. Whatever the handler writes afterwards is discarded.
 *
 * The deadline runs until the response is done (until it finished for node and Fastify, until
 * the handler returned for Koa, Hono and fetch). When the handler has already started its
 * response (streaming), the signal is still aborted but the status cannot change.
 *
 * Per request it costs one small object on the shared deadline timer (the one behind
 * `withTimeout`), its promise and two callbacks: no `setTimeout`, no `AbortController` unless
 * someone reads the exchange signal.
 *
 * @param duration - the deadline: ms, or `'250ms'`, `'5s'`...
 * @example
 * ```ts
 * app.use(toNode(timeout('2s', { name: 'api' })));
 * // HTTP/1.1 504 Gateway Timeout
 * // content-type: application/problem+json
 * // {"type":"about:blank","title":"Gateway Timeout","status":504,
 * //  "code":"OPERATION_TIMEOUT","detail":"headroom: api timed out after 2000 ms"}
 * ```
 */
export function timeout(duration: Duration, options: TimeoutMiddlewareOptions = {}): Middleware {
  const timeoutMs = parseDuration(duration, 'duration', { positive: true });
  objectArgument(options, 'options');
  const name = options.name === undefined ? undefined : stringOption(options.name, 'options.name', '');
  return function timeoutMiddleware(exchange, next) {
    const promise = promiseWithSettlers<void>();
    const deadline = new RequestDeadline(exchange, timeoutMs, name);
    deadline.armDeadline(timeoutMs);
    let pending;
    try {
      pending = next();
    } catch (err) {
      deadline.fail(err);
      return promise;
    }
    pending.then(
      () => deadline.fulfil(),
      (err: unknown) => deadline.fail(err),
    );
    return promise;
  };
}
