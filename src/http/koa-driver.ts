import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange, ExchangeDriver } from './exchange.js';
import { isStreamBody, noop, reportLateError, toBuffer } from './internal.js';
import { NodeResult, hasBody, headerText, nodeHeaderMap, readAll, writeNodeResponse } from './node-io.js';
import { LateResponse } from './node-response.js';
import { ResponseTap, type TapOwner } from './response-tap.js';

/** The parts of a Koa context the adapter uses. */
export interface KoaContextLike {
  /** The node request. */
  req: IncomingMessage;
  /** The node response. */
  res: ServerResponse;
  /** Request method. */
  method: string;
  /** Request path. */
  path: string;
  /** The request target as received (path and query), before any rewriting. */
  originalUrl: string;
  /** Response status. */
  status: number;
  /** Response body. */
  body: unknown;
  /** Status message (Koa's default body). */
  message: string;
  /** Koa's request; `body` is where body parsers put the parsed body. */
  request: {
    /** The parsed body, when a body parser ran. */
    body?: unknown;
  };
  /** Sets a response header. */
  set(name: string, value: string): void;
  /** Removes a response header. */
  remove(name: string): void;
  /** Whether the response has a header. */
  response: {
    /** Whether the response has header `name`. */
    has(name: string): boolean;
  };
  /** Set to `false` when the response was written directly. */
  respond?: boolean;
}

type RoutedContext = KoaContextLike & { _matchedRoute?: string | RegExp | null };

const EMPTY = Buffer.alloc(0);
const EMPTY_STATUS = new Set([204, 205, 304]);

/**
 * Koa's driver. Koa writes the response after the whole middleware chain returned, so `next()`
 * resolves when the downstream middleware returned, with the status, headers and body they set;
 * `respond()` sets them and takes effect when this middleware returns. The node response is
 * watched (disconnect, head) through a {@link ResponseTap}.
 *
 * @internal
 */
export class KoaDriver implements ExchangeDriver<void>, TapOwner {
  exchange!: Exchange<void>;
  private readonly tap: ResponseTap;
  private captured: Uint8Array | undefined = undefined;
  /** `holdResponse`: an answer after the handler returned replaces its response whole. */
  private holdOpen = false;

  constructor(
    private readonly ctx: KoaContextLike,
    private readonly koaNext: () => Promise<unknown>,
  ) {
    this.tap = new ResponseTap(ctx.res, this);
  }

  get method(): string {
    return this.ctx.method;
  }

  get path(): string {
    return this.ctx.path;
  }

  get url(): string {
    return this.ctx.originalUrl;
  }

  get route(): string | undefined {
    // Set by @koa/router when it matched a layer, downstream of this middleware.
    const matched = (this.ctx as RoutedContext)._matchedRoute;
    return matched === undefined || matched === null ? undefined : String(matched);
  }

