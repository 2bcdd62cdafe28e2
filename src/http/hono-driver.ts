import type { HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange, ExchangeDriver } from './exchange.js';
import { HonoLateResponse, type HonoContextLike } from './hono-context.js';
import { noop, reportLateError } from './internal.js';
import { WebRequest, notFoundResponse, sentResult, toWebResponse, unsentResultOf, webHeaderMap, webResultOf } from './web-io.js';

export type { HonoContextLike } from './hono-context.js';

/** The request's answer in the handler's place, kept on Hono's context (one per request). */
const LATE: unique symbol = Symbol('headroom.honoLate');
type WithLate = HonoContextLike & { [LATE]?: HonoLateResponse };

/**
 * Hono's driver: the middleware runs inside Hono's own chain; `next()` resolves once the
 * downstream handlers returned (Hono has turned their errors into responses by then), with
 * `c.res`; `respond()` sets `c.res`, or, in the handler's place, is handed to Hono when the
 * middleware returns (see {@link HonoLateResponse}).
 *
 * @internal
 */
export class HonoDriver implements ExchangeDriver<Response | undefined> {
  exchange!: Exchange<Response | undefined>;
  private readonly web: WebRequest;
  private readonly entryIndex: number;
  private matched: string | undefined = undefined;
  /** The answer in the handler's place that this exchange gave, which finish() hands to Hono. */
  private answeredHere: HonoLateResponse | undefined = undefined;
  /** `holdResponse`: the handler's response in `c.res` is not taken as an answer until the middleware decides. */
  private holdOpen = false;
  /** The downstream (the handler) returned. */
  private downstreamReturned = false;

  constructor(
    private readonly c: HonoContextLike,
    private readonly honoNext: () => Promise<void>,
  ) {
    this.web = new WebRequest(c.req.raw);
    this.entryIndex = c.req.routeIndex;
  }

  get method(): string {
    return this.web.method;
  }

  get url(): string {
    return this.web.url;
  }

  get path(): string {
    return this.c.req.path;
  }

  get route(): string | undefined {
    if (this.matched !== undefined) return this.matched;
    // Hono leaves routeIndex on the last handler it dispatched; until next() ran, or when no
    // handler matched, that is this middleware's own pattern.
    if (!this.exchange.nextCalled || this.c.req.routeIndex === this.entryIndex) return undefined;
    return (this.matched = this.c.req.routePath);
  }

  header(name: string): string | undefined {
    return this.web.header(name);
  }

  readBody(): Promise<unknown> {
    const cache = this.c.req.bodyCache as Record<string, Promise<unknown> | undefined>;
    if (cache.json !== undefined) return cache.json;
    if (cache.text !== undefined) return cache.text;
    if (cache.formData !== undefined) return cache.formData;
    if (cache.arrayBuffer !== undefined || cache.blob !== undefined) {
      return this.c.req.arrayBuffer().then((buffer) => (buffer.byteLength === 0 ? undefined : new Uint8Array(buffer)));
    }
    return this.web.readBody();
  }

  get clientLeft(): boolean {
    return this.web.clientLeft;
  }

  watchDisconnect(): void {
    this.web.watchDisconnect(() => this.exchange.disconnected());
  }

  get answered(): boolean {
    return !this.holdOpen && this.c.finalized;
  }

  get headSent(): boolean {
    return false;
  }

  /** The request's answer in the handler's place, if there is one. */
  private get late(): HonoLateResponse | undefined {
    return (this.c as WithLate)[LATE];
  }

  setHeader(name: string, value: string): void {
    // An answer given in the handler's place is not on c until it is handed to Hono.
    const late = this.late;
    if (late !== undefined && !late.handedToHono) late.answer.headers.set(name, value);
    else this.c.header(name, value);
  }

  appendHeader(name: string, value: string): void {
    const late = this.late;
    if (late !== undefined && !late.handedToHono) late.answer.headers.append(name, value);
    else this.c.header(name, value, { append: true });
  }

