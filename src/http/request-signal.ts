import { invalidArgument } from '../core/index.js';
import { registeredExchange, type Exchange } from './exchange.js';

const NEVER = new AbortController().signal;

function field(target: object, name: string): object | undefined {
  const value = (target as Record<string, unknown>)[name];
  return typeof value === 'object' && value !== null ? value : undefined;
}

function find(target: object): Exchange<unknown> | undefined {
  const direct = registeredExchange(target);
  if (direct !== undefined) return direct;
  // Fastify request and HonoRequest hold the request as `raw`; Koa ctx and Hono c as `req`.
  const raw = field(target, 'raw');
  if (raw !== undefined) return registeredExchange(raw);
  const req = field(target, 'req');
  if (req === undefined) return undefined;
  const found = registeredExchange(req);
  if (found !== undefined) return found;
  const nested = field(req, 'raw');
  return nested === undefined ? undefined : registeredExchange(nested);
}

/**
 * The exchange's AbortSignal for the request object a handler has: node/Express `req`, Fastify
 * `request`, Koa `ctx`, a fetch `Request`, or Hono's `c`. It aborts when a headroom middleware
 * gives up on the request (a `timeout`, a queue deadline) or the client disconnects. Pass it to
 * the work the handler starts (fetch, database queries, `withTimeout`).
 *
 * For a request no headroom adapter has seen, it returns `request.signal` for a fetch
 * `Request`, else a signal that never aborts.
 *
 * @param request - the framework's request object (or context) for the current request.
 * @example
 * ```ts
 * app.get('/report', async (req, res) => {
 *   const rows = await db.report('monthly', { signal: requestSignal(req) });
 *   res.json(rows);
 * });
 * ```
 */
export function requestSignal(request: object): AbortSignal {
  if (typeof request !== 'object' || request === null) {
    throw invalidArgument('request', 'the request object (req, request, ctx, c) of a framework', request);
  }
  const exchange = find(request);
  if (exchange !== undefined) return exchange.signal;
  return request instanceof Request ? request.signal : NEVER;
}
