import { functionArgument, type HttpExchange, type HttpResult, type Middleware, type Next, type NextOptions } from '../core/index.js';
import { chainHooksOf } from './chain-hooks.js';

const passThrough: Middleware = async (_exchange, next) => {
  await next();
};

/** One run of a composed chain over one exchange. */
class Chain {
  private capture = false;
  /** The index of the middleware that asked to hold the handler's response, if one did. */
  private heldBy = -1;
  private reached: Promise<HttpResult> | undefined = undefined;

  constructor(
    private readonly middlewares: readonly Middleware[],
    private readonly exchange: HttpExchange,
    private readonly last: Next,
  ) {}

  async dispatch(index: number): Promise<void> {
    const next: Next = index + 1 === this.middlewares.length ? (options) => this.reach(options) : (options) => this.step(index + 1, options);
    await this.middlewares[index]!(this.exchange, next);
    // The middleware that held the handler's response returned: what it did not answer goes out
    // now, before the middlewares further out wait for the response to be sent.
    if (this.heldBy === index) chainHooksOf(this.exchange)?.releaseHeld();
  }

  private step(index: number, options: NextOptions | undefined): Promise<HttpResult> {
    if (options?.captureBody === true || options?.holdResponse === true) this.capture = true;
    if (options?.holdResponse === true) this.heldBy = index - 1;
    const hooks = chainHooksOf(this.exchange);
    // Watched from before the rest of the chain runs, so that the handler's end is seen.
    const untilHandler = hooks !== undefined && hooks.applyNextOptions(options);
    return this.dispatch(index).then(() => this.outcome(untilHandler));
  }

  private reach(options: NextOptions | undefined): Promise<HttpResult> {
    if (options?.holdResponse === true) this.heldBy = this.middlewares.length - 1;
    if (this.capture && options?.captureBody !== true) options = { ...options, captureBody: true };
    return (this.reached ??= this.last(options));
  }

  private outcome(untilHandler: boolean): Promise<HttpResult> {
    const hooks = chainHooksOf(this.exchange);
    if (hooks !== undefined) {
      // The handler's own outcome, when it was reached; else the answer of whoever gave it.
      if (untilHandler && this.reached !== undefined) return hooks.handlerOutcome();
      // An adapter's exchange knows the response whoever wrote it (a 504 from a timeout included).
      return hooks.settle();
    }
    return this.reached ?? Promise.resolve({ status: 0, headers: {} });
  }
}

/**
 * Composes middlewares into one, run in order: the first is outermost. Each one's `next()`
 * runs the ones after it, and resolves, like the adapter's own `next()`, with the response as
 * finally sent, whichever middleware or handler produced it.
 *
 * @param middlewares - the middlewares, outermost first.
 * @example
 * ```ts
 * const guard = compose(timeout('2s'), shed(queue));
 * app.use(toNode(guard));
 * ```
 */
export function compose(...middlewares: Middleware[]): Middleware {
  middlewares.forEach((middleware, index) => functionArgument(middleware, `middlewares[${index}]`));
  const list = middlewares.slice();
  if (list.length === 0) return passThrough;
  if (list.length === 1) return list[0]!;
  return function composed(exchange, next) {
    return new Chain(list, exchange, next).dispatch(0);
  };
}
