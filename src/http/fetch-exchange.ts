import type { HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { BaseExchange, disconnectReason } from './base-exchange.js';
import { NOT_FOUND, WebResult, responseBytes, toWebResponse, unsentResultOf, webHeaderMap, webResultOf } from './internal.js';

const notFound = (): Response => toWebResponse(NOT_FOUND, undefined);

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

/** Request-side behaviour shared by the fetch and Hono exchanges. */
export abstract class WebExchange extends BaseExchange {
  private onRequestAbort: (() => void) | undefined = undefined;

  constructor(protected readonly request: Request) {
    super(request);
  }

  get method(): string {
    return this.request.method;
  }

  get url(): string {
    return targetOf(this.request.url);
  }

  header(name: string): string | undefined {
    return this.request.headers.get(name) ?? undefined;
  }

  protected readBody(): Promise<unknown> {
    const request = this.request;
    if (request.body === null || request.bodyUsed) return Promise.resolve(undefined);
    // A clone tees the stream: the handler still reads the original.
    return request
      .clone()
      .arrayBuffer()
      .then((buffer) => (buffer.byteLength === 0 ? undefined : new Uint8Array(buffer)));
  }

  protected clientLeft(): boolean {
    return this.request.signal.aborted;
  }

  protected watchDisconnect(): void {
    const source = this.request.signal;
    // The server aborts request.signal when the client goes away; its reason varies by server.
    if (source.aborted) {
      this.controller!.abort(disconnectReason());
      return;
    }
    const onAbort = (): void => this.controller!.abort(disconnectReason());
    this.onRequestAbort = onAbort;
    source.addEventListener('abort', onAbort, { once: true });
  }

  protected installBeforeSend(): void {
    // Fired when the adapter hands the response back.
  }

  /** `next()`'s result for `response`, the one the adapter sends: no extra promise unless capturing. */
  protected sentResult(response: Response, capturing: boolean): Promise<HttpResult> {
    const clientGone = this.request.signal.aborted;
    if (!capturing) return Promise.resolve(this.describe(new WebResult(response, undefined), clientGone));
    return responseBytes(response).then((bytes) => this.describe(new WebResult(response, bytes), clientGone));
  }

  /** Removes the disconnect listener; the response is leaving the adapter. */
  protected release(): void {
    const onAbort = this.onRequestAbort;
    if (onAbort !== undefined) {
      this.onRequestAbort = undefined;
      this.request.signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * The exchange of fetch-style handlers. The response is a value here: `next()` resolves with
 * the handler's `Response`, `respond()` replaces it, and headers and `onBeforeSend` listeners
 * are applied when the adapter returns it.
 *
 * @internal
 */
export class FetchExchange<A extends unknown[]> extends WebExchange {
  private response: Response | undefined = undefined;
  private pending: Headers | undefined = undefined;
  private pendingAppend: Headers | undefined = undefined;
  private cachedPath: string | undefined = undefined;

  constructor(
    request: Request,
    private readonly args: A,
    private readonly handler: (request: Request, ...args: A) => Response | PromiseLike<Response>,
    readonly route: string | undefined,
  ) {
    super(request);
  }

  get path(): string {
    return (this.cachedPath ??= pathOf(this.request.url));
  }

  get responded(): boolean {
    return this.respondedHere || this.answeredInPlace || this.response !== undefined;
  }

  setHeader(name: string, value: string): void {
    const response = this.response;
    if (response === undefined) (this.pending ??= new Headers()).set(name, value);
    else this.editHeaders(response, (headers) => headers.set(name, value));
  }

  appendHeader(name: string, value: string): void {
    const response = this.response;
    // Added to the handler's response when it is returned (see run()).
    if (response === undefined) (this.pendingAppend ??= new Headers()).append(name, value);
    else this.editHeaders(response, (headers) => headers.append(name, value));
  }

  /** Edits the headers of the response to send, copying it once if they are immutable (a Response from fetch()). */
  private editHeaders(response: Response, edit: (headers: Headers) => void): void {
    try {
      edit(response.headers);
    } catch {
      const copy = new Response(response.body, response);
      edit(copy.headers);
      this.response = copy;
    }
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    this.response = toWebResponse(response, this.pending);
    this.pending = undefined;
    if (this.nextCalled) this.noteAnswerInPlace(response, webHeaderMap(this.response.headers));
  }

  protected runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    const untilHandler = this.applyNextOptions(options);
    let produced: Response | PromiseLike<Response>;
    try {
      produced = this.handler(this.request, ...this.args);
    } catch (err) {
      produced = Promise.reject(err);
    }
    const done = Promise.resolve(produced).then((response) => {
      if (!this.respondedHere) this.response = response;
      return response;
    });
    // A headroom adapter inside the handler (toHono under app.fetch) is the innermost then.
    const watch = this.pendingWatch;
    if (watch !== undefined) {
      const innermost = this.innermostHere;
      done.then(
        (response) => {
          if (!innermost) return;
          // Unless it was answered in its place, the handler's response is the one sent.
          watch.settle(this.respondedHere ? unsentResultOf(response, watch.wantsBody) : webResultOf(response, this.capturing || watch.wantsBody));
        },
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return this.handlerOutcome();
    return done.then(() => this.settle());
  }

  settle(): Promise<HttpResult> {
    if (this.answeredInPlace) return Promise.resolve(this.describe(this.inPlaceResult(this.capturing), this.request.signal.aborted));
    return this.sentResult((this.response ??= notFound()), this.capturing);
  }

  /** Runs the middleware and returns the response to send. */
  async run(middleware: Middleware): Promise<Response> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      if (!this.respondedHere) {
        this.release();
        throw err;
      }
    }
    if (!this.nextCalled) this.chainEndedWithoutHandler();
    let response = (this.response ??= notFound());
    const pending = this.pending;
    if (pending !== undefined) {
      this.pending = undefined;
      pending.forEach((value, name) => {
        if (!response.headers.has(name)) this.setHeader(name, value);
      });
      response = this.response;
    }
    const appended = this.pendingAppend;
    if (appended !== undefined) {
      this.pendingAppend = undefined;
      appended.forEach((value, name) => this.appendHeader(name, value));
    }
    this.fireBeforeSend(response.status);
    this.release();
    return this.response;
  }
}
