import type { Readable } from 'node:stream';
import { functionArgument, type Middleware } from '../core/index.js';
import { Exchange } from './exchange.js';
import { FastifyDriver, type FastifyReplyLike, type FastifyRequestLike } from './fastify-driver.js';
import { NOT_FOUND } from './internal.js';

/** The parts of a Fastify instance the plugin uses. */
export interface FastifyInstanceLike {
  /** Adds a hook. */
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
  /** Declares a request decoration. */
  decorateRequest(name: string | symbol, value: unknown): unknown;
  /** Whether a request decoration exists. */
  hasRequestDecorator(name: string | symbol): boolean;
}

/**
 * A Fastify plugin (`app.register(plugin)`). It is marked to skip Fastify's encapsulation, the
 * way `fastify-plugin` does, so its hooks apply to the instance it is registered on.
 */
export type FastifyPlugin = (instance: FastifyInstanceLike, options: Record<never, never>, done: (err?: Error) => void) => void;

type Decorated = FastifyRequestLike & Record<symbol, FastifyDriver | null>;

/**
 * Adapts a headroom {@link Middleware} to Fastify 5, as a plugin built on hooks (no
 * `fastify-plugin` dependency).
 *
 * - The middleware runs in `onRequest`; calling `next()` lets Fastify go on to parsing and the
 *   handler; `respond()` before that answers from the hook.
 * - `exchange.route` is `request.routeOptions.url`, known from the start.
 * - `exchange.body()` is `request.body` once parsed; called before `next()`, it reads the raw
 *   body and hands the same bytes back to Fastify's parser, so the handler still gets
 *   `request.body`.
 * - `onBeforeSend` listeners and `captureBody` run in `onSend`; `next()` resolves when the
 *   response has finished.
 * - A middleware error before `next()` goes to Fastify's error handling (the hook's
 *   `done(err)`); after `next()` or an answer it is reported with `reply.log.error` and dropped.
 * - Register it before the routes it should cover.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { toFastify, timeout, requestSignal } from 'headroom/http';
 *
 * const app = Fastify();
 * await app.register(toFastify(timeout('2s')));
 * app.get<{ Params: { id: string } }>('/users/:id', (request) => users.find(request.params.id, { signal: requestSignal(request) }));
 * ```
 */
export function toFastify(middleware: Middleware): FastifyPlugin {
  functionArgument(middleware, 'middleware');
  const hooks = routeHooks(middleware);
  const key = hooks[EXCHANGE_KEY];
  const plugin: FastifyPlugin = (instance, _options, done) => {
    if (!instance.hasRequestDecorator(key)) instance.decorateRequest(key, null);
    instance.addHook('onRequest', hooks.onRequest);
    instance.addHook('preParsing', hooks.preParsing);
    instance.addHook('preHandler', hooks.preHandler);
    instance.addHook('onSend', hooks.onSend);
    done();
  };
  const marked = plugin as FastifyPlugin & Record<symbol, unknown>;
  marked[Symbol.for('skip-override')] = true;
  marked[Symbol.for('fastify.display-name')] = 'headroom';
  return plugin;
}

/** The hooks of one route, as {@link toFastifyHooks} returns them (spread them into the route's options). */
export interface FastifyRouteHooks {
  /** Runs the middleware; `next()` lets Fastify go on. */
  onRequest: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => void;
  /** Hands Fastify's parser the body the middleware read, if it read it. */
  preParsing: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: Readable, done: (err: Error | null, payload?: Readable) => void) => void;
  /** Marks the handler as started. */
  preHandler: (request: FastifyRequestLike, reply: FastifyReplyLike, done: (err?: Error) => void) => void;
  /** Fires `onBeforeSend` listeners and captures the payload. */
  onSend: (request: FastifyRequestLike, reply: FastifyReplyLike, payload: unknown, done: (err: Error | null, payload?: unknown) => void) => void;
}

