import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HeadroomError, problemResponse, type HttpResponse, type HttpResult, type Middleware, type NextOptions } from '../core/index.js';
import { BaseExchange, disconnectReason } from './base-exchange.js';
import { NodeResult, discardLaterWrites, hasBody, nodeClientGone, readRequestBody, reportLateError, writeNodeResponse } from './internal.js';

/** A node request as Express and body parsers decorate it. */
export type NodeRequest = IncomingMessage & {
  body?: unknown;
  route?: { path?: unknown } | undefined;
  baseUrl?: string;
  originalUrl?: string;
};

/** The framework's `next` of Connect and Express. */
export type NodeNext = (err?: unknown) => void;

const NOT_FOUND: HttpResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not Found' };

/**
 * The exchange of node:http, Connect and Express. `next()` resolves on the response's `close`
 * event, the one listener it needs, which also tells a client disconnect from a finished
 * response.
 *
 * Hot path (measured with bench/http.ts and bench/idempotency.ts): per request it allocates the
 * exchange, its `next`, the settle promise and the `close` listener; reading the body adds one
 * promise and no copy for a body that arrives in one chunk; capturing adds three small wrappers
 * on the response and no copy for a body sent in one call.
 *
 * @internal
 */
export class NodeExchange extends BaseExchange {
  private closeWatched = false;
  /** The next exchange of the same response waiting for its `close` (two adapters on one request). */
  private nextWatcher: NodeExchange | undefined = undefined;
  private settleResolve: ((result: HttpResult) => void) | undefined = undefined;
  private settlePromise: Promise<HttpResult> | undefined = undefined;
  /** The captured body: the first chunk alone, the rest (rarely any) in `moreChunks`. */
  private firstChunk: Uint8Array | undefined = undefined;
  /** The captured body while it is one UTF-8 string (not encoded unless someone reads the bytes). */
  private firstText: string | undefined = undefined;
  private moreChunks: Uint8Array[] | undefined = undefined;
  /** `writeHead` has been wrapped (for `onBeforeSend` and for its header argument). */
  private headHooked = false;
  /** Headers given to `writeHead(status, headers)`: node keeps them out of `getHeaders()`. */
  private headHeaders: OutgoingHttpHeaders | readonly unknown[] | undefined = undefined;

