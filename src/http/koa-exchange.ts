import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { NodeResult, hasBody, headerText, isStreamBody, nodeClientGone, nodeHeaderMap, readAll, toBuffer, writeNodeResponse } from './internal.js';
import { LateResponse } from './late-response.js';
import { NodeExchange } from './node-exchange.js';

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

type RoutedContext = KoaContextLike & { _matchedRoute?: unknown };

const EMPTY = Buffer.alloc(0);
const EMPTY_STATUS = new Set([204, 205, 304]);

/**
 * Koa's exchange. Koa writes the response after the whole middleware chain returned, so
 * `next()` resolves when the downstream middleware returned, with the status, headers and body
 * they set; `respond()` sets them and takes effect when this middleware returns.
 *
 * @internal
 */
export class KoaExchange extends NodeExchange {
  private captured: Uint8Array | undefined = undefined;

  constructor(
    private readonly ctx: KoaContextLike,
    private readonly koaNext: () => Promise<unknown>,
  ) {
    super(ctx.req, ctx.res, undefined);
  }

  override get method(): string {
    return this.ctx.method;
  }

  override get path(): string {
    return this.ctx.path;
  }

  override get url(): string {
    return this.ctx.originalUrl;
  }

  override get route(): string | undefined {
    // Set by @koa/router when it matched a layer, downstream of this middleware.
    const matched = (this.ctx as RoutedContext)._matchedRoute;
    return matched === undefined || matched === null ? undefined : String(matched);
  }

  override appendHeader(name: string, value: string): void {
    if (this.res.headersSent) return;
    const current = this.res.getHeader(name);
    this.ctx.set(name, current === undefined ? value : `${headerText(current)}, ${value}`);
  }

  override respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace || this.res.headersSent) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    const ctx = this.ctx;
    if (this.nextCalled) {
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
      writeNodeResponse(this.res, response);
      return;
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
    this.ctx.respond = false;
    const late = new LateResponse(this.res, false, noop);
    this.writeAnswer(response);
    this.noteAnswerInPlace(response, nodeHeaderMap(this.res.getHeaders()));
    late.install(this.res);
  }

  override async run(middleware: Middleware): Promise<void> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      // A handler that fails after we answered in its place (timeout) has nobody to tell.
      if (this.respondedHere && this.nextCalled) return;
      throw err;
    }
    // Without next() or respond(), Koa answers its default 404.
    if (!this.nextCalled) this.chainEndedWithoutHandler();
  }

  protected override runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    const untilHandler = this.applyNextOptions(options);
    const downstream = this.koaNext();
    // Koa calls the next middleware at once: if it was another headroom adapter, that exchange
    // is the innermost now, and it watches the handler.
    const watch = this.pendingWatch;
    if (watch !== undefined && this.innermostHere) {
      downstream.then(
        () => watch.settle(this.downstreamResult(this.capturing || watch.wantsBody)),
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return this.handlerOutcome();
    return downstream.then(() => this.settle());
  }

  protected override observeHandler(): void {
    // Seen from the downstream promise (runNext), not from the response.
  }

  /** What the downstream middleware left in ctx when they returned: status, headers, body. */
  private downstreamResult(withBody: boolean): Promise<HttpResult> | HttpResult {
    if (!withBody) return new NodeResult(this.res, this.ctx.status, undefined);
    return this.captureBody().then((body) => new NodeResult(this.res, this.ctx.status, body));
  }

  override startCapture(): void {
    this.capturing = true;
  }

  override settle(): Promise<HttpResult> {
    if (this.answeredInPlace) return Promise.resolve(this.describe(this.inPlaceResult(this.capturing), nodeClientGone(this.res)));
    return Promise.resolve(this.downstreamResult(this.capturing)).then((result) => this.describe(result, nodeClientGone(this.res)));
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

  protected override readBody(): Promise<unknown> {
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
}

function noop(): void {}
