import type { HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange, ExchangeDriver } from './exchange.js';
import { reportLateError } from './internal.js';
import { WebRequest, notFoundResponse, pathOf, sentResult, toWebResponse, unsentResultOf, webHeaderMap, webResultOf } from './web-io.js';

/**
 * The driver of fetch-style handlers. The response is a value here: `next()` resolves with the
 * handler's `Response`, `respond()` replaces it, and headers and `onBeforeSend` listeners are
 * applied when the adapter returns it ({@link FetchDriver.finish}).
 *
 * @internal
 */
export class FetchDriver<A extends unknown[]> implements ExchangeDriver<Response> {
  exchange!: Exchange<Response>;
  private readonly web: WebRequest;
  private response: Response | undefined = undefined;
  private pending: Headers | undefined = undefined;
  /** `holdResponse`: the handler's response is not taken as an answer until the middleware decides. */
  private holdOpen = false;
  private pendingAppend: Headers | undefined = undefined;
  private cachedPath: string | undefined = undefined;

  constructor(
    request: Request,
    private readonly args: A,
    private readonly handler: (request: Request, ...args: A) => Response | PromiseLike<Response>,
    readonly route: string | undefined,
  ) {
    this.web = new WebRequest(request);
  }

  get method(): string {
    return this.web.method;
  }

  get url(): string {
    return this.web.url;
  }

  get path(): string {
    return (this.cachedPath ??= pathOf(this.web.request.url));
  }

  header(name: string): string | undefined {
    return this.web.header(name);
  }

  readBody(): Promise<unknown> {
    return this.web.readBody();
  }

  get clientLeft(): boolean {
    return this.web.clientLeft;
  }

  watchDisconnect(): void {
    this.web.watchDisconnect(() => this.exchange.disconnected());
  }

  get answered(): boolean {
    return !this.holdOpen && this.response !== undefined;
  }

  get headSent(): boolean {
    return false;
  }

  setHeader(name: string, value: string): void {
    const response = this.response;
    if (response === undefined) (this.pending ??= new Headers()).set(name, value);
    else this.editHeaders(response, (headers) => headers.set(name, value));
  }

  appendHeader(name: string, value: string): void {
    const response = this.response;
    // Added to the handler's response when it is returned (see finish()).
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
    if (this.holdOpen && this.response !== undefined) {
      // In place of the held response, which the handler returned.
      this.holdOpen = false;
      this.response = toWebResponse(response, undefined);
      return;
    }
    this.holdOpen = false;
    const answer = (this.response = toWebResponse(response, this.pending));
    this.pending = undefined;
    if (this.exchange.nextCalled) this.exchange.noteAnswerInPlace(response, webHeaderMap(answer.headers));
  }

  hookBeforeSend(): void {
    // Fired when the adapter hands the response back (finish).
  }

  startCapture(): void {
    // The bytes are read from the response when next() resolves.
  }

  hold(): void {
    this.holdOpen = true;
  }

  releaseHeld(): void {
    // The handler's response is what finish() hands back.
    this.holdOpen = false;
  }

  proceed(untilHandler: boolean): Promise<HttpResult> {
    const exchange = this.exchange;
    let produced: Response | PromiseLike<Response>;
    try {
      produced = this.handler(this.web.request, ...this.args);
    } catch (err) {
      produced = Promise.reject(err);
    }
    const done = Promise.resolve(produced).then((response) => {
      if (!exchange.respondedHere) this.response = response;
      return response;
    });
    // A headroom adapter inside the handler (toHono under app.fetch) is the innermost then.
    const watch = exchange.pendingWatch;
    if (watch !== undefined) {
      const innermost = exchange.innermostHere;
      done.then(
        (response) => {
          if (!innermost) return;
          // Unless it was answered in its place, the handler's response is the one sent.
          watch.settle(exchange.respondedHere ? unsentResultOf(response, watch.wantsBody) : webResultOf(response, exchange.capturing || watch.wantsBody));
        },
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return exchange.handlerOutcome();
    return done.then(() => this.settle());
  }

  settle(): Promise<HttpResult> {
    const exchange = this.exchange;
    const clientGone = this.web.clientLeft;
    if (exchange.answeredInPlace) return Promise.resolve(exchange.describe(exchange.inPlaceResult(exchange.capturing), clientGone));
    return sentResult(exchange, (this.response ??= notFoundResponse()), clientGone);
  }

  observeHandler(): void {
    // Seen from the handler's promise (proceed).
  }

  ownResult(): HttpResult {
    throw new Error('headroom: the fetch adapter reads the handler response from its promise');
  }

  get takesErrors(): boolean {
    return true;
  }

  /** Rethrown: the caller of the fetch handler gets the rejection. */
  raise(err: unknown): void {
    this.web.release();
    throw err;
  }

  report(err: unknown): void {
    reportLateError(err);
  }

  /** The response to return, with the headers set before it existed and `onBeforeSend` applied. */
  finish(): Response {
    let response = (this.response ??= notFoundResponse());
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
    this.exchange.fireBeforeSend(response.status);
    this.web.release();
    return this.response;
  }
}
