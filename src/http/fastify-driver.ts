import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { HeaderMap, HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange, ExchangeDriver } from './exchange.js';
import { isStreamBody, toBuffer } from './internal.js';
import { hasBody, headerText, nodeHeaderMap, readAll } from './node-io.js';
import { LateResponse, answerUnderWay, setAnswerUnderWay } from './node-response.js';
import { ResponseTap, type TapOwner } from './response-tap.js';

/** The parts of a Fastify request the adapter uses. */
export interface FastifyRequestLike {
  /** The node request. */
  raw: IncomingMessage;
  /** The parsed body, once Fastify parsed it. */
  body?: unknown;
  /** The matched route's options; `url` is its template. */
  routeOptions: {
    /** The route template, e.g. `/users/:id`. */
    url?: string | undefined;
  };
}

/** The parts of a Fastify reply the adapter uses. */
export interface FastifyReplyLike {
  /** The node response. */
  raw: ServerResponse;
  /** The status the reply will send. */
  statusCode: number;
  /** Whether the reply was sent. */
  readonly sent: boolean;
  /** Sets the status. */
  code(status: number): unknown;
  /** Sets a header. */
  header(name: string, value: string): unknown;
  /** Removes a header. */
  removeHeader(name: string): unknown;
  /** A header the reply will send. */
  getHeader(name: string): unknown;
  /** Whether the reply will send header `name`. */
  hasHeader(name: string): boolean;
  /** Sends the reply. */
  send(payload?: unknown): unknown;
  /** The headers the reply sends. */
  getHeaders(): Record<string, unknown>;
  /** The request's logger. */
  log: {
    /** Logs at error level. */
    error(object: unknown, message?: string): void;
  };
}

/** The `done` of a Fastify hook. */
export type HookDone = (err?: Error) => void;
type PayloadDone = (err: Error | null, payload?: unknown) => void;

/**
 * Fastify's driver. The middleware runs in `onRequest`; `next()` lets the hook finish
 * (`hookDone`); `onSend` fires `onBeforeSend` listeners and captures the payload; `next()`
 * resolves on the raw response's `close`, as for node (see {@link ResponseTap}).
 *
 * @internal
 */
export class FastifyDriver implements ExchangeDriver<void>, TapOwner {
  exchange!: Exchange<void>;
  /** Body bytes read during `onRequest`, fed back to Fastify's parser in `preParsing`. */
  rawBody: Buffer | undefined = undefined;
  private readonly tap: ResponseTap;
  /** The `onRequest` hook has finished (Fastify moved on to parsing and the handler). */
  private released = false;
  /** The `preHandler` hook ran: the route's handler may be running. */
  private handling = false;
  private payload: Uint8Array | undefined = undefined;
  /** `holdResponse`: the handler's payload waits in onSend until the middleware decides. */
  private holdOpen = false;
  /** The onSend `done` of the held payload, while it waits. */
  private heldDone: PayloadDone | undefined = undefined;

  constructor(
    private readonly request: FastifyRequestLike,
    private readonly reply: FastifyReplyLike,
    private readonly hookDone: HookDone,
  ) {
    this.tap = new ResponseTap(reply.raw, this);
  }

  get method(): string {
    return this.request.raw.method ?? 'GET';
  }

  get url(): string {
    const raw = this.request.raw as IncomingMessage & { originalUrl?: string };
    return raw.originalUrl ?? raw.url ?? '/';
  }

  get path(): string {
    const url = this.url;
    const query = url.indexOf('?');
    return query === -1 ? url : url.slice(0, query);
  }

  get route(): string | undefined {
    return this.request.routeOptions.url;
  }

