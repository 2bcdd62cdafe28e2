import type { HeaderMap, HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange } from './exchange.js';
import { NOT_FOUND, STALE } from './internal.js';

// Reading and writing fetch's `Request` and `Response`: results, header maps, request targets.

/** A fetch `Headers` as a {@link HeaderMap}. */
export function webHeaderMap(headers: Headers): HeaderMap {
  const map: HeaderMap = {};
  headers.forEach((value, name) => {
    map[name] = value;
  });
  return map;
}

/** An {@link HttpResult} over a fetch `Response`; headers copied on first read. */
export class WebResult implements HttpResult {
  code: string | undefined = undefined;
  clientGone: boolean | undefined = undefined;
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

/** What `next()` resolves with for a fetch `Response`: with its body bytes when `capturing`. */
export function webResultOf(response: Response, capturing: boolean): Promise<WebResult> {
  if (!capturing) return Promise.resolve(new WebResult(response, undefined));
  return responseBytes(response).then((bytes) => new WebResult(response, bytes));
}

/**
 * The result of a handler's `Response` that will never be sent (the request was answered in
 * its place): its body is read as it is, not through a clone.
 */
export function unsentResultOf(response: Response, withBody: boolean): Promise<WebResult> | WebResult {
  if (!withBody || response.body === null || response.bodyUsed) return new WebResult(response, withBody ? EMPTY : undefined);
  return response.arrayBuffer().then((buffer) => new WebResult(response, new Uint8Array(buffer)));
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

/** `next()`'s result for `response`, the one the adapter sends: no extra promise unless capturing. */
export function sentResult(exchange: Exchange<unknown>, response: Response, clientGone: boolean): Promise<HttpResult> {
  if (!exchange.capturing) return Promise.resolve(exchange.describe(new WebResult(response, undefined), clientGone));
  return responseBytes(response).then((bytes) => exchange.describe(new WebResult(response, bytes), clientGone));
}

/** The 404 as a fetch `Response`. */
export function notFoundResponse(): Response {
  return toWebResponse(NOT_FOUND, undefined);
}

/** The path and query of an absolute URL (no fragment), without building a `URL`. */
export function targetOf(url: string): string {
  const scheme = url.indexOf('://');
  const start = url.indexOf('/', scheme === -1 ? 0 : scheme + 3);
  const query = url.indexOf('?', scheme === -1 ? 0 : scheme + 3);
  const from = start === -1 || (query !== -1 && query < start) ? query : start;
  if (from === -1) return '/';
  const hash = url.indexOf('#', from);
  const target = hash === -1 ? url.slice(from) : url.slice(from, hash);
  return target.startsWith('?') ? `/${target}` : target;
}

/** The path of an absolute URL, without query or fragment, without building a `URL`. */
export function pathOf(url: string): string {
  const scheme = url.indexOf('://');
  const start = url.indexOf('/', scheme === -1 ? 0 : scheme + 3);
  if (start === -1) return '/';
  let end = url.length;
  const query = url.indexOf('?', start);
  if (query !== -1) end = query;
  const hash = url.indexOf('#', start);
  if (hash !== -1 && hash < end) end = hash;
  return url.slice(start, end);
}

/**
 * One exchange's hold on a fetch `Request`, shared by the fetch and Hono drivers: its target,
 * headers and body (read from a clone), and its `signal`, which the server aborts when the
 * client goes away; the listener on it lives until the response leaves the adapter.
 *
 * @internal
 */
export class WebRequest {
  private onAbort: (() => void) | undefined = undefined;

  constructor(readonly request: Request) {}

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    return targetOf(this.request.url);
  }

  header(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }

  /** The body's bytes, from a clone (the handler still reads the original); `undefined` when empty. */
  readBody(): Promise<unknown> {
    const request = this.request;
    if (request.body === null || request.bodyUsed) return Promise.resolve(undefined);
    return request
      .clone()
      .arrayBuffer()
      .then((buffer) => (buffer.byteLength === 0 ? undefined : new Uint8Array(buffer)));
  }

  /** Whether the client went away. */
  get clientLeft(): boolean {
    return this.request.signal.aborted;
  }

  /** Calls `disconnected` when the client goes away (at once if it has), until {@link release}. */
  watchDisconnect(disconnected: () => void): void {
    const source = this.request.signal;
    // The server aborts request.signal when the client goes away; its reason varies by server.
    if (source.aborted) {
      disconnected();
      return;
    }
    this.onAbort = disconnected;
    source.addEventListener('abort', disconnected, { once: true });
  }

  /** Removes the disconnect listener; the response is leaving the adapter. */
  release(): void {
    const onAbort = this.onAbort;
    if (onAbort !== undefined) {
      this.onAbort = undefined;
      this.request.signal.removeEventListener('abort', onAbort);
    }
  }
}