  constructor(
    protected readonly req: NodeRequest,
    protected readonly res: ServerResponse,
    private readonly frameworkNext: NodeNext | undefined,
  ) {
    super(req);
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  get url(): string {
    return this.req.originalUrl ?? this.req.url ?? '/';
  }

  get path(): string {
    const url = this.url;
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }

  get route(): string | undefined {
    const route = this.req.route;
    if (route === undefined || route === null || route.path === undefined) return undefined;
    return (this.req.baseUrl ?? '') + String(route.path);
  }

  get responded(): boolean {
    return this.respondedHere || this.res.headersSent;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  setHeader(name: string, value: string): void {
    if (!this.res.headersSent) this.res.setHeader(name, value);
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.res.headersSent) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    writeNodeResponse(this.res, response);
    if (this.nextCalled) discardLaterWrites(this.res);
  }

  /** Runs the middleware; errors before `next()` go to the framework's error handling. */
  async run(middleware: Middleware): Promise<void> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!this.nextCalled && !this.responded) this.respond(NOT_FOUND);
  }

  protected fail(err: unknown): void {
    if (this.nextCalled) {
      reportLateError(err);
    } else if (this.frameworkNext !== undefined) {
      this.nextCalled = true;
      this.frameworkNext(err);
    } else if (!this.responded) {
      if (!(err instanceof HeadroomError)) console.error('headroom: middleware failed', err);
      this.respond(
        err instanceof HeadroomError ? problemResponse(err) : problemResponse({ status: 500, code: 'INTERNAL_ERROR' }),
      );
    }
  }

  protected runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    if (options !== undefined && options.captureBody === true) this.startCapture();
    const settled = this.settle();
    if (this.frameworkNext !== undefined) this.frameworkNext();
    else if (!this.responded) writeNodeResponse(this.res, NOT_FOUND);
    return settled;
  }

  settle(): Promise<HttpResult> {
    if (this.settlePromise !== undefined) return this.settlePromise;
    if (this.res.closed) return (this.settlePromise = Promise.resolve(this.result()));
    this.watchClose();
    return (this.settlePromise = new Promise<HttpResult>((resolve) => {
      this.settleResolve = resolve;
    }));
  }

  override startCapture(): void {
    if (this.capturing) return;
    this.capturing = true;
    const res = this.res;
    // The header argument of writeHead is recorded only for captured responses (what a stored
    // and replayed response needs); see result().
    if (!res.headersSent) this.hookWriteHead();
    const write = res.write;
    const end = res.end;
    // Instance-level wrappers, installed only for requests that asked for their body.
    const exchange = this;
    res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown) {
      exchange.keep(chunk, encoding);
      // eslint-disable-next-line prefer-rest-params
      return (write as (...args: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
    } as typeof res.write;
    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown) {
      exchange.keep(chunk, encoding);
      // eslint-disable-next-line prefer-rest-params
      return (end as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
    } as typeof res.end;
  }

  private keep(chunk: unknown, encoding: unknown): void {
    let bytes: Uint8Array;
    if (typeof chunk === 'string') {
      if (chunk.length === 0) return;
      const utf8 = typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8';
      if (utf8 && this.firstChunk === undefined && this.firstText === undefined) {
        this.firstText = chunk;
        return;
      }
      bytes = Buffer.from(chunk, utf8 ? 'utf8' : (encoding as BufferEncoding));
    } else if (chunk instanceof Uint8Array) {
      if (chunk.byteLength === 0) return;
      bytes = chunk;
    } else {
      return;
    }
    if (this.firstText !== undefined) {
      // A second chunk after a text one: from here on the body is bytes.
      this.firstChunk = Buffer.from(this.firstText);
      this.firstText = undefined;
    }
    if (this.firstChunk === undefined) this.firstChunk = bytes;
    else if (this.moreChunks === undefined) this.moreChunks = [bytes];
    else this.moreChunks.push(bytes);
  }

  protected result(): HttpResult {
    let body: Uint8Array | string | undefined;
    if (this.capturing) {
      const first = this.firstChunk;
      const more = this.moreChunks;
      if (this.firstText !== undefined) body = this.firstText;
      else if (first === undefined) body = EMPTY;
      else if (more === undefined) body = first;
      else body = Buffer.concat([first, ...more]);
    }
    return this.describe(new NodeResult(this.res, this.res.statusCode, body, this.headHeaders), nodeClientGone(this.res));
  }

  protected watchDisconnect(): void {
    if (this.res.closed) {
      if (!this.res.writableFinished) this.controller!.abort(disconnectReason());
    } else {
      this.watchClose();
    }
  }

  private watchClose(): void {
    if (this.closeWatched) return;
    this.closeWatched = true;
    // `close` follows `finish` for every response (keep-alive too) and comes alone on disconnect.
    // One shared listener per response, which finds its exchanges through the response: no
    // closure and no `once` wrapper per request.
    const res = this.res as WatchedResponse;
    const first = res[CLOSE_WATCHERS];
    if (first === undefined) {
      res[CLOSE_WATCHERS] = this;
      res.on('close', onResponseClose);
    } else {
      // Rare (two adapters on one request): appended, so exchanges settle in the order they watched.
      let last = first;
      while (last.nextWatcher !== undefined) last = last.nextWatcher;
      last.nextWatcher = this;
    }
  }

  /** @internal Unlinks and returns the next exchange waiting on the same response. */
  takeNextWatcher(): NodeExchange | undefined {
    const next = this.nextWatcher;
    this.nextWatcher = undefined;
    return next;
  }

  /** @internal The response closed (see {@link onResponseClose}). */
  onClose(): void {
    const controller = this.controller;
    if (controller !== undefined && !controller.signal.aborted && !this.res.writableFinished) {
      controller.abort(disconnectReason());
    }
    const resolve = this.settleResolve;
    if (resolve !== undefined) {
      this.settleResolve = undefined;
      resolve(this.result());
    }
  }

  protected installBeforeSend(): void {
    if (!this.res.headersSent) this.hookWriteHead();
  }

  /**
   * Wraps `writeHead` once per response; node's implicit head (first write or end) goes through
   * it too. It fires `onBeforeSend` listeners and, when capturing, records the header argument.
   */
  private hookWriteHead(): void {
    if (this.headHooked) return;
    this.headHooked = true;
    const res = this.res;
    const original = res.writeHead;
    const exchange = this;
    res.writeHead = function (this: ServerResponse, status: unknown, reason?: unknown, headers?: unknown) {
      res.writeHead = original;
      if (exchange.beforeSend !== undefined) exchange.fireBeforeSend(typeof status === 'number' ? status : res.statusCode);
      if (exchange.capturing) {
        const given = typeof reason === 'string' ? headers : (headers ?? reason);
        if (typeof given === 'object' && given !== null) exchange.headHeaders = given as OutgoingHttpHeaders;
      }
      // eslint-disable-next-line prefer-rest-params
      return (original as (...a: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
    } as typeof res.writeHead;
  }

  protected readBody(): Promise<unknown> {
    const req = this.req;
    if (req.body !== undefined) return Promise.resolve(req.body);
    if (!hasBody(req) || req.readableEnded) return Promise.resolve(undefined);
    // No parser ran: buffer the stream and leave the bytes where parsers put a body.
    return readRequestBody(req);
  }
}

const EMPTY: Uint8Array = Buffer.alloc(0);

/** The exchanges waiting for a response's `close`, in order, linked through `nextWatcher`. */
const CLOSE_WATCHERS: unique symbol = Symbol('headroom.closeWatchers');
type WatchedResponse = ServerResponse & { [CLOSE_WATCHERS]?: NodeExchange | undefined };

/** The `close` listener every watched response shares (`this` is the response). */
function onResponseClose(this: WatchedResponse): void {
  this.removeListener('close', onResponseClose);
  let exchange = this[CLOSE_WATCHERS];
  this[CLOSE_WATCHERS] = undefined;
  while (exchange !== undefined) {
    const next = exchange.takeNextWatcher();
    exchange.onClose();
    exchange = next;
  }
}
