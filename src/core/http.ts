/**
 * The framework-neutral HTTP middleware shape. It lives in `core` so that every module can write
 * its middleware once without depending on `headroom/http`; the adapters there (`toNode`,
 * `toFastify`, `toKoa`, `toFetch`, `toHono`) make a {@link Middleware} run in each framework.
 */

/** Header values as middleware sets or reads them (lower-case names). */
export type HeaderMap = Record<string, string>;

/** A response a middleware answers with, or replays. */
export interface HttpResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers; names are case-insensitive. */
  headers?: HeaderMap;
  /**
   * The body, already encoded. A string is sent as UTF-8. A `ReadableStream` is sent chunk by
   * chunk as it produces them (server-sent events, a long export), with backpressure; every
   * adapter cancels it when the client goes away, so its `cancel()` is where a producer stops.
   */
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  /**
   * The problem `code` when this is a problem response (`problemResponse` sets it). It is not
   * sent; a middleware outside reads it from {@link HttpResult.code} to tell why the request was
   * answered (a shed 503 from a handler's 503) without parsing the body.
   */
  code?: string;
}

/** What `next()` resolves with once the downstream handler has finished its response. */
export interface HttpResult {
  /** The status the downstream handler answered with. */
  status: number;
  /** The response headers as sent (lower-case names). */
  headers: HeaderMap;
  /** The response body bytes, only when `next({ captureBody: true })` asked for them. */
  body?: Uint8Array;
  /**
   * The {@link HttpResponse.code} of the answer when a middleware answered with `respond()` and
   * a problem response (`QUEUE_FULL`, `OPERATION_TIMEOUT`, `SERVICE_UNAVAILABLE`...); `undefined`
   * when the handler answered.
   */
  code?: string;
  /** `true` when the client went away before the answer was complete. */
  clientGone?: boolean;
}

/** Options of `next()`. */
export interface NextOptions {
  /** Record the bytes the downstream handler sends, returned as {@link HttpResult.body}. */
  captureBody?: boolean;
  /**
   * Resolve once the request's handler has really finished, with the response *it* produced,
   * even when the request was answered first in its place (an outer `timeout`'s 504, another
   * middleware) or its client went away. The handler's writes after such an answer are
   * recorded, never sent. Without it (the default), `next()` resolves with the response as
   * sent, whoever produced it.
   *
   * - When no handler runs (a middleware further in answered instead, or a queue gave up on the
   *   request), it resolves with that answer.
   * - When the handler fails without a response of its own (Koa, fetch, a rejected plain
   *   node:http handler's 500 aside), it rejects with its error.
   * - A handler that neither ends its response nor fails within 60 s after its request was
   *   answered in its place is taken as gone: it rejects then, so nothing waits for ever.
   *
   * `idempotencyMiddleware` uses it to keep a key in progress until its handler has settled,
   * and to store what the handler really did.
   */
  untilHandlerSettles?: boolean;
  /**
   * Hold the handler's response instead of sending it: its status, headers and body are
   * recorded (a streamed body is buffered whole), and `next()` resolves with them once the
   * handler has ended its response, as with `untilHandlerSettles` (implied) and `captureBody`
   * (implied). Nothing reaches the client until the middleware decides: it answers with
   * `exchange.respond()` (the held response, or another one), or returns without answering and
   * the held response is sent as it is, then. Until then `exchange.responded` is `false`.
   *
   * Works the same on every adapter: node:http, Connect and Express (`res.writeHead`, `res.write`,
   * `res.end`, Express's `res.json`, its error handling's `500`), Fastify (the payload of
   * `reply.send` or a returned value waits in `onSend`), Koa (`ctx.body`), Hono and fetch (the
   * returned `Response`). The buffered body is as large as the handler makes it: hold only
   * responses whose size you bound (an API's JSON answers), not downloads.
   *
   * Default `false`: the handler's response goes out as the handler writes it.
   * `idempotencyMiddleware` holds its handler's response while the record is stored
   * (`holdUntilStored`), so that a response is never sent unless it was stored.
   */
  holdResponse?: boolean;
}

/** Runs the rest of the chain (other middleware, then the framework's handler). */
export type Next = (options?: NextOptions) => Promise<HttpResult>;

/**
 * One request/response exchange, as every adapter presents it.
 */
export interface HttpExchange {
  /** Upper-case request method. */
  readonly method: string;
  /** The request path, without the query string. */
  readonly path: string;
  /**
   * The request target as received: the path and the query string (`'/ready?verbose=1'`).
   * Adapters MUST provide it; middleware reads query parameters from it.
   */
  readonly url: string;
  /**
   * The framework's route template (`'/users/:id'`) when it has one, else `undefined`. Frameworks
   * that route after middleware runs (Express, Koa with a router, Hono) only know it once
   * `next()` has resolved, so read it then.
   */
  readonly route: string | undefined;
  /** A request header by name (case-insensitive); repeated headers are joined with `, `. */
  header(name: string): string | undefined;
  /**
   * The request body: the framework's parsed body when a body parser already ran (an object or
   * string), otherwise the raw bytes as a `Uint8Array`, or `undefined` when there is none. Reading
   * it leaves the body readable for the downstream handler.
   */
  body(): Promise<unknown>;
  /**
   * Aborted when the client disconnects or a middleware calls {@link HttpExchange.abort}. The
   * handler reads it with `requestSignal(req)` (or `ctx`, `request`, `c`) and passes it to its work.
   */
  readonly signal: AbortSignal;
  /**
   * Whether {@link HttpExchange.signal} is aborted (the client went away, or a middleware called
   * {@link HttpExchange.abort}), read without creating the signal: a check that costs nothing
   * on requests that never need the signal itself.
   */
  readonly aborted: boolean;
  /** Aborts {@link HttpExchange.signal} with `reason`. */
  abort(reason: unknown): void;
  /** True once a response has started (headers sent) or {@link HttpExchange.respond} was called. */
  readonly responded: boolean;
  /** Sets a header on the response the handler will send; ignored once headers are sent. */
  setHeader(name: string, value: string): void;
  /**
   * Adds `value` to a header of the response the handler will send, after the value it already
   * has (joined with `, `, as for `Server-Timing` or `Vary`), however the handler set it: with
   * `setHeader`, in `writeHead(status, headers)`, with `reply.header`, `ctx.set`, `c.header` or
   * on its `Response`. Ignored once headers are sent; call it from `onBeforeSend` to come last.
   */
  appendHeader(name: string, value: string): void;
  /**
   * Calls `listener` just before the response head is written, whoever writes it, so that late
   * headers (Server-Timing) can still be set with {@link HttpExchange.setHeader}.
   */
  onBeforeSend(listener: (status: number) => void): void;
  /** Answers now. The downstream handler's later writes are discarded. No-op if already responded. */
  respond(response: HttpResponse): void;
}

/**
 * A headroom HTTP middleware: do something around `next()` or answer without calling it.
 *
 * @example
 * ```ts
 * import { toNode } from 'headroom/http';
 *
 * const poweredBy: Middleware = async (exchange, next) => {
 *   exchange.setHeader('x-powered-by', 'headroom');
 *   await next();
 * };
 * app.use(toNode(poweredBy)); // Express / Connect
 * ```
 */
export type Middleware = (exchange: HttpExchange, next: Next) => Promise<void>;
