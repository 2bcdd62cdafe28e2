import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HeaderMap, HttpResult } from '../core/index.js';

type HeaderValue = OutgoingHttpHeader;

function joined(value: HeaderValue): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function bytesOf(chunk: unknown, encoding: unknown): Uint8Array | undefined {
  if (typeof chunk === 'string') return chunk.length === 0 ? undefined : Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength === 0 ? undefined : chunk;
  return undefined;
}

function callbackOf(args: readonly unknown[]): (() => void) | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as () => void) : undefined;
}

/**
 * What a node handler writes after a middleware answered its request in its place (a timeout's
 * 504): the handler goes on against a response that, from where it stands, was never sent. Its
 * status, headers and body are recorded here and never reach the socket, and `end()` tells the
 * request's {@link HandlerWatch} that the handler settled, with the response it produced. That
 * is how `next({ untilHandlerSettles: true })` learns a timed-out order's real 201, and how
 * Express's error handling, writing a 500 into a response it sees as unsent, tells that the
 * handler failed.
 *
 * Installed only on that rare path, as own properties of the response, so ordinary responses
 * keep their prototype methods.
 *
 * @internal
 */
export class LateResponse {
  private status: number;
  private readonly headers = new Map<string, HeaderValue>();
  private readonly chunks: Uint8Array[] = [];
  private ended = false;

  /**
   * @param res - the response, before the answer is written on it: the handler's status and
   *   headers so far are where it goes on from.
   * @param keepBody - keep the body the handler writes (someone waits for it); otherwise it is
   *   dropped as it comes, so a handler that streams on after a timeout holds no memory.
   * @param onEnd - called once, when the handler ends its response.
   */
  constructor(
    res: ServerResponse,
    private readonly keepBody: boolean,
    private readonly onEnd: (result: HttpResult) => void,
  ) {
    this.status = res.statusCode;
    const current = res.getHeaders();
    for (const name in current) {
      const value = current[name];
      if (value !== undefined) this.headers.set(name, value);
    }
  }

  /** Sets a header of the handler's response. */
  setHeader(name: string, value: HeaderValue): void {
    this.headers.set(name.toLowerCase(), value);
  }

  /** A header of the handler's response. */
  getHeader(name: string): HeaderValue | undefined {
    return this.headers.get(name.toLowerCase());
  }

  /** The headers of the handler's response, by lower-case name. */
  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (const [name, value] of this.headers) out[name] = value;
    return out;
  }

  /** Whether the handler's response has header `name`. */
  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  /** Removes a header of the handler's response. */
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }

  /** The status of the handler's response. */
  get statusCode(): number {
    return this.status;
  }

  set statusCode(value: number) {
    this.status = value;
  }

  /** Whether the handler ended its response. */
  get done(): boolean {
    return this.ended;
  }

  /** Ends the handler's response with `body` (once). */
  finish(body?: Uint8Array | string): void {
    this.keep(body, undefined);
    this.end();
  }

  /** The handler's response as it stands. */
  result(): HttpResult {
    const headers: HeaderMap = {};
    for (const [name, value] of this.headers) headers[name] = joined(value);
    if (!this.keepBody) return { status: this.status, headers };
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return { status: this.status, headers, body };
  }

  /** Takes over the handler-facing side of `res` (after the answer was written on it). */
  install(res: ServerResponse): void {
    const late = this;
    const target = res as unknown as Record<string, unknown>;
    Object.defineProperty(res, 'statusCode', {
      get: () => late.status,
      set: (value: unknown) => {
        if (typeof value === 'number') late.status = value;
      },
      configurable: true,
    });
    Object.defineProperty(res, 'headersSent', { get: () => late.ended, configurable: true });
    Object.defineProperty(res, 'writableEnded', { get: () => late.ended, configurable: true });
    target.setHeader = function (this: ServerResponse, name: string, value: HeaderValue) {
      late.setHeader(name, value);
      return this;
    };
    target.appendHeader = function (this: ServerResponse, name: string, value: HeaderValue) {
      const key = name.toLowerCase();
      const before = late.headers.get(key);
      late.headers.set(key, before === undefined ? value : [...(Array.isArray(before) ? before : [String(before)]), ...(Array.isArray(value) ? value : [String(value)])]);
      return this;
    };
    target.setHeaders = function (this: ServerResponse, headers: Headers | Map<string, HeaderValue>) {
      headers.forEach((value: HeaderValue, name: string) => late.headers.set(name.toLowerCase(), value));
      return this;
    };
    target.getHeader = (name: string) => late.getHeader(name);
    target.getHeaders = () => late.getHeaders();
    target.getHeaderNames = () => [...late.headers.keys()];
    target.hasHeader = (name: string) => late.hasHeader(name);
    target.removeHeader = (name: string) => late.removeHeader(name);
    target.writeHead = function (this: ServerResponse, status: number, reason?: unknown, headers?: unknown) {
      if (typeof status === 'number') late.status = status;
      late.addHeadHeaders(typeof reason === 'string' ? headers : (headers ?? reason));
      return this;
    };
    target.flushHeaders = noop;
    target.cork = noop;
    target.uncork = noop;
    target.addTrailers = noop;
    target.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, ...rest: unknown[]) {
      late.keep(chunk, encoding);
      const callback = callbackOf([encoding, ...rest]);
      if (callback !== undefined) process.nextTick(callback);
      return true;
    };
    target.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') late.keep(chunk, encoding);
      const callback = callbackOf([chunk, encoding, ...rest]);
      if (callback !== undefined) process.nextTick(callback);
      late.end();
      return this;
    };
  }

  private keep(chunk: unknown, encoding: unknown): void {
    if (this.ended || !this.keepBody) return;
    const bytes = bytesOf(chunk, encoding);
    if (bytes !== undefined) this.chunks.push(bytes);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this.result());
  }

  private addHeadHeaders(given: unknown): void {
    if (typeof given !== 'object' || given === null) return;
    if (!Array.isArray(given)) {
      for (const name in given) {
        const value = (given as OutgoingHttpHeaders)[name];
        if (value !== undefined && value !== null) this.headers.set(name.toLowerCase(), value);
      }
      return;
    }
    const pairs = given.length > 0 && Array.isArray(given[0]);
    const step = pairs ? 1 : 2;
    for (let i = 0; i + step - 1 < given.length; i += step) {
      const name: unknown = pairs ? (given[i] as unknown[])[0] : given[i];
      const value: unknown = pairs ? (given[i] as unknown[])[1] : given[i + 1];
      if (typeof name === 'string' && name !== '' && value !== undefined && value !== null) {
        this.headers.set(name.toLowerCase(), value as HeaderValue);
      }
    }
  }
}

function noop(): void {}
