import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { HeaderMap, HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { discardLaterWrites, hasBody, isStreamBody, nodeHeaderMap, readAll, toBuffer } from './internal.js';
import { NodeExchange } from './node-exchange.js';

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

type HookDone = (err?: Error) => void;
type PayloadDone = (err: Error | null, payload?: unknown) => void;

const NOT_FOUND: HttpResponse = { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not Found' };

/**
 * Fastify's exchange. The middleware runs in `onRequest`; `next()` lets the hook finish;
 * `onSend` fires `onBeforeSend` listeners and captures the payload; `next()` resolves on the
 * raw response's `close`, as for node.
 *
 * @internal
 */
export class FastifyExchange extends NodeExchange {
  /** The `onRequest` hook has finished (Fastify moved on to parsing and the handler). */
  private released = false;
  private payload: Uint8Array | undefined = undefined;
  /** Body bytes read during `onRequest`, fed back to Fastify's parser in `preParsing`. */
  rawBody: Buffer | undefined = undefined;

  constructor(
    private readonly request: FastifyRequestLike,
    private readonly reply: FastifyReplyLike,
    private readonly hookDone: HookDone,
  ) {
    super(request.raw, reply.raw, undefined);
  }

  override get route(): string | undefined {
    return this.request.routeOptions.url;
  }

  override setHeader(name: string, value: string): void {
    if (!this.reply.raw.headersSent) this.reply.header(name, value);
  }

  override respond(response: HttpResponse): void {
    if (this.respondedHere || this.reply.sent || this.res.headersSent) return;
    this.respondedHere = true;
    const reply = this.reply;
    reply.removeHeader('content-length');
    reply.code(response.status);
    const headers = response.headers;
    if (headers !== undefined) for (const name in headers) reply.header(name, headers[name]!);
    const body = response.body;
    // Fastify streams a ReadableStream itself and cancels it when the client goes away.
    reply.send(body === undefined || isStreamBody(body) ? body : toBuffer(body));
    if (this.released) {
      // The handler is still running: its later reply.send / raw writes are discarded quietly.
      (reply as unknown as { send: unknown }).send = returnReply;
      discardLaterWrites(this.res);
    }
  }

  override async run(middleware: Middleware): Promise<void> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      if (!this.released) {
        this.released = true;
        this.hookDone(err instanceof Error ? err : new Error(String(err)));
      } else {
        this.reply.log.error({ err }, 'headroom: middleware failed after the response was handed on');
      }
      return;
    }
    if (!this.nextCalled && !this.responded) this.respond(NOT_FOUND);
  }

  protected override runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    if (options?.captureBody === true) this.startCapture();
    const settled = this.settle();
    if (!this.released && !this.responded) {
      this.released = true;
      this.hookDone();
    }
    return settled;
  }

  override startCapture(): void {
    this.capturing = true;
  }

  protected override result(): HttpResult {
    return new FastifyResult(this.reply, this.res.statusCode, this.capturing ? (this.payload ?? new Uint8Array(0)) : undefined);
  }

  protected override installBeforeSend(): void {
    // Fired from onSend, where reply.header() still reaches the head Fastify writes.
  }

  protected override readBody(): Promise<unknown> {
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
    this.fireBeforeSend(this.reply.statusCode);
    if (!this.capturing) {
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

function returnReply<T>(this: T): T {
  return this;
}
