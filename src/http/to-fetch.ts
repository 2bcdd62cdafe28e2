import { functionArgument, objectArgument, stringOption, type Middleware } from '../core/index.js';
import { Exchange } from './exchange.js';
import { FetchDriver } from './fetch-driver.js';

/** Options of {@link toFetch}. */
export interface ToFetchOptions {
  /**
   * The route template to report as `exchange.route` (a fetch handler has no router), e.g.
   * `'/api/users/[id]'` for a Next.js route handler. Default: `undefined`.
   */
  route?: string;
}

/**
 * Wraps a fetch-style handler, `(request, ...rest) => Response`, with a headroom
 * {@link Middleware}. Covers Hono's `app.fetch`, Next.js route handlers, Bun and Deno servers
 * and anything else that speaks `Request`/`Response`; extra arguments (`env`, a route context)
 * pass through to the handler.
 *
 * - `next()` calls the handler and resolves with its `Response`; `respond()` replaces it.
 * - `exchange.body()` reads a clone of the request, so the handler still reads the body.
 * - Headers set with `setHeader` before the handler answered are added to its response when
 *   it does not set them itself; `onBeforeSend` listeners run just before the response is
 *   returned.
 * - A middleware error rejects the returned promise, unless an answer was given: then it is
 *   reported with `console.error` and the answer is returned.
 * - The handler gets the signal with `requestSignal(request)`; it also aborts when
 *   `request.signal` does (client disconnect, where the server supports it).
 *
 * @example
 * ```ts
 * import { serve } from '@hono/node-server';
 * import { toFetch, timeout, requestSignal } from 'headroom/http';
 *
 * const handler = async (request: Request) => {
 *   const rows = await report({ signal: requestSignal(request) });
 *   return Response.json(rows);
 * };
 * serve({ fetch: toFetch(timeout('2s'), handler), port: 3000 });
 *
 * // Next.js: app/api/report/route.ts
 * export const GET = toFetch(timeout('2s'), handler, { route: '/api/report' });
 * ```
 */
export function toFetch<A extends unknown[]>(
  middleware: Middleware,
  handler: (request: Request, ...args: A) => Response | PromiseLike<Response>,
  options: ToFetchOptions = {},
): (request: Request, ...args: A) => Promise<Response> {
  functionArgument(middleware, 'middleware');
  functionArgument(handler, 'handler');
  objectArgument(options, 'options');
  const route = options.route === undefined ? undefined : stringOption(options.route, 'options.route', '');
  return function headroomFetch(request: Request, ...args: A): Promise<Response> {
    return new Exchange(request, new FetchDriver(request, args, handler, route)).run(middleware);
  };
}