const EXCHANGE_KEY: unique symbol = Symbol('headroom.fastify.exchangeKey');

function routeHooks(middleware: Middleware): FastifyRouteHooks & { [EXCHANGE_KEY]: symbol } {
  // The driver lives on the request under a symbol of this middleware's own: the later hooks
  // find it there.
  const key = Symbol('headroom.exchange');
  return {
    [EXCHANGE_KEY]: key,
    onRequest: ((request: Decorated, reply: FastifyReplyLike, hookDone: (err?: Error) => void) => {
      const driver = new FastifyDriver(request, reply, hookDone);
      request[key] = driver;
      void new Exchange(request.raw, driver).run(middleware);
    }) as FastifyRouteHooks['onRequest'],
    preParsing: ((request: Decorated, _reply: unknown, payload: Readable, hookDone: (err: Error | null, payload?: Readable) => void) => {
      const driver = request[key];
      hookDone(null, driver == null ? payload : driver.parsingPayload(payload));
    }) as FastifyRouteHooks['preParsing'],
    preHandler: ((request: Decorated, _reply: unknown, hookDone: (err?: Error) => void) => {
      request[key]?.enterHandler();
      hookDone();
    }) as FastifyRouteHooks['preHandler'],
    onSend: ((request: Decorated, _reply: unknown, payload: unknown, hookDone: (err: Error | null, payload?: unknown) => void) => {
      const driver = request[key];
      if (driver == null) hookDone(null, payload);
      else driver.sending(payload, hookDone);
    }) as FastifyRouteHooks['onSend'],
  };
}

/**
 * A headroom {@link Middleware} as the hooks of one Fastify route, to apply it to that route only:
 * spread them into the route's options. It behaves as under {@link toFastify} (the middleware
 * runs in `onRequest`, `next()` lets Fastify go on), after the hooks registered on the instance.
 *
 * @example
 * ```ts
 * import { toFastify, toFastifyHooks, timeout } from 'headroom/http';
 * import { idempotencyMiddleware } from 'headroom/idempotency';
 *
 * await fastify.register(toFastify(timeout('2s'))); // every route
 * fastify.post('/orders', { ...toFastifyHooks(idempotencyMiddleware(idempotency)) }, async (request, reply) => {
 *   reply.code(201).send(await createOrder(pool, request.body));
 * });
 * ```
 */
export function toFastifyHooks(middleware: Middleware): FastifyRouteHooks {
  functionArgument(middleware, 'middleware');
  const { onRequest, preParsing, preHandler, onSend } = routeHooks(middleware);
  return { onRequest, preParsing, preHandler, onSend };
}

/**
 * A headroom {@link Middleware} that answers (`metricsHandler`, `readinessHandler`,
 * `livenessHandler`...) as a Fastify route handler, so that the request is routed, and recorded
 * under that route (`GET /metrics`) by a `percentileMiddleware` registered with {@link toFastify}.
 * If the middleware calls `next()` instead of answering, the route answers 404.
 *
 * @example
 * ```ts
 * import { readinessHandler } from 'headroom/health';
 * import { toFastifyHandler } from 'headroom/http';
 * import { metricsHandler } from 'headroom/percentiles';
 *
 * fastify.get('/metrics', toFastifyHandler(metricsHandler(tracker)));
 * fastify.get('/ready', toFastifyHandler(readinessHandler(health)));
 * ```
 */
export function toFastifyHandler(middleware: Middleware): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void> {
  functionArgument(middleware, 'middleware');
  return (request, reply) => {
    const driver: FastifyDriver = new FastifyDriver(request, reply, (err) => {
      // next() was called: the route has nothing further to run.
      if (err !== undefined) reply.send(err);
      else if (!reply.sent) driver.sendAnswer(NOT_FOUND);
    });
    driver.enterHandler();
    return new Exchange(request.raw, driver).run(middleware);
  };
}
