/**
 * One framework-neutral middleware shape ({@link Middleware}) and thin adapters, so a middleware
 * written once runs on node:http, Connect, Express ({@link toNode}), Fastify ({@link toFastify}),
 * Koa ({@link toKoa}), Hono ({@link toHono}) and fetch-style handlers ({@link toFetch}). Ships
 * {@link timeout} (504 past a deadline) and {@link shed} (503 with `Retry-After` when a bounded
 * queue is full); handlers get the request's signal with {@link requestSignal}.
 *
 * @example
 * ```ts
 * import { TaskQueue } from 'headroom/queue';
 * import { compose, requestSignal, shed, timeout, toNode } from 'headroom/http';
 *
 * app.use(toNode(compose(timeout('2s'), shed(new TaskQueue({ concurrency: 32, maxSize: 200 })))));
 * app.get('/report/:id', async (req, res) => {
 *   res.json(await db.report(req.params.id, { signal: requestSignal(req) })); // stops on timeout
 * });
 * // Fastify: await app.register(toFastify(mw))   Koa: app.use(toKoa(mw))   Hono: app.use(toHono(mw))
 * ```
 *
 * @document ../../docs/http.md
 * @packageDocumentation
 */
export { toNode, type NodeHandler } from './to-node.js';
export type { NodeNext } from './node-driver.js';
export { toFastify, toFastifyHooks, toFastifyHandler, type FastifyPlugin, type FastifyInstanceLike, type FastifyRouteHooks } from './to-fastify.js';
export type { FastifyRequestLike, FastifyReplyLike } from './fastify-driver.js';
export { toKoa, type KoaMiddleware } from './to-koa.js';
export type { KoaContextLike } from './koa-driver.js';
export { toFetch, type ToFetchOptions } from './to-fetch.js';
export { toHono, type HonoMiddleware } from './to-hono.js';
export type { HonoContextLike } from './hono-context.js';
export { compose } from './compose.js';
export { requestSignal } from './request-signal.js';
export { timeout, type TimeoutMiddlewareOptions } from './timeout.js';
export { shed, type SheddingQueue } from './shed.js';
export {
  problemResponse,
  problemType,
  setProblemTypeBase,
  type ProblemDetails,
  type HeaderMap,
  type HttpExchange,
  type HttpResponse,
  type HttpResult,
  type Middleware,
  type Next,
  type NextOptions,
} from '../core/index.js';
