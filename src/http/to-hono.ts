import { functionArgument, type Middleware } from '../core/index.js';
import { Exchange } from './exchange.js';
import { HonoDriver, type HonoContextLike } from './hono-driver.js';

/** A Hono middleware, `(c, next) => Promise<void>`. */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined>;

/**
 * Adapts a headroom {@link Middleware} to a Hono 4 middleware (`app.use(...)`).
 *
 * Unlike wrapping `app.fetch` with {@link toFetch}, it runs inside Hono's routing, so
 * `exchange.route` is the matched route's pattern (`c.req.routePath` of the handler, read after
 * `next()`), and errors of the handler have become Hono's error response by the time `next()`
 * resolves.
 *
 * - `exchange.body()` returns what a validator or handler already parsed (`c.req.json()`),
 *   else reads a clone of the request, so handlers still read the body.
 * - The handler gets the signal with `requestSignal(c)`.
 * - A middleware error is rethrown to Hono (`app.onError`) unless an answer was given: then it
 *   is reported with `console.error` and the answer stands.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { toHono, timeout, requestSignal } from 'headroom/http';
 *
 * const app = new Hono();
 * app.use(toHono(timeout('2s')));
 * app.get('/users/:id', async (c) => c.json(await users.find(c.req.param('id'), { signal: requestSignal(c) })));
 * ```
 */
export function toHono(middleware: Middleware): HonoMiddleware {
  functionArgument(middleware, 'middleware');
  return function headroomHono(c: HonoContextLike, next: () => Promise<void>): Promise<Response | undefined> {
    return new Exchange(c.req.raw, new HonoDriver(c, next)).run(middleware);
  };
}