  header(name: string): string | undefined {
    const value = this.request.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  readBody(): Promise<unknown> {
    const request = this.request;
    if (request.body !== undefined) return Promise.resolve(request.body);
    if (this.released || !hasBody(request.raw)) return Promise.resolve(this.rawBody);
    // Still in onRequest: Fastify has not read the body yet. Read it here and replay it to
    // Fastify's parser from preParsing.
    return readAll(request.raw).then((bytes) => {
      this.rawBody = bytes;
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
    return this.reply.raw.headersSent;
  }

  get headSent(): boolean {
    return this.reply.sent || this.reply.raw.headersSent;
  }

  setHeader(name: string, value: string): void {
    if (!this.reply.raw.headersSent) this.reply.header(name, value);
  }

  appendHeader(name: string, value: string): void {
    const reply = this.reply;
    if (reply.raw.headersSent) return;
    const current = reply.getHeader(name) as number | string | string[] | undefined;
    reply.header(name, current === undefined ? value : `${headerText(current)}, ${value}`);
  }

  respond(response: HttpResponse): void {
    const exchange = this.exchange;
    const heldDone = this.heldDone;
    if (heldDone !== undefined) {
      // The handler's payload waits in onSend: this answer goes out in its place.
      this.heldDone = undefined;
      this.holdOpen = false;
      const reply = this.reply;
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      reply.code(response.status);
      const headers = response.headers;
      if (headers !== undefined) for (const name in headers) reply.header(name, headers[name]!);
      const body = response.body;
      heldDone(null, body === undefined ? '' : isStreamBody(body) ? body : toBuffer(body));
      return;
    }
    if (!this.released) {
      this.sendAnswer(response);
      return;
    }
    if (!this.handling) {
      // Fastify is between hooks: it sees the reply sent and never calls the handler, so whoever
      // waits for the handler gets this answer. Until it is written, onSend hooks (a held
      // response's among them) see it as a middleware's answer.
      const res = this.reply.raw;
      setAnswerUnderWay(res, true);
      this.sendAnswer(response);
      if (res.writableEnded) setAnswerUnderWay(res, false);
      else res.once('finish', () => setAnswerUnderWay(res, false));
      exchange.noteAnswerInPlace(response, nodeHeaderMap(this.reply.getHeaders() as OutgoingHttpHeaders));
      exchange.pendingWatch?.settle(this.tap.settle());
      return;
    }
    // The handler is running: it goes on against a recording of its own (status, headers, the
    // payload it sends), which settles whoever waits for it.
    const res = this.reply.raw;
    const late = new LateResponse(res, exchange.pendingWatch?.wantsBody === true, (result) => exchange.pendingWatch?.settle(result));
    const handlerHeaders = this.reply.getHeaders() as OutgoingHttpHeaders;
    for (const name in handlerHeaders) {
      const value = handlerHeaders[name];
      if (value !== undefined) late.setHeader(name, value);
    }
    // Fastify writes the answer once its onSend hooks are done: at once, unless one is async.
    // Until it is written, what reaches the response is the answer, not the handler's end.
    setAnswerUnderWay(res, true);
    this.sendAnswer(response);
    exchange.noteAnswerInPlace(response, nodeHeaderMap(this.reply.getHeaders() as OutgoingHttpHeaders));
    recordReply(this.reply, late);
    const handOver = (): void => {
      setAnswerUnderWay(res, false);
      late.install(res);
    };
    if (res.writableEnded) handOver();
    else res.once('finish', handOver);
  }

  /** Sends `response` with the reply (Fastify's hooks and serialisation apply). */
  sendAnswer(response: HttpResponse): void {
    const reply = this.reply;
    reply.removeHeader('content-length');
    reply.code(response.status);
    const headers = response.headers;
    if (headers !== undefined) for (const name in headers) reply.header(name, headers[name]!);
    const body = response.body;
    // Fastify streams a ReadableStream itself and cancels it when the client goes away.
    reply.send(body === undefined || isStreamBody(body) ? body : toBuffer(body));
  }

  hookBeforeSend(): void {
    // Fired from onSend, where reply.header() still reaches the head Fastify writes.
  }

  startCapture(): void {
    // The payload is captured in onSend.
  }

  hold(): void {
    this.holdOpen = true;
  }

  releaseHeld(): void {
    this.holdOpen = false;
    const done = this.heldDone;
    if (done === undefined) return;
    this.heldDone = undefined;
    done(null, this.payload);
  }

  /** onSend of a held response: the payload is kept and waits for the middleware's decision. */
  private holdPayload(bytes: Uint8Array, done: PayloadDone): void {
    this.payload = bytes;
    if (!this.holdOpen) {
      // The middleware returned while the handler ran: the response goes out as it is.
      done(null, bytes);
      return;
    }
    this.heldDone = done;
    this.exchange.pendingWatch?.settle(this.handlerResult());
  }

  /** preHandler: the route's handler is about to run, unless the request was answered already. */
  enterHandler(): void {
    this.handling = true;
  }

  proceed(untilHandler: boolean): Promise<HttpResult> {
    const settled = untilHandler ? this.exchange.handlerOutcome() : this.tap.settle();
    if (!this.released && !this.exchange.responded) {
      this.released = true;
      this.hookDone();
    }
    return settled;
  }

  settle(): Promise<HttpResult> {
    return this.tap.settle();
  }

  observeHandler(): void {
    this.tap.observeHandler();
  }

  ownResult(): HttpResult {
    return this.handlerResult();
  }

  handlerResult(): HttpResult {
    return new FastifyResult(this.reply, this.reply.raw.statusCode, this.exchange.capturing ? (this.payload ?? new Uint8Array(0)) : undefined);
  }

  get takesErrors(): boolean {
    return !this.released;
  }

  /** To Fastify's error handling, from the `onRequest` hook. */
  raise(err: unknown): void {
    this.released = true;
    this.hookDone(err instanceof Error ? err : new Error(String(err)));
  }

  report(err: unknown): void {
    this.reply.log.error({ err }, 'headroom: middleware failed after the response was handed on');
  }

  finish(): void {}

  /** preParsing: the stream Fastify should parse. */
  parsingPayload(payload: Readable): Readable {
    const bytes = this.rawBody;
    if (bytes === undefined) return payload;
    const replay = new PassThrough();
    replay.end(bytes);
    return replay;
  }

  /** onSend: late headers, then the payload as sent (captured when asked). */
  sending(payload: unknown, done: PayloadDone): void {
    this.exchange.fireBeforeSend(this.reply.statusCode);
    // A middleware's answer (a timeout's 504, see respond) is not the handler's: never held.
    if (this.holdOpen && !this.exchange.answeredInPlace && !answerUnderWay(this.reply.raw)) {
      if (payload === null || payload === undefined) this.holdPayload(new Uint8Array(0), done);
      else if (typeof payload === 'string' || payload instanceof Uint8Array) this.holdPayload(toBuffer(payload), done);
      else if (typeof (payload as Readable).pipe === 'function')
        readAll(payload as Readable).then(
          (bytes) => this.holdPayload(bytes, done),
          (err: Error) => done(err),
        );
      else done(null, payload);
    } else if (!this.exchange.capturing) {
      done(null, payload);
    } else if (payload === null || payload === undefined) {
      this.payload = new Uint8Array(0);
      done(null, payload);
    } else if (typeof payload === 'string' || payload instanceof Uint8Array) {
      this.payload = toBuffer(payload);
      done(null, payload);
    } else if (typeof (payload as Readable).pipe === 'function') {
      readAll(payload as Readable).then(
        (bytes) => {
          this.payload = bytes;
          done(null, bytes);
        },
        (err: Error) => done(err),
      );
    } else {
      done(null, payload);
    }
  }
}

/** Fastify keeps its headers on the reply and hands them to `writeHead` (not `setHeader`). */
class FastifyResult implements HttpResult {
  code: string | undefined = undefined;
  clientGone: boolean | undefined = undefined;
  private copied: HeaderMap | undefined = undefined;
  constructor(
    private readonly reply: FastifyReplyLike,
    readonly status: number,
    readonly body: Uint8Array | undefined,
  ) {}
  get headers(): HeaderMap {
    return (this.copied ??= nodeHeaderMap({ ...this.reply.raw.getHeaders(), ...(this.reply.getHeaders() as OutgoingHttpHeaders) }));
  }
}

/**
 * After an answer went out in its place, the handler's reply API records into `late`: what it
 * sends (a returned value, `reply.send()`, an error Fastify hands to `send`) ends the recording.
 * Fastify reads `reply.sent` from the raw response, which `late` shows as not ended, so a
 * handler's late value or rejection still reaches `send`.
 */
function recordReply(reply: FastifyReplyLike, late: LateResponse): void {
  const target = reply as unknown as Record<string, unknown>;
  target.code = function (this: FastifyReplyLike, status: number) {
    late.statusCode = status;
    return this;
  };
  target.status = target.code;
  target.header = function (this: FastifyReplyLike, name: string, value: string) {
    late.setHeader(name, value);
    return this;
  };
  target.getHeader = (name: string) => late.getHeader(name);
  target.getHeaders = () => late.getHeaders();
  target.hasHeader = (name: string) => late.hasHeader(name);
  target.removeHeader = function (this: FastifyReplyLike, name: string) {
    late.removeHeader(name);
    return this;
  };
  target.send = function (this: FastifyReplyLike, payload?: unknown) {
    if (late.done) return this;
    if (payload instanceof Error) {
      const status = (payload as { statusCode?: unknown }).statusCode;
      late.statusCode = typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
      reply.log.error({ err: payload }, 'headroom: the handler failed after its request was answered in its place');
      late.finish();
    } else if (payload === undefined || payload === null) {
      late.finish();
    } else if (typeof payload === 'string' || payload instanceof Uint8Array) {
      late.finish(payload);
    } else if (typeof (payload as Readable).pipe === 'function') {
      readAll(payload as Readable).then(
        (bytes) => late.finish(bytes),
        () => late.finish(),
      );
    } else {
      if (!late.hasHeader('content-type')) late.setHeader('content-type', 'application/json; charset=utf-8');
      late.finish(JSON.stringify(payload));
    }
    return this;
  };
}
