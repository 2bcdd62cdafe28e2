/**
 * `headroom/http`: one framework-neutral middleware shape and thin adapters, so a middleware
 * written once runs on node:http, Connect, Express, Fastify, Koa, Hono and fetch-style handlers.
 * Ships {@link timeout} and {@link shed}.
 *
 * @packageDocumentation
 */
export { toNode, type NodeHandler } from './to-node.js';
export type { NodeNext } from './node-exchange.js';
export { toFastify, toFastifyHooks, toFastifyHandler, type FastifyPlugin, type FastifyInstanceLike, type FastifyRouteHooks } from './to-fastify.js';
export type { FastifyRequestLike, FastifyReplyLike } from './fastify-exchange.js';
export { toKoa, type KoaMiddleware } from './to-koa.js';
export type { KoaContextLike } from './koa-exchange.js';
export { toFetch, type ToFetchOptions } from './to-fetch.js';
export { toHono, type HonoMiddleware } from './to-hono.js';
export type { HonoContextLike } from './hono-exchange.js';
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