  respond(response: HttpResponse): void {
    const c = this.c;
    // Keep headers other middleware set, but not over the ones this response sets.
    if (this.holdOpen && this.downstreamReturned) {
      // In place of the held response: its headers are the handler's, not kept.
      this.holdOpen = false;
      c.res = undefined;
      c.res = toWebResponse(response, undefined);
      return;
    }
    this.holdOpen = false;
    const answer = toWebResponse(response, c.res.headers);
    if (!this.exchange.nextCalled) {
      // Reset first: Hono's setter would merge the old headers over the new response.
      c.res = undefined;
      c.res = answer;
      return;
    }
    // In the handler's place: c is left to the handler; finish() hands the answer to Hono.
    this.exchange.noteAnswerInPlace(response, webHeaderMap(answer.headers));
    this.answeredHere = (c as WithLate)[LATE] = new HonoLateResponse(c, answer);
  }

  hookBeforeSend(): void {
    // Fired when the middleware returns (finish).
  }

  startCapture(): void {
    // The bytes are read from c.res when next() resolves.
  }

  hold(): void {
    this.holdOpen = true;
  }

  releaseHeld(): void {
    // c.res holds the handler's response, which Hono sends once the middleware returned.
    this.holdOpen = false;
  }

  proceed(untilHandler: boolean): Promise<HttpResult> {
    const exchange = this.exchange;
    const downstream = this.honoNext();
    if (this.holdOpen) downstream.then(() => (this.downstreamReturned = true), noop);
    // Hono calls the next handler at once: if it was another headroom adapter, that exchange is
    // the innermost now, and it watches the handler.
    const watch = exchange.pendingWatch;
    if (watch !== undefined) {
      const innermost = exchange.innermostHere;
      downstream.then(
        () => {
          if (innermost) watch.settle(this.handlerResult(watch.wantsBody || exchange.capturing));
        },
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return exchange.handlerOutcome();
    return downstream.then(() => this.settle());
  }

  /** The response the handler returned, once its downstream returned. */
  private handlerResult(withBody: boolean): Promise<HttpResult> | HttpResult {
    const late = this.late;
    if (late === undefined) return webResultOf(this.c.finalized ? this.c.res : notFoundResponse(), withBody);
    const response = late.handlerResponse;
    if (response === undefined) {
      return Promise.reject(new Error('headroom: the handler finished after its request was answered in its place, but its response could not be read'));
    }
    return unsentResultOf(response, withBody);
  }

  settle(): Promise<HttpResult> {
    const exchange = this.exchange;
    const clientGone = this.web.clientLeft;
    if (exchange.answeredInPlace) return Promise.resolve(exchange.describe(exchange.inPlaceResult(exchange.capturing), clientGone));
    return sentResult(exchange, this.c.finalized ? this.c.res : notFoundResponse(), clientGone);
  }

  observeHandler(): void {
    // Seen from the downstream promise (proceed).
  }

  ownResult(): HttpResult {
    throw new Error('headroom: the Hono adapter reads the handler response from its downstream');
  }

  get takesErrors(): boolean {
    return true;
  }

  /** Rethrown: Hono's error handling (`app.onError`) answers with it. */
  raise(err: unknown): void {
    this.web.release();
    throw err;
  }

  report(err: unknown): void {
    reportLateError(err);
  }

  /**
   * `c.res` holds the response when the middleware returns, or it returns the answer it gave in
   * the handler's place, which Hono then sets on c (see HonoLateResponse).
   */
  async finish(): Promise<Response | undefined> {
    const exchange = this.exchange;
    const late = this.answeredHere;
    if (late !== undefined) {
      // A handler that stops as soon as its signal aborts returns within this turn of the
      // event loop: its Response is kept before the answer makes the context final.
      await new Promise(setImmediate);
      exchange.fireBeforeSend(late.answer.status);
      this.web.release();
      return late.answer;
    }
    if (exchange.answeredInPlace) {
      // Reading c here would hand the answer over before app.fetch took it.
      exchange.fireBeforeSend(exchange.inPlaceResult(false).status);
    } else {
      if (!this.c.finalized) this.c.res = notFoundResponse();
      exchange.fireBeforeSend(this.c.res.status);
    }
    this.web.release();
    return undefined;
  }
}
