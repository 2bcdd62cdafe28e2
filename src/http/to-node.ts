import type { IncomingMessage, ServerResponse } from 'node:http';
import { functionArgument, type Middleware } from '../core/index.js';
import { Exchange } from './exchange.js';
import { NodeDriver, type NodeNext } from './node-driver.js';

/**
 * A node:http / Connect / Express handler: `(req, res, next?)`. With a `next` (Connect,
 * Express, or your own function) the chain continues there; without one it is a complete
 * handler that answers `404` when the chain reaches its end.
 */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: NodeNext) => void;

/**
 * Adapts a headroom {@link Middleware} to node:http, Connect and Express 5.
 *
 * - `exchange.route` is Express's `req.baseUrl + req.route.path`, known once `next()` resolved.
 * - `exchange.body()` returns `req.body` when a body parser ran before; otherwise it reads the
 *   request stream and stores the bytes as a `Buffer` in `req.body`, where the handler finds
 *   them (a parser placed after it will then see a consumed stream: put parsers first).
 * - `next()` resolves when the response has finished (or the client went away).
 * - An error thrown before `next()` goes to Express's error handling (`next(err)`); without a
 *   framework `next`, a `HeadroomError` becomes its problem response and any other error
 *   a `500`. An error after `next()` or after an answer is reported with `console.error` and
 *   dropped (the error policy of every adapter, docs/http.md).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import http from 'node:http';
 * import { toNode, timeout, requestSignal } from 'headroom/http';
 *
 * const app = express();
 * app.use(toNode(timeout('2s')));
 * app.get('/users/:id', async (req, res) => {
 *   res.json(await users.find(req.params.id, { signal: requestSignal(req) }));
 * });
 *
 * // plain node:http: pass your handler as `next`
 * const guard = toNode(timeout('2s'));
 * http.createServer((req, res) => guard(req, res, () => handle(req, res)));
 * ```
 */
export function toNode(middleware: Middleware): NodeHandler {
  functionArgument(middleware, 'middleware');
  return function headroomNode(req: IncomingMessage, res: ServerResponse, next?: NodeNext): void {
    void new Exchange(req, new NodeDriver(req, res, next)).run(middleware);
  };
}
