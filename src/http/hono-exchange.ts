import type { HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { WebExchange } from './fetch-exchange.js';
import { NOT_FOUND, toWebResponse, unsentResultOf, webHeaderMap, webResultOf } from './internal.js';

/** The parts of a Hono context the adapter uses. */
export interface HonoContextLike {
  /** Hono's request. */
  req: {
    /** The fetch Request. */
    raw: Request;
    /** The request path. */
    path: string;
    /** Index of the handler being dispatched among the matched routes. */
    routeIndex: number;
    /** The path pattern of the handler at `routeIndex`. */
    readonly routePath: string;
    /** Bodies Hono already read (`json`, `text`, `arrayBuffer`, ...), as promises. */
    bodyCache: object;
    /** The body as bytes, through Hono's cache. */
    arrayBuffer(): Promise<ArrayBuffer>;
  };
  /** The response. */
  get res(): Response;
  /** Sets the response and finalizes the context. */
  set res(response: Response | undefined);
  /** Whether a response was set. */
  finalized: boolean;
  /** Sets a response header, or adds to it with `{ append: true }`. */
  header(name: string, value: string, options?: { append?: boolean }): void;
}

const notFound = (): Response => toWebResponse(NOT_FOUND, undefined);

/**
 * Hono's exchange: the middleware runs inside Hono's own chain; `next()` resolves once the
 * downstream handlers returned (Hono has turned their errors into responses by then), with
 * `c.res`; `respond()` sets `c.res`.
 *
 * @internal
 */
export class HonoExchange extends WebExchange {
  private readonly entryIndex: number;
  private matched: string | undefined = undefined;
  /** On the request's first exchange, after an answer in the handler's place: the handler's side of c. */
  private late: HonoLateResponse | undefined = undefined;
  /** The answer in the handler's place that this exchange gave, which its run() hands to Hono. */
  private answeredHere: HonoLateResponse | undefined = undefined;

  constructor(
    private readonly c: HonoContextLike,
    private readonly honoNext: () => Promise<void>,
  ) {
    super(c.req.raw);
    this.entryIndex = c.req.routeIndex;
  }

  get path(): string {
    return this.c.req.path;
  }

  get route(): string | undefined {
    if (this.matched !== undefined) return this.matched;
    // Hono leaves routeIndex on the last handler it dispatched; until next() ran, or when no
    // handler matched, that is this middleware's own pattern.
    if (!this.nextCalled || this.c.req.routeIndex === this.entryIndex) return undefined;
    return (this.matched = this.c.req.routePath);
  }

  get responded(): boolean {
    return this.respondedHere || this.answeredInPlace || this.c.finalized;
  }

  setHeader(name: string, value: string): void {
    // An answer given in the handler's place is not on c until it is handed to Hono.
    const late = this.lateResponse;
    if (late !== undefined && !late.handedToHono) late.answer.headers.set(name, value);
    else this.c.header(name, value);
  }

  appendHeader(name: string, value: string): void {
    const late = this.lateResponse;
    if (late !== undefined && !late.handedToHono) late.answer.headers.append(name, value);
    else this.c.header(name, value, { append: true });
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    const c = this.c;
    // Keep headers other middleware set, but not over the ones this response sets.
    const answer = toWebResponse(response, c.res.headers);
    if (!this.nextCalled) {
      // Reset first: Hono's setter would merge the old headers over the new response.
      c.res = undefined;
      c.res = answer;
      return;
    }
    // In the handler's place: c is left to the handler; run() hands the answer to Hono.
    this.noteAnswerInPlace(response, webHeaderMap(answer.headers));
    this.answeredHere = ((this.root as HonoExchange | undefined) ?? this).late = new HonoLateResponse(c, answer);
  }

  /** The request's answer in the handler's place, if there is one. */
  private get lateResponse(): HonoLateResponse | undefined {
    return ((this.root as HonoExchange | undefined) ?? this).late;
  }

  protected override readBody(): Promise<unknown> {
    const cache = this.c.req.bodyCache as Record<string, Promise<unknown> | undefined>;
    if (cache.json !== undefined) return cache.json;
    if (cache.text !== undefined) return cache.text;
    if (cache.formData !== undefined) return cache.formData;
    if (cache.arrayBuffer !== undefined || cache.blob !== undefined) {
      return this.c.req.arrayBuffer().then((buffer) => (buffer.byteLength === 0 ? undefined : new Uint8Array(buffer)));
    }
    return super.readBody();
  }

  protected runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    const untilHandler = this.applyNextOptions(options);
    const downstream = this.honoNext();
    // Hono calls the next handler at once: if it was another headroom adapter, that exchange is
    // the innermost now, and it watches the handler.
    const watch = this.pendingWatch;
    if (watch !== undefined) {
      const innermost = this.innermostHere;
      downstream.then(
        () => {
          if (innermost) watch.settle(this.handlerResult(watch.wantsBody || this.capturing));
        },
        (err: unknown) => watch.fail(err),
      );
    }
    if (untilHandler) return this.handlerOutcome();
    return downstream.then(() => this.settle());
  }

  /** The response the handler returned, once its downstream returned. */
  private handlerResult(withBody: boolean): Promise<HttpResult> | HttpResult {
    const late = this.lateResponse;
    if (late === undefined) return webResultOf(this.c.finalized ? this.c.res : notFound(), withBody);
    const response = late.handlerResponse;
    if (response === undefined) {
      return Promise.reject(new Error('headroom: the handler finished after its request was answered in its place, but its response could not be read'));
    }
    return unsentResultOf(response, withBody);
  }

  settle(): Promise<HttpResult> {
    if (this.answeredInPlace) return Promise.resolve(this.describe(this.inPlaceResult(this.capturing), this.request.signal.aborted));
    return this.sentResult(this.c.finalized ? this.c.res : notFound(), this.capturing);
  }

  /**
   * Runs the middleware; `c.res` holds the response when it returns, or it returns the answer
   * it gave in the handler's place, which Hono then sets on c (see HonoLateResponse).
   */
  async run(middleware: Middleware): Promise<Response | undefined> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      if (!this.respondedHere) {
        this.release();
        throw err;
      }
    }
    if (!this.nextCalled) this.chainEndedWithoutHandler();
    const late = this.answeredHere;
    if (late !== undefined) {
      // A handler that stops as soon as its signal aborts returns within this turn of the
      // event loop: its Response is kept before the answer makes the context final.
      await new Promise(setImmediate);
      this.fireBeforeSend(late.answer.status);
      this.release();
      return late.answer;
    }
    if (this.answeredInPlace) {
      // Reading c here would hand the answer over before app.fetch took it.
      this.fireBeforeSend(this.inPlaceResult(false).status);
    } else {
      if (!this.c.finalized) this.c.res = notFound();
      this.fireBeforeSend(this.c.res.status);
    }
    this.release();
    return undefined;
  }
}

