import { objectArgument, parseDuration, problemResponse, stringOption, type Duration, type Middleware } from '../core/index.js';
import { TimeoutError, withTimeout } from '../timeout/index.js';

/** Options of {@link timeout}. */
export interface TimeoutMiddlewareOptions {
  /** The operation name the {@link TimeoutError} (and the problem's `detail`) carries. Default: none. */
  name?: string;
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
 * @param duration - the deadline: ms, or `'250ms'`, `'5s'`...
 * @example
 * ```ts
 * app.use(toNode(timeout('2s', { name: 'api' })));
 * // HTTP/1.1 504 Gateway Timeout
 * // content-type: application/problem+json
 * // {"type":"urn:headroom:error:operation-timeout","title":"Gateway Timeout","status":504,
 * //  "code":"OPERATION_TIMEOUT","detail":"headroom: api timed out after 2000 ms"}
 * ```
 */
export function timeout(duration: Duration, options: TimeoutMiddlewareOptions = {}): Middleware {
  const timeoutMs = parseDuration(duration, 'duration', { positive: true });
  objectArgument(options, 'options');
  const name = options.name === undefined ? undefined : stringOption(options.name, 'options.name', '');
  return async function timeoutMiddleware(exchange, next) {
    try {
      await withTimeout(next(), timeoutMs, name);
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      // Answer first, so that what the handler does on abort lands on a sent response.
      exchange.respond(problemResponse(err));
      exchange.abort(err);
    }
  };
}
