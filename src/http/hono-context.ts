import { noop } from './internal.js';

// What the Hono adapter knows of Hono's context: its shape, and the states it goes through
// after an answer in the handler's place.

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
export class HonoLateResponse {
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
