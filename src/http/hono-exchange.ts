import type { HttpResponse, HttpResult, Middleware, NextOptions } from '../core/index.js';
import { WebExchange } from './fetch-exchange.js';
import { toWebResponse, webResultOf } from './internal.js';

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
    return this.respondedHere || this.c.finalized;
  }

  setHeader(name: string, value: string): void {
    this.c.header(name, value);
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere) return;
    this.respondedHere = true;
    this.noteAnswer(response);
    const c = this.c;
    // Keep headers other middleware set, but not over the ones this response sets. Reset first:
    // Hono's setter would merge the old headers over the new response.
    const inherited = c.res.headers;
    c.res = undefined;
    c.res = toWebResponse(response, inherited);
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
    if (options?.captureBody === true) this.capturing = true;
    return this.honoNext().then(() => this.settle());
  }

  settle(): Promise<HttpResult> {
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
    if (!this.c.finalized) this.c.res = NOT_FOUND();
    this.fireBeforeSend(this.c.res.status);
    this.release();
  }
}
