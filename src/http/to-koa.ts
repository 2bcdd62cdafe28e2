import { functionArgument, type Middleware } from '../core/index.js';
import { Exchange } from './exchange.js';
import { KoaDriver, type KoaContextLike } from './koa-driver.js';

/** A Koa middleware, `(ctx, next) => Promise<void>`. */
export type KoaMiddleware = (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void>;

/**
 * Adapts a headroom {@link Middleware} to Koa 3.
 *
 * - Koa writes the response once every middleware returned, so `next()` resolves when the
 *   downstream middleware returned, and `respond()` (a timeout's `504`) is sent as soon as this
 *   middleware returns, even while the handler is still running.
 * - `exchange.route` is `ctx._matchedRoute`, set by `@koa/router` downstream (read it after
 *   `next()`), else `undefined`.
 * - `exchange.body()` is `ctx.request.body` when a body parser ran before; otherwise it reads
 *   the request stream and stores the bytes as a `Buffer` in `ctx.request.body`.
 * - A middleware error is rethrown to Koa while no answer was given; after one, it is reported
 *   with `console.error` and dropped (the error policy of every adapter, docs/http.md).
 *
 * @example
 * ```ts
 * import Koa from 'koa';
 * import { toKoa, timeout, requestSignal } from 'headroom/http';
 *
 * const app = new Koa();
 * app.use(toKoa(timeout('2s')));
 * app.use(async (ctx) => {
 *   ctx.body = await report({ signal: requestSignal(ctx) });
 * });
 * ```
 */
export function toKoa(middleware: Middleware): KoaMiddleware {
  functionArgument(middleware, 'middleware');
  return function headroomKoa(ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> {
    return new Exchange(ctx.req, new KoaDriver(ctx, next)).run(middleware);
  };
}
