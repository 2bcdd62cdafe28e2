import type { HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { WebExchange } from './fetch-exchange.js';
import { toWebResponse, unsentResultOf, webHeaderMap, webResultOf } from './internal.js';

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
  /** Sets a response header. */
  header(name: string, value: string): void;
}

const NOT_FOUND = (): Response => new Response('404 Not Found', { status: 404, headers: { 'content-type': 'text/plain; charset=UTF-8' } });

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
    this.c.header(name, value);
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    const c = this.c;
    // Keep headers other middleware set, but not over the ones this response sets. Reset first:
    // Hono's setter would merge the old headers over the new response.
    const inherited = c.res.headers;
    c.res = undefined;
    const answer = toWebResponse(response, inherited);
    c.res = answer;
    if (this.nextCalled) {
      this.noteAnswerInPlace(response, webHeaderMap(answer.headers));
      ((this.root as HonoExchange | undefined) ?? this).late = new HonoLateResponse(c);
    }
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
    let untilHandler = false;
    if (options !== undefined) {
      if (options.captureBody === true) this.capturing = true;
      if (options.untilHandlerSettles === true) {
        untilHandler = true;
        this.watchHandler(options.captureBody === true);
      }
    }
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
    const late = ((this.root as HonoExchange | undefined) ?? this).late;
    if (late === undefined) return webResultOf(this.c.finalized ? this.c.res : NOT_FOUND(), withBody);
    const response = late.handlerResponse;
    if (response === undefined) {
      return Promise.reject(new Error('headroom: the handler finished after its request was answered in its place, but its response could not be read'));
    }
    return unsentResultOf(response, withBody);
  }

  settle(): Promise<HttpResult> {
    if (this.answeredInPlace) return Promise.resolve(this.describe(this.inPlaceResult(this.capturing), this.request.signal.aborted));
    return webResultOf(this.c.finalized ? this.c.res : NOT_FOUND(), this.capturing).then((result) => this.describe(result, this.request.signal.aborted));
  }

  /** Runs the middleware; `c.res` holds the response when it returns. */
  async run(middleware: Middleware): Promise<void> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      if (!this.respondedHere) {
        this.release();
        throw err;
      }
    }
    if (!this.nextCalled) this.chainEndedWithoutHandler();
    if (this.answeredInPlace) {
      // Leave c alone: its reads hand the answer over to Hono (see HonoLateResponse).
      this.fireBeforeSend(this.inPlaceResult(false).status);
    } else {
      if (!this.c.finalized) this.c.res = NOT_FOUND();
      this.fireBeforeSend(this.c.res.status);
    }
    this.release();
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
 * the handler returns instead of dropping it. So the flag reads set until `app.fetch` has taken
 * the answer (it reads `finalized`, then `res`, right after the chain returned), and clear from
 * then on; the handler's `Response`, assigned to `c.res` by its frame, is kept here instead of
 * replacing the answer. The context's response is emptied at the hand-over, so that the handler
 * builds its `Response` from its own headers rather than the answer's.
 *
 * @internal
 */
class HonoLateResponse {
  /** What the handler returned, once it did. */
  handlerResponse: Response | undefined = undefined;
  private handedOver = false;
  private finalizedJustRead = false;

  constructor(c: HonoContextLike) {
    const res = resAccessorOf(c);
    const late = this;
    Object.defineProperty(c, 'finalized', {
      get: () => {
        if (late.handedOver) return late.handlerResponse !== undefined;
        late.finalizedJustRead = true;
        return true;
      },
      set: noop,
      configurable: true,
      enumerable: true,
    });
    Object.defineProperty(c, 'res', {
      get(this: HonoContextLike) {
        const current = res.get.call(this);
        if (late.finalizedJustRead && !late.handedOver) {
          late.handedOver = true;
          res.set.call(this, undefined);
        }
        late.finalizedJustRead = false;
        return current;
      },
      set(this: HonoContextLike, value: Response | undefined) {
        if (late.handedOver) {
          if (value !== undefined && late.handlerResponse === undefined) late.handlerResponse = value;
          return;
        }
        res.set.call(this, value);
      },
      configurable: true,
    });
  }
}

function noop(): void {}