type ResAccessor = { get(this: HonoContextLike): Response; set(this: HonoContextLike, value: Response | undefined): void };

function resAccessorOf(c: HonoContextLike): ResAccessor {
  for (let proto: object | null = Object.getPrototypeOf(c) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(proto, 'res');
    if (descriptor?.get !== undefined && descriptor.set !== undefined) return descriptor as ResAccessor;
  }
  throw new Error('headroom: this Hono context has no res accessor');
}

/**
 * The handler's side of a Hono context after a middleware answered in its place (a timeout).
 *
 * Hono keeps one context per request and one `finalized` flag on it: `app.fetch` needs it set
 * to take the answer, and the handler's dispatch frame needs it clear to keep the `Response`
 * the handler returns instead of dropping it. So the context goes through three states:
 *
 * 1. `pending`: the answer is given but not on c yet. `finalized` reads clear, so a handler
 *    that returns now (one that stops as soon as its signal aborts) has its `Response` kept
 *    here; the exchange that answered returns the answer from its middleware a turn later.
 * 2. `final`: Hono set the answer on c (`finalized` reads set) for `app.fetch` to take. It
 *    reads `finalized`, then `res`, right after the chain returned: that read hands over.
 * 3. `handed-over`: `finalized` reads clear again until the handler's `Response` is kept, and c's
 *    response is emptied, so that the handler builds its `Response` from its own headers
 *    rather than the answer's.
 *
 * @internal
 */
class HonoLateResponse {
  /** What the handler returned, once it did. */
  handlerResponse: Response | undefined = undefined;
  private state: 'pending' | 'final' | 'handed-over' = 'pending';
  private finalizedJustRead = false;

  constructor(
    c: HonoContextLike,
    /** The answer given in the handler's place. */
    readonly answer: Response,
  ) {
    const res = resAccessorOf(c);
    const late = this;
    Object.defineProperty(c, 'finalized', {
      get: () => {
        if (late.state === 'final') {
          late.finalizedJustRead = true;
          return true;
        }
        // Pending: clear, for the answer to be set as well as for the handler's frame.
        return late.state === 'handed-over' && late.handlerResponse !== undefined;
      },
      set: noop,
      configurable: true,
      enumerable: true,
    });
    Object.defineProperty(c, 'res', {
      get(this: HonoContextLike) {
        const current = res.get.call(this);
        if (late.state === 'final' && late.finalizedJustRead) {
          late.state = 'handed-over';
          res.set.call(this, undefined);
        }
        late.finalizedJustRead = false;
        return current;
      },
      set(this: HonoContextLike, value: Response | undefined) {
        if (late.state === 'pending' && value === late.answer) {
          // Reset first: Hono's setter would merge the old headers over the answer.
          res.set.call(this, undefined);
          res.set.call(this, value);
          late.state = 'final';
        } else if (late.state === 'final') {
          res.set.call(this, value); // a middleware further out replacing the answer
        } else if (value !== undefined && late.handlerResponse === undefined) {
          late.handlerResponse = value;
        }
      },
      configurable: true,
    });
  }

  /** Whether Hono has the answer on c (the exchange's headers go there from then on). */
  get handedToHono(): boolean {
    return this.state !== 'pending';
  }
}

function noop(): void {}
