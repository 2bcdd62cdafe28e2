import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HeadroomError, problemResponse, type HttpResponse, type HttpResult, type Middleware, type NextOptions } from '../core/index.js';
import { BaseExchange, disconnectReason } from './base-exchange.js';
import { NOT_FOUND, NodeResult, hasBody, headerText, nodeClientGone, nodeHeaderMap, readRequestBody, reportLateError, withAppended, writeNodeResponse } from './internal.js';
import { LateResponse } from './late-response.js';

/** A node request as Express and body parsers decorate it. */
export type NodeRequest = IncomingMessage & {
  body?: unknown;
  route?: { path?: unknown } | undefined;
  baseUrl?: string;
  originalUrl?: string;
};

/** The framework's `next` of Connect and Express. */
export type NodeNext = (err?: unknown) => void;


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
  /** `write`/`end` have been wrapped (to capture the body, or to see the handler end). */
  private writesWrapped = false;
  /** The wrappers keep the body chunks (Fastify captures its payload in `onSend` instead). */
  protected keepsChunks = false;
  /** On the request's first exchange: an answer is being written by `respond()`, not by the handler. */
  private answering = false;
  /** On the request's first exchange: a recording of the handler's response was installed after its client left (see closeWatch). */
  private recording = false;
  /** Values added with `appendHeader`, by lower-case name, merged into the handler's `writeHead` headers. */
  private appended: Map<string, string> | undefined = undefined;

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
    return this.respondedHere || this.answeredInPlace || this.res.headersSent;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  setHeader(name: string, value: string): void {
    if (!this.res.headersSent) this.res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    const res = this.res;
    if (res.headersSent) return;
    const current = res.getHeader(name);
    res.setHeader(name, current === undefined ? value : `${headerText(current)}, ${value}`);
    // Headers the handler passes to writeHead replace these: they are merged there (hookWriteHead).
    const appended = (this.appended ??= new Map());
    const key = name.toLowerCase();
    const before = appended.get(key);
    appended.set(key, before === undefined ? value : `${before}, ${value}`);
    this.hookWriteHead();
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace || this.res.headersSent) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    if (!this.nextCalled) {
      // Instead of the handler: for a middleware further out that waits on the handler, this is it.
      writeNodeResponse(this.res, response);
      return;
    }
    // In the handler's place (a timeout): the handler goes on against a recording of its own.
    const late = new LateResponse(this.res, this.pendingWatch?.wantsBody === true, (result) => this.pendingWatch?.settle(result));
    this.writeAnswer(response);
    this.noteAnswerInPlace(response, nodeHeaderMap(this.res.getHeaders()));
    late.install(this.res);
  }

  /** Writes an answer of a middleware: the wrappers that watch the handler's writes let it pass. */
  protected writeAnswer(response: HttpResponse): void {
    this.answerUnderWay = true;
    try {
      writeNodeResponse(this.res, response);
    } finally {
      this.answerUnderWay = false;
    }
  }

  /**
   * Whether what is being written is an answer of a middleware in the handler's place, not the
   * handler's response: the wrappers that watch the handler let it pass. Kept on the request's
   * first exchange, since every exchange's wrappers see the same writes.
   */
  protected get answerUnderWay(): boolean {
    return ((this.root as NodeExchange | undefined) ?? this).answering;
  }

  protected set answerUnderWay(value: boolean) {
    ((this.root as NodeExchange | undefined) ?? this).answering = value;
  }

  /** Runs the middleware; errors before `next()` go to the framework's error handling. */
  async run(middleware: Middleware): Promise<void> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!this.nextCalled) {
      if (!this.responded) this.respond(NOT_FOUND);
      this.chainEndedWithoutHandler();
    }
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
    const untilHandler = this.applyNextOptions(options);
    const settled = untilHandler ? this.handlerOutcome() : this.settle();
    const handler = this.frameworkNext;
    if (handler === undefined) {
      if (!this.responded) writeNodeResponse(this.res, NOT_FOUND);
      return settled;
    }
    // A plain node:http handler passed to toNode may throw, or return a promise that rejects:
    // answered with a 500 here, since no framework will (Connect and Express catch their own).
    let returned: unknown;
    try {
      returned = handler();
    } catch (err) {
      this.handlerFailed(err);
      return settled;
    }
    if (typeof returned === 'object' && returned !== null && typeof (returned as PromiseLike<unknown>).then === 'function') {
      (returned as PromiseLike<unknown>).then(undefined, (err: unknown) => this.handlerFailed(err));
    }
    return settled;
  }

  /**
   * The final handler threw or rejected: it is reported, and answered with a 500 problem as
   * the handler's own answer (recorded, if a middleware had already answered in its place).
   */
  private handlerFailed(err: unknown): void {
    console.error('headroom: the request handler failed', err);
    const res = this.res;
    if (!res.headersSent) {
      // Its own answer, not a middleware's: the wrappers see it as the handler's end.
      writeNodeResponse(res, problemResponse({ status: 500, code: 'INTERNAL_ERROR', detail: 'The request handler failed.' }));
    } else if (!res.writableEnded) {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
      this.pendingWatch?.fail(err);
    }
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
    this.keepsChunks = true;
    // The header argument of writeHead is recorded only for captured responses (what a stored
    // and replayed response needs); see result().
    if (!this.res.headersSent) this.hookWriteHead();
    this.wrapWrites();
  }

  /**
   * A watch that wants the body wraps `write`/`end` (the chunks are kept, and the handler's
   * `end()` settles it). One that does not (`shed`) costs no wrapper: the response's `close`
   * settles it, since the handler has ended by then unless the client left first (see onClose).
   */
  protected override observeHandler(): void {
    this.watchClose();
    if (this.pendingWatch?.wantsBody === true) this.wrapWrites();
  }

  /**
   * Wraps `write` and `end` once, for requests that asked for their body or wait for their
   * handler: the chunks are kept (when capturing) and the handler's `end()` settles the
   * request's watch with the response it produced. Answers written by `respond()` pass through.
   */
  private wrapWrites(): void {
    if (this.writesWrapped) return;
    this.writesWrapped = true;
    const res = this.res;
    const write = res.write;
    const end = res.end;
    const exchange = this;
    res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown) {
      if (exchange.keepsChunks && !exchange.answerUnderWay) exchange.keep(chunk, encoding);
      // eslint-disable-next-line prefer-rest-params
      return (write as (...args: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
    } as typeof res.write;
    res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown) {
      const answer = exchange.answerUnderWay;
      if (exchange.keepsChunks && !answer) exchange.keep(chunk, encoding);
      // eslint-disable-next-line prefer-rest-params
      const returned = (end as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
      if (!answer) {
        const watch = exchange.pendingWatch;
        // Read from the exchange that captured the body, when one did (its wrapper ran first).
        if (watch !== undefined) watch.settle(watch.source !== undefined ? watch.source.ownResult() : exchange.handlerResult());
      }
      return returned;
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

  /** The response as it went out: `next()`'s result. */
  protected result(): HttpResult {
    if (this.answeredInPlace) return this.describe(this.inPlaceResult(this.capturing), nodeClientGone(this.res));
    return this.describe(this.handlerResult(), nodeClientGone(this.res));
  }

  override ownResult(): HttpResult {
    return this.handlerResult();
  }

  /** The response the handler produced, as it stands (status, headers, captured body). */
  protected handlerResult(): HttpResult {
    let body: Uint8Array | string | undefined;
    if (this.capturing) {
      const first = this.firstChunk;
      const more = this.moreChunks;
      if (this.firstText !== undefined) body = this.firstText;
      else if (first === undefined) body = EMPTY;
      else if (more === undefined) body = first;
      else body = Buffer.concat([first, ...more]);
    }
    return new NodeResult(this.res, this.res.statusCode, body, this.headHeaders);
  }

  protected clientLeft(): boolean {
    return nodeClientGone(this.res);
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
    this.closeWatch();
    const resolve = this.settleResolve;
    if (resolve !== undefined) {
      this.settleResolve = undefined;
      resolve(this.result());
    }
  }

  /** The response closed while someone waits for the handler (see {@link observeHandler}). */
  private closeWatch(): void {
    const watch = this.pendingWatch;
    // After an answer in the handler's place, the recording it writes to settles the watch.
    if (watch === undefined || this.answeredInPlace) return;
    const res = this.res;
    if (res.writableEnded) {
      // The handler (or a middleware further in, in its place) ended the response.
      watch.settle(watch.source !== undefined ? watch.source.ownResult() : this.handlerResult());
      return;
    }
    // The client left while the handler runs: its end settles the watch, through the wrappers
    // when there are, else through a recording of its own response.
    watch.answeredElsewhere();
    const top = (this.root as NodeExchange | undefined) ?? this;
    if (!watch.wantsBody && !top.recording) {
      top.recording = true;
      new LateResponse(res, false, (result) => watch.settle(result)).install(res);
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
      // eslint-disable-next-line prefer-rest-params
      let args = arguments as unknown as unknown[];
      const named = typeof reason === 'string';
      let given = named ? headers : (headers ?? reason);
      if (exchange.appended !== undefined) {
        const merged = withAppended(given, exchange.appended);
        if (merged !== undefined) {
          given = merged;
          args = named ? [status, reason, merged] : [status, merged];
        }
      }
      if (exchange.capturing && typeof given === 'object' && given !== null) exchange.headHeaders = given as OutgoingHttpHeaders;
      return (original as (...a: unknown[]) => ServerResponse).apply(this, args);
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
