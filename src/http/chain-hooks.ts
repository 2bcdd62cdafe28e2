import type { HttpExchange, HttpResult, NextOptions } from '../core/index.js';

/**
 * What `compose` needs of an exchange an adapter made, so that each step of a composed chain
 * gets what the adapter's own `next()` gives: the answer as sent, or the handler's own outcome.
 * An exchange from elsewhere (a test's, another library's) has none; `compose` then resolves
 * each step with whatever the end of the chain resolved with.
 *
 * @internal
 */
export interface ChainHooks {
  /** Applies `next()`'s options before the rest of the chain runs; true when the caller waits for the handler. */
  applyNextOptions(options: NextOptions | undefined): boolean;
  /** Resolves once the handler settled, with its own response. */
  handlerOutcome(): Promise<HttpResult>;
  /** Resolves with the response once it is done, whoever produced it. */
  settle(): Promise<HttpResult>;
  /**
   * The middleware that asked for `next({ holdResponse: true })` returned: sends the held
   * response unless an answer was given (see `NextOptions.holdResponse`).
   */
  releaseHeld(): void;
}

/**
 * The key an adapter's exchange answers with its {@link ChainHooks}. A registered symbol, so
 * that it is the same key in every copy of the package a process loads (ESM and CommonJS).
 *
 * @internal
 */
export const CHAIN_HOOKS: unique symbol = Symbol.for('headroom.http.chainHooks');

/** The {@link ChainHooks} of `exchange`, when an adapter made it. */
export function chainHooksOf(exchange: HttpExchange): ChainHooks | undefined {
  return (exchange as { [CHAIN_HOOKS]?: ChainHooks })[CHAIN_HOOKS];
}
