import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { HeaderMap, HttpResponse, HttpResult } from '../core/index.js';

/** A node response header map (`res.getHeaders()`) as a {@link HeaderMap}. */
export function nodeHeaderMap(headers: OutgoingHttpHeaders): HeaderMap {
  const map: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) map[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return map;
}

/** A fetch `Headers` as a {@link HeaderMap}. */
export function webHeaderMap(headers: Headers): HeaderMap {
  const map: HeaderMap = {};
  headers.forEach((value, name) => {
    map[name] = value;
  });
  return map;
}

/** An {@link HttpResult} whose headers are only copied out when someone reads them. */
export class NodeResult implements HttpResult {
  private copied: HeaderMap | undefined = undefined;
  constructor(
    private readonly res: ServerResponse,
    readonly status: number,
    readonly body: Uint8Array | undefined,
  ) {}
  get headers(): HeaderMap {
    return (this.copied ??= nodeHeaderMap(this.res.getHeaders()));
  }
}

/** An {@link HttpResult} over a fetch `Response`; headers copied on first read. */
export class WebResult implements HttpResult {
  private copied: HeaderMap | undefined = undefined;
  constructor(
    private readonly response: Response,
    readonly body: Uint8Array | undefined,
  ) {}
  get status(): number {
    return this.response.status;
  }
  get headers(): HeaderMap {
    return (this.copied ??= webHeaderMap(this.response.headers));
  }
}

const EMPTY = new Uint8Array(0);

/** The body bytes of a fetch `Response` without consuming it (for `captureBody`). */
export async function responseBytes(response: Response): Promise<Uint8Array> {
  if (response.body === null) return EMPTY;
  return new Uint8Array(await response.clone().arrayBuffer());
}

/** Whether a node request carries a body, going by its headers. */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Reads a stream to its end into one Buffer. */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string): void => {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('headroom: the request body ended before it was complete'));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** `value` as a Buffer without copying when it already is one. */
export function toBuffer(value: string | Uint8Array): Buffer {
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Headers a response we write replaces rather than inherits from a half-built one. */
const STALE = ['content-length', 'content-encoding', 'transfer-encoding'] as const;

/** Writes `response` on a node response whose head is not sent yet. */
export function writeNodeResponse(res: ServerResponse, response: HttpResponse): void {
  for (const name of STALE) if (res.hasHeader(name)) res.removeHeader(name);
  res.statusCode = response.status;
  const headers = response.headers;
  if (headers !== undefined) for (const name in headers) res.setHeader(name, headers[name]!);
  if (response.body === undefined) res.end();
  else res.end(response.body);
}

/** A fetch `Response` for `response`, keeping `inherited` headers it does not set itself. */
export function toWebResponse(response: HttpResponse, inherited: Headers | undefined): Response {
  const headers = new Headers(response.headers);
  if (inherited !== undefined) {
    inherited.forEach((value, name) => {
      if (!headers.has(name) && !(STALE as readonly string[]).includes(name) && name !== 'content-type') headers.set(name, value);
    });
  }
  const body = response.body === undefined || response.status === 204 || response.status === 304 ? null : response.body;
  return new Response(body as BodyInit | null, { status: response.status, headers });
}

function returnThis<T>(this: T): T {
  return this;
}
function returnTrue(): boolean {
  return true;
}
function noop(): void {}
function endDiscarded(this: ServerResponse, ...args: unknown[]): ServerResponse {
  const callback = args[args.length - 1];
  if (typeof callback === 'function') process.nextTick(callback as () => void);
  return this;
}

/**
 * After a middleware answered in the handler's place (a timeout), the handler may still write.
 * Its writes are discarded instead of throwing `ERR_HTTP_HEADERS_SENT`. Only done on that rare
 * path, so ordinary responses keep their prototype methods.
 */
export function discardLaterWrites(res: ServerResponse): void {
  // The status stays the one sent, so next() reports it even if the handler sets another.
  const sent = res.statusCode;
  Object.defineProperty(res, 'statusCode', { get: () => sent, set: noop, configurable: true });
  const target = res as unknown as Record<string, unknown>;
  target.setHeader = returnThis;
  target.appendHeader = returnThis;
  target.setHeaders = returnThis;
  target.removeHeader = noop;
  target.writeHead = returnThis;
  target.flushHeaders = noop;
  target.write = returnTrue;
  target.end = endDiscarded;
}

/** Reports a middleware error nobody else can receive any more. */
export function reportLateError(err: unknown): void {
  console.error('headroom: middleware failed after the response was handed on', err);
}
