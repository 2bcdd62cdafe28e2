import { promiseWithSettlers, settlers, type HttpResult, type Settle } from '../core/index.js';

/**
 * How long a handler may go on after its request was answered in its place (a timeout's 504, a
 * client that left) before `next({ untilHandlerSettles: true })` gives up on it: a handler that
 * neither ends its response nor fails by then is taken as gone, so that nothing waits on it
 * for ever.
 */
export const HANDLER_SETTLE_LIMIT_MS = 60_000;

/** What `next({ untilHandlerSettles: true })` rejects with once {@link HANDLER_SETTLE_LIMIT_MS} passed. */
export class HandlerUnsettledError extends Error {
  constructor() {
    super(`headroom: the handler neither ended its response nor failed within ${HANDLER_SETTLE_LIMIT_MS / 1000} s after its request was answered in its place`);
    this.name = 'HandlerUnsettledError';
  }
}

/**
 * One request's wait for its handler to settle, shared by every exchange of the request (see
 * `BaseExchange.watchHandler`). Settled once, by whichever adapter sees the handler finish:
 * the end of its response (node, Fastify, recorded or real), its downstream promise (Koa, Hono,
 * fetch), or the request's chain ending without reaching a handler (then with the answer).
 *
 * @internal
 */
export class HandlerWatch {
  readonly promise: Promise<HttpResult>;
  private readonly resolve: Settle;
  private readonly reject: Settle;
  settled = false;
  /** Someone waiting wants the body of the handler's response too. */
  wantsBody = false;
  /**
   * The exchange that asked for the body: on node its wrappers keep the chunks (or, on Fastify,
   * its onSend hook the payload), so the handler's response is read from it.
   */
  source: { ownResult(): HttpResult } | undefined = undefined;
  private limit: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor() {
    this.promise = promiseWithSettlers<HttpResult>();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
  }

  /** The handler finished with `result` (or a promise of it). */
  settle(result: HttpResult | PromiseLike<HttpResult>): void {
    if (this.settled) return;
    this.finish();
    this.resolve(result);
  }

  /** The handler failed without a response of its own. */
  fail(error: unknown): void {
    if (this.settled) return;
    this.finish();
    this.reject(error);
  }

  /**
   * The request was answered without the handler (in its place, or its client left) while the
   * handler may still run: from now on it has {@link HANDLER_SETTLE_LIMIT_MS} to settle. Only this
   * rare path pays for a timer, unref'd since it only guards the wait.
   */
  answeredElsewhere(): void {
    if (this.settled || this.limit !== undefined) return;
    this.limit = setTimeout(() => this.fail(new HandlerUnsettledError()), HANDLER_SETTLE_LIMIT_MS);
    this.limit.unref();
  }

  private finish(): void {
    this.settled = true;
    if (this.limit !== undefined) {
      clearTimeout(this.limit);
      this.limit = undefined;
    }
  }
}
