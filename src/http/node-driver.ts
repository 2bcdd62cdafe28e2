import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeadroomError, problemResponse, type HttpResponse, type HttpResult } from '../core/index.js';
import type { Exchange, ExchangeDriver } from './exchange.js';
import { NOT_FOUND, reportLateError } from './internal.js';
import { hasBody, readRequestBody, writeNodeResponse } from './node-io.js';
import { ResponseTap, type TapOwner } from './response-tap.js';

/** A node request as Express and body parsers decorate it. */
export type NodeRequest = IncomingMessage & {
  body?: unknown;
  /** Express's matched route: its path is a string, a RegExp or an array of them. */
  route?: { path?: string | RegExp | readonly (string | RegExp)[] } | undefined;
  baseUrl?: string;
  originalUrl?: string;
};

/**
 * The framework's `next` of Connect and Express, or the handler a plain node:http server passes
 * to `toNode`. What it returns is awaited: a promise that rejects is answered with a 500.
 */
export type NodeNext = (err?: unknown) => unknown;

/**
 * The driver of node:http, Connect and Express. `next()` resolves on the response's `close`
 * event (see {@link ResponseTap}); the framework's `next` is the downstream handler, and
 * without one the chain's end answers 404.
 *
 * @internal
 */
export class NodeDriver implements ExchangeDriver<void>, TapOwner {
  exchange!: Exchange<void>;
  private readonly tap: ResponseTap;

  constructor(
    private readonly req: NodeRequest,
    res: ServerResponse,
    private readonly frameworkNext: NodeNext | undefined,
  ) {
    this.tap = new ResponseTap(res, this);
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

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  readBody(): Promise<unknown> {
    const req = this.req;
    if (req.body !== undefined) return Promise.resolve(req.body);
    if (!hasBody(req) || req.readableEnded) return Promise.resolve(undefined);
    // No parser ran: buffer the stream and leave the bytes where parsers put a body.
    return readRequestBody(req);
  }

  get clientLeft(): boolean {
    return this.tap.clientGone;
  }

  watchDisconnect(): void {
    this.tap.watchDisconnect();
  }

  get answered(): boolean {
    return !this.tap.holding && this.tap.res.headersSent;
  }

  get headSent(): boolean {
    return !this.tap.holding && this.tap.res.headersSent;
  }

  setHeader(name: string, value: string): void {
    const res = this.tap.res;
    if (!res.headersSent) res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.tap.appendHeader(name, value);
  }

  respond(response: HttpResponse): void {
    // Instead of the handler: for a middleware further out that waits on the handler, this is it.
    if (!this.exchange.nextCalled) writeNodeResponse(this.tap.res, response);
    // In the handler's place (a timeout, or in place of a held response): the handler goes on,
    // or had ended, against a recording of its own.
    else this.tap.answerInPlace(response);
  }

  hookBeforeSend(): void {
    this.tap.hookBeforeSend();
  }

  startCapture(): void {
    this.tap.keepBody();
  }

  hold(): void {
    this.tap.hold();
  }

  releaseHeld(): void {
    this.tap.releaseHeld();
  }

  proceed(untilHandler: boolean): Promise<HttpResult> {
    const settled = untilHandler ? this.exchange.handlerOutcome() : this.tap.settle();
    const handler = this.frameworkNext;
    const res = this.tap.res;
    if (handler === undefined) {
      if (!this.exchange.responded) writeNodeResponse(res, NOT_FOUND);
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
      (returned as PromiseLike<unknown>).then(
        () => this.handlerReturned(),
        (err: unknown) => this.handlerFailed(err),
      );
    }
    return settled;
  }

  /**
   * The final handler's promise resolved. Normally its response has ended by then, or will (a
   * stream still piping). But a handler that stops on its signal after an answer went out in its
   * place (a timeout's 504) often returns without ending the recording it writes to: it has
   * settled all the same, so whoever waits for it (shed's slot, the idempotency lease) hears so
   * now, with the answer given in its place, instead of after HANDLER_SETTLE_LIMIT_MS.
   */
  private handlerReturned(): void {
    const exchange = this.exchange;
    const watch = exchange.pendingWatch;
    if (watch === undefined || !exchange.answeredInPlace) return;
    watch.settle(exchange.inPlaceResult(watch.wantsBody));
  }

  /**
   * The final handler threw or rejected: it is reported, and answered with a 500 problem as
   * the handler's own answer (recorded, if a middleware had already answered in its place).
   */
  private handlerFailed(err: unknown): void {
    console.error('headroom: the request handler failed', err);
    const exchange = this.exchange;
    if (exchange.answeredInPlace) {
      // Answered already (a timeout's 504): nothing more goes to the client, but whoever waits
      // for the handler (shed's slot, the idempotency lease) learns it is over.
      exchange.pendingWatch?.fail(err);
      return;
    }
    const res = this.tap.res;
    if (!res.headersSent) {
      // Its own answer, not a middleware's: the wrappers see it as the handler's end.
      writeNodeResponse(res, problemResponse({ status: 500, code: 'INTERNAL_ERROR', detail: 'The request handler failed.' }));
    } else if (!res.writableEnded) {
      res.destroy(err instanceof Error ? err : new Error(String(err)));
      this.exchange.pendingWatch?.fail(err);
    }
  }

  settle(): Promise<HttpResult> {
    return this.tap.settle();
  }

  observeHandler(): void {
    this.tap.observeHandler();
  }

  ownResult(): HttpResult {
    return this.tap.recordedResult();
  }

  handlerResult(): HttpResult {
    return this.tap.recordedResult();
  }

  get takesErrors(): boolean {
    return !this.exchange.nextCalled && !this.tap.res.headersSent;
  }

  /**
   * Before `next()`: to Express's or Connect's error handling (`next(err)`); without a framework
   * `next`, a `HeadroomError` becomes its problem response and any other error a logged `500`.
   */
  raise(err: unknown): void {
    const exchange = this.exchange;
    const frameworkNext = this.frameworkNext;
    if (frameworkNext !== undefined) {
      exchange.nextCalled = true;
      frameworkNext(err);
      return;
    }
    if (!(err instanceof HeadroomError)) console.error('headroom: middleware failed', err);
    exchange.respond(err instanceof HeadroomError ? problemResponse(err) : problemResponse({ status: 500, code: 'INTERNAL_ERROR' }));
  }

  report(err: unknown): void {
    reportLateError(err);
  }

  finish(): void {}
}
