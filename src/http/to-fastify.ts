import type { Readable } from 'node:stream';
import { functionArgument, type Middleware } from '../core/index.js';
import { FastifyExchange, type FastifyReplyLike, type FastifyRequestLike } from './fastify-exchange.js';

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

type Decorated = FastifyRequestLike & Record<symbol, FastifyExchange | null>;

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
 * - Register it before the routes it should cover.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { toFastify, timeout, requestSignal } from 'headroom/http';
 *
 * const app = Fastify();
 * await app.register(toFastify(timeout('2s')));
 * app.get('/users/:id', (request) => db.user(request.params.id, { signal: requestSignal(request) }));
 * ```
 */
export function toFastify(middleware: Middleware): FastifyPlugin {
  functionArgument(middleware, 'middleware');
  const key = Symbol('headroom.exchange');
  const plugin: FastifyPlugin = (instance, _options, done) => {
    if (!instance.hasRequestDecorator(key)) instance.decorateRequest(key, null);
    instance.addHook('onRequest', (request: Decorated, reply: FastifyReplyLike, hookDone: (err?: Error) => void) => {
      const exchange = new FastifyExchange(request, reply, hookDone);
      request[key] = exchange;
      void exchange.run(middleware);
    });
    instance.addHook(
      'preParsing',
      (request: Decorated, _reply: unknown, payload: Readable, hookDone: (err: Error | null, payload?: Readable) => void) => {
        const exchange = request[key];
        hookDone(null, exchange == null ? payload : exchange.parsingPayload(payload));
      },
    );
    instance.addHook('preHandler', (request: Decorated, _reply: unknown, hookDone: (err?: Error) => void) => {
      request[key]?.enterHandler();
      hookDone();
    });
    instance.addHook(
      'onSend',
      (request: Decorated, _reply: unknown, payload: unknown, hookDone: (err: Error | null, payload?: unknown) => void) => {
        const exchange = request[key];
        if (exchange == null) hookDone(null, payload);
        else exchange.sending(payload, hookDone);
      },
    );
    done();
  };
  const marked = plugin as FastifyPlugin & Record<symbol, unknown>;
  marked[Symbol.for('skip-override')] = true;
  marked[Symbol.for('fastify.display-name')] = 'headroom';
  return plugin;
}