  header(name: string): string | undefined {
    const value = this.ctx.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  readBody(): Promise<unknown> {
    const request = this.ctx.request;
    if (request.body !== undefined) return Promise.resolve(request.body);
    const req = this.ctx.req;
    if (!hasBody(req) || req.readableEnded) return Promise.resolve(undefined);
    // No parser ran: buffer the stream and leave the bytes where koa body parsers put a body.
    return readAll(req).then((bytes) => {
      request.body = bytes;
      return bytes;
    });
  }

  get clientLeft(): boolean {
    return this.tap.clientGone;
  }

  watchDisconnect(): void {
    this.tap.watchDisconnect();
  }

  get answered(): boolean {
    return this.ctx.res.headersSent;
  }

  get headSent(): boolean {
    return this.ctx.res.headersSent;
  }

  setHeader(name: string, value: string): void {
    const res = this.ctx.res;
    if (!res.headersSent) res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    const res = this.ctx.res;
    if (res.headersSent) return;
    const current = res.getHeader(name);
    this.ctx.set(name, current === undefined ? value : `${headerText(current)}, ${value}`);
  }

  respond(response: HttpResponse): void {
    const ctx = this.ctx;
    if (this.exchange.nextCalled) {
      this.respondInPlace(response);
      return;
    }
    ctx.remove('Content-Length');
    ctx.remove('Content-Encoding');
    ctx.status = response.status;
    const headers = response.headers;
    if (headers !== undefined) for (const name in headers) ctx.set(name, headers[name]!);
    if (EMPTY_STATUS.has(response.status)) {
      ctx.body = null;
    } else if (response.body === undefined) {
      const typed = ctx.response.has('Content-Type');
      ctx.body = EMPTY;
      if (!typed) ctx.remove('Content-Type');
    } else if (isStreamBody(response.body)) {
      // Streamed now, chunk by chunk, instead of through Koa's body handling.
      ctx.respond = false;
      writeNodeResponse(ctx.res, response);
    } else {
      ctx.body = typeof response.body === 'string' ? response.body : toBuffer(response.body);
    }
  }

  /**
   * The handler is still running and would overwrite ctx before Koa writes it: write now, tell
   * Koa not to, and let the handler go on against a recording of its own (its status and
   * headers; its body stays in ctx.body), read when its downstream returns.
   */
  private respondInPlace(response: HttpResponse): void {
    const res = this.ctx.res;
    this.ctx.respond = false;
    if (this.holdOpen) {
      // In place of a held response: none of the handler's headers (its Location, its cookies) go with it.
      this.holdOpen = false;
      if (!res.headersSent) for (const name of res.getHeaderNames()) res.removeHeader(name);
    }
    const late = new LateResponse(res, false, noop);
    this.tap.writeAnswer(response);
    this.exchange.noteAnswerInPlace(response, nodeHeaderMap(res.getHeaders()));
    late.install(res);
  }

  hookBeforeSend(): void {
    this.tap.hookBeforeSend();
  }

  startCapture(): void {
    // Read from ctx when the downstream returned (captureBody).
  }

  hold(): void {
    // Koa sends ctx once the middleware returned: the handler's response is held already, and
    // respond() after next() writes in its place.
    this.holdOpen = true;
  }

  releaseHeld(): void {
    // Koa sends ctx.
    this.holdOpen = false;
  }

  proceed(untilHandler: boolean): Promise<HttpResult> {
    const exchange = this.exchange;
    const downstream = this.koaNext();
    // Koa calls the next middleware at once: if it was another headroom adapter, that exchange
    // is the innermost now, and it watches the handler.
    const watch = exchange.pendingWatch;
    if (watch !== undefined && exchange.innermostHere) {
      downstream.then(
        () => watch.settle(this.downstreamResult(exchange.capturing || watch.wantsBody)),
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return exchange.handlerOutcome();
    return downstream.then(() => this.settle());
  }

  settle(): Promise<HttpResult> {
    const exchange = this.exchange;
    if (exchange.answeredInPlace) return Promise.resolve(exchange.describe(exchange.inPlaceResult(exchange.capturing), this.tap.clientGone));
    return Promise.resolve(this.downstreamResult(exchange.capturing)).then((result) => exchange.describe(result, this.tap.clientGone));
  }

  observeHandler(): void {
    // Seen from the downstream promise (proceed), not from the response.
  }

  ownResult(): HttpResult {
    return this.tap.recordedResult();
  }

  handlerResult(): HttpResult {
    return this.tap.recordedResult();
  }

  /** What the downstream middleware left in ctx when they returned: status, headers, body. */
  private downstreamResult(withBody: boolean): Promise<HttpResult> | HttpResult {
    const res = this.ctx.res;
    if (!withBody) return new NodeResult(res, this.ctx.status, undefined);
    return this.captureBody().then((body) => new NodeResult(res, this.ctx.status, body));
  }

  /** The bytes Koa will send for `ctx.body`; stream bodies are buffered and put back. */
  private async captureBody(): Promise<Uint8Array> {
    const ctx = this.ctx;
    const body = ctx.body;
    if (EMPTY_STATUS.has(ctx.status) || ctx.method === 'HEAD') return EMPTY;
    if (body === null || body === undefined) return Buffer.from(ctx.message || String(ctx.status));
    if (typeof body === 'string' || body instanceof Uint8Array) return toBuffer(body);
    let bytes: Buffer;
    if (typeof (body as Readable).pipe === 'function') bytes = await readAll(body as Readable);
    else if (body instanceof Blob) bytes = Buffer.from(await body.arrayBuffer());
    else if (body instanceof ReadableStream) bytes = Buffer.from(await new Response(body).arrayBuffer());
    else if (body instanceof Response) bytes = Buffer.from(await body.arrayBuffer());
    else return Buffer.from(JSON.stringify(body));
    if (this.captured === undefined) {
      const typed = ctx.response.has('Content-Type');
      ctx.body = bytes;
      if (!typed) ctx.remove('Content-Type');
    }
    this.captured = bytes;
    return bytes;
  }

  get takesErrors(): boolean {
    return !this.ctx.res.headersSent;
  }

  /** Rethrown: Koa's error handling answers with it. */
  raise(err: unknown): void {
    throw err;
  }

  report(err: unknown): void {
    reportLateError(err);
  }

  finish(): void {}
}
