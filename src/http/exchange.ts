import type { HeaderMap, HttpExchange, HttpResponse, HttpResult, Middleware, Next, NextOptions } from '../core/index.js';
import { CHAIN_HOOKS, type ChainHooks } from './chain-hooks.js';
import { disconnectReason, register, registered } from './exchange-registry.js';
import { HandlerWatch } from './handler-watch.js';
import { NOT_FOUND } from './internal.js';

/**
 * What one framework contributes to an {@link Exchange}: how it reads the request and its body,
 * writes an answer, goes on down the chain and waits for the response, fires the before-send
 * hook, and what it does with a middleware's error. One driver per request and adapter; the
 * exchange hands itself over as `exchange` before any member is called.
 *
 * `R` is what the adapter returns to its framework (`void`, or the `Response` of fetch and Hono).
 *
 * @internal
 */
export interface ExchangeDriver<R> {
  /** The exchange this driver serves; set by the exchange's constructor. */
  exchange: Exchange<R>;

  // The request.
  /** See {@link HttpExchange.method}. */
  readonly method: string;
  /** See {@link HttpExchange.path}. */
  readonly path: string;
  /** See {@link HttpExchange.url}. */
  readonly url: string;
  /** See {@link HttpExchange.route}. */
  readonly route: string | undefined;
  /** See {@link HttpExchange.header}. */
  header(name: string): string | undefined;
  /** Reads the body the first time `body()` is called (the exchange keeps the promise). */
  readBody(): Promise<unknown>;
  /** Whether the client has gone away, found without watching for it. */
  readonly clientLeft: boolean;
  /** Starts watching for a client disconnect (then calls `exchange.disconnected()`); called once. */
  watchDisconnect(): void;

  // The response.
  /** A response has been handed to the framework or started on the wire (`exchange.responded`). */
  readonly answered: boolean;
  /** Too late to answer: the head is on the wire (`respond()` is then a no-op). */
  readonly headSent: boolean;
  /** See {@link HttpExchange.setHeader}. */
  setHeader(name: string, value: string): void;
  /** See {@link HttpExchange.appendHeader}. */
  appendHeader(name: string, value: string): void;
  /** Writes a middleware's answer: instead of the handler, or in its place once `next` ran. */
  respond(response: HttpResponse): void;
  /** Makes `onBeforeSend` listeners fire (through `exchange.fireBeforeSend`); called once. */
  hookBeforeSend(): void;
  /** Starts recording the body the response will carry; called once, when capture is first asked. */
  startCapture(): void;
  /**
   * Records the handler's response instead of sending it (`next({ holdResponse: true })`);
   * called once, before the handler runs. While held, `answered` and `headSent` are false and
   * `respond()` answers in its place; the watch on the handler settles with what it recorded.
   */
  hold(): void;
  /** Sends the held response as recorded, unless an answer was given; once the handler ended, if it has not yet. */
  releaseHeld(): void;

  // Going on and waiting.
  /** Runs the framework's downstream handler; resolves as {@link ExchangeDriver.settle} or, when `untilHandler`, with `exchange.handlerOutcome()`. */
  proceed(untilHandler: boolean): Promise<HttpResult>;
  /** Resolves with the response once it is done, whoever produced it. */
  settle(): Promise<HttpResult>;
  /** Installs what the driver needs to see the handler finish (`next({ untilHandlerSettles })`). */
  observeHandler(): void;
  /** The handler's response as this driver recorded it, when it records it itself (node, Fastify). */
  ownResult(): HttpResult;

  // Errors and the end.
  /**
   * Whether the framework can still take a middleware's error and answer with it (the exchange
   * checked no answer was given): before the handler took over the response on node and
   * Fastify, always on Koa, Hono and fetch, whose response is written after the chain returns.
   */
  readonly takesErrors: boolean;
  /** Hands a middleware's error to the framework: `next(err)`, a hook's `done(err)`, or a rethrow. */
  raise(err: unknown): void;
  /** Reports a middleware's error that came too late for the framework (logged, dropped). */
  report(err: unknown): void;
  /** What the adapter hands back to its framework once the middleware returned. */
  finish(): R | Promise<R>;
}

/** The exchange registered for `key` (see exchange-registry.ts), if an adapter has seen it. */
export function registeredExchange(key: object): Exchange<unknown> | undefined {
  return registered<Exchange<unknown>>(key);
}

/** An answer a middleware gave with `respond()` while the handler may have been running, as it went out. */
interface AnswerInPlace {
  readonly status: number;
  readonly headers: HeaderMap;
  /** The body as given to `respond()`; a stream's bytes are not kept. */
  readonly body: string | Uint8Array | ReadableStream<Uint8Array> | undefined;
  readonly code: string | undefined;
}

/**
 * The one {@link HttpExchange} of every adapter: the lazily created signal, `onBeforeSend`
 * listeners, the memoised body, the error policy, the 404 of a chain that reaches no handler,
 * the hooks `compose` needs ({@link ChainHooks}), and the request's lifecycle, kept on its first
 * exchange: which exchange is the innermost (the one whose `next` reaches the framework's
 * handler), the answer given in the handler's place, and the {@link HandlerWatch} of whoever
 * waits for the handler to settle. What differs between frameworks is its {@link ExchangeDriver}.
 *
 * The hot path allocates the exchange, its driver, its `next` function and nothing else: the
 * AbortController exists only once `signal` is read, listener arrays only once someone listens.
 *
 * Members not in {@link HttpExchange} are for drivers and `compose`.
 *
 * @internal
 */
export class Exchange<R> implements HttpExchange, ChainHooks {
  /** Runs the rest of the chain; handed to the middleware as its `next`. */
  readonly next: Next;
  /** The request's first exchange, when this one is not it: signal, abort and lifecycle go there. */
  readonly root: Exchange<unknown> | undefined;
  /** `respond()` was called on this exchange. */
  respondedHere = false;
  /** The chain reached the framework (this adapter's `next` ran). */
  nextCalled = false;
  /** `next({ captureBody: true })` was asked for, by this middleware or one composed in it. */
  capturing = false;
  /** `next({ holdResponse: true })` was asked for: the handler's response is held (see {@link releaseHeld}). */
  holding = false;
  private controller: AbortController | undefined = undefined;
  private beforeSend: Array<(status: number) => void> | undefined = undefined;
  private nextPromise: Promise<HttpResult> | undefined = undefined;
  private bodyPromise: Promise<unknown> | undefined = undefined;
  /** On the request's first exchange: the problem code of the answer given with `respond()`, by any exchange. */
  private answerCode: string | undefined = undefined;
  /** On the request's first exchange: the answer given in the handler's place, once there is one. */
  private inPlace: AnswerInPlace | undefined = undefined;
  /** On the request's first exchange: the newest exchange of the request (adapters nest in chain order). */
  private innermost: Exchange<unknown> = this;
  /** On the request's first exchange: the wait for the handler, once someone asked for it. */
  private watch: HandlerWatch | undefined = undefined;

  constructor(
    key: object,
    readonly driver: ExchangeDriver<R>,
  ) {
    const root = registeredExchange(key);
    if (root === undefined) register(key, this);
    else root.innermost = this;
    this.root = root;
    driver.exchange = this;
    this.next = (options?: NextOptions) => this.nextPromise ?? (this.nextPromise = this.runNext(options));
  }

  /** What `compose` reads to find this exchange's {@link ChainHooks}: the exchange itself. */
  get [CHAIN_HOOKS](): ChainHooks {
    return this;
  }

  get method(): string {
    return this.driver.method;
  }

  get path(): string {
    return this.driver.path;
  }

  get url(): string {
    return this.driver.url;
  }

  get route(): string | undefined {
    return this.driver.route;
  }

  get responded(): boolean {
    return this.respondedHere || this.answeredInPlace || this.driver.answered;
  }

  header(name: string): string | undefined {
    return this.driver.header(name);
  }

  setHeader(name: string, value: string): void {
    this.driver.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.driver.appendHeader(name, value);
  }

  body(): Promise<unknown> {
    return (this.bodyPromise ??= this.driver.readBody());
  }

  get signal(): AbortSignal {
    if (this.root !== undefined) return this.root.signal;
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      this.driver.watchDisconnect();
    }
    return controller.signal;
  }

  get aborted(): boolean {
    if (this.root !== undefined) return this.root.aborted;
    // abort() creates the controller; a disconnect is read off the request.
    const controller = this.controller;
    return (controller !== undefined && controller.signal.aborted) || this.driver.clientLeft;
  }

  abort(reason: unknown): void {
    if (this.root !== undefined) {
      this.root.abort(reason);
      return;
    }
    const controller = (this.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(reason);
  }

  /** The client went away: aborts the signal, if it exists, with {@link disconnectReason}. */
  disconnected(): void {
    const controller = this.controller;
    if (controller !== undefined && !controller.signal.aborted) controller.abort(disconnectReason());
  }

  onBeforeSend(listener: (status: number) => void): void {
    if (this.beforeSend === undefined) {
      this.beforeSend = [listener];
      this.driver.hookBeforeSend();
    } else {
      this.beforeSend.push(listener);
    }
  }

  /** Calls the `onBeforeSend` listeners, once. */
  fireBeforeSend(status: number): void {
    const listeners = this.beforeSend;
    if (listeners === undefined) return;
    this.beforeSend = undefined;
    for (const listener of listeners) listener(status);
  }

  respond(response: HttpResponse): void {
    if (this.respondedHere || this.answeredInPlace || this.driver.headSent) return;
    this.respondedHere = true;
    (this.root ?? this).answerCode = response.code;
    this.driver.respond(response);
  }

  /**
   * Runs `middleware` on this exchange and returns what the adapter hands back to its
   * framework. The error policy of every adapter is here: an error the middleware throws goes
   * to the framework ({@link ExchangeDriver.raise}) while no answer was given and the framework
   * can still answer with it, and is reported and dropped otherwise. A middleware that returns
   * without calling `next()` or answering gets the 404 ({@link NOT_FOUND}).
   */
  async run(middleware: Middleware): Promise<R> {
    try {
      await middleware(this, this.next);
    } catch (err) {
      const driver = this.driver;
      if (!this.respondedHere && !this.answeredInPlace && driver.takesErrors) {
        driver.raise(err);
        return undefined as R;
      }
      driver.report(err);
    }
    if (this.holding) this.releaseHeld();
    if (!this.nextCalled) {
      if (!this.responded) this.respond(NOT_FOUND);
      this.chainEndedWithoutHandler();
    }
    return this.driver.finish();
  }

  private runNext(options: NextOptions | undefined): Promise<HttpResult> {
    this.nextCalled = true;
    return this.driver.proceed(this.applyNextOptions(options));
  }

  settle(): Promise<HttpResult> {
    return this.driver.settle();
  }

  /** Records the body bytes the response will carry (for `next({ captureBody: true })`). */
  startCapture(): void {
    if (this.capturing) return;
    this.capturing = true;
    this.driver.startCapture();
  }

  /**
   * Applies `next()`'s options before the chain goes on: starts capturing the body, holding the
   * response and watching the handler when asked. Returns whether the caller waits for the
   * handler (`untilHandlerSettles`, `holdResponse`) rather than for the answer.
   */
  applyNextOptions(options: NextOptions | undefined): boolean {
    if (options === undefined) return false;
    const hold = options.holdResponse === true;
    const capture = hold || options.captureBody === true;
    if (capture) this.startCapture();
    if (!hold && options.untilHandlerSettles !== true) return false;
    this.watchHandler(capture);
    if (hold && !this.holding) {
      this.holding = true;
      this.driver.hold();
    }
    return true;
  }

  /**
   * The middleware that held the handler's response returned (see `NextOptions.holdResponse`):
   * unless it answered, or an answer went out in the handler's place, the held response is sent
   * as recorded (at once, or when the handler ends its response).
   */
  releaseHeld(): void {
    if (!this.holding) return;
    this.holding = false;
    if (!this.respondedHere && !this.answeredInPlace) this.driver.releaseHeld();
  }

  /**
   * Starts waiting for the handler to settle (`next({ untilHandlerSettles: true })`): creates the
   * request's watch and lets the driver install what it needs to see the handler finish. Must
   * run before the handler does.
   */
  watchHandler(withBody: boolean): void {
    const top = this.root ?? this;
    let watch = top.watch;
    if (watch === undefined) {
      watch = top.watch = new HandlerWatch();
      if (top.inPlace !== undefined) watch.answeredElsewhere();
    }
    if (withBody) {
      watch.wantsBody = true;
      watch.source ??= this;
    }
    this.driver.observeHandler();
  }

  /** Resolves once the handler settled, with its own response (see {@link watchHandler}). */
  handlerOutcome(): Promise<HttpResult> {
    const top = this.root ?? this;
    if (top.watch === undefined) this.watchHandler(false);
    return top.watch!.promise;
  }

  /** The request's watch on its handler, if someone waits for it and it has not settled yet. */
  get pendingWatch(): HandlerWatch | undefined {
    const watch = (this.root ?? this).watch;
    return watch === undefined || watch.settled ? undefined : watch;
  }

  /** The handler's response as this exchange's driver recorded it (a {@link HandlerWatch} source). */
  ownResult(): HttpResult {
    return this.driver.ownResult();
  }

  /**
   * Records an answer given while the handler may be running (this exchange had called `next`),
   * as it went out with `headers`: from now on `settle()` reports it, and a watch on the handler
   * knows it has to wait for the handler on its own.
   */
  noteAnswerInPlace(response: HttpResponse, headers: HeaderMap): void {
    const top = this.root ?? this;
    top.inPlace = { status: response.status, headers, body: response.body, code: response.code };
    top.watch?.answeredElsewhere();
  }

  /** Whether an answer went out in the handler's place. */
  get answeredInPlace(): boolean {
    return (this.root ?? this).inPlace !== undefined;
  }

  /** The answer given in the handler's place, as `next()` reports it (see {@link noteAnswerInPlace}). */
  inPlaceResult(capturing: boolean): HttpResult {
    const answer = (this.root ?? this).inPlace!;
    const result: HttpResult = { status: answer.status, headers: answer.headers, code: answer.code };
    if (capturing) {
      const body = answer.body;
      result.body = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : new Uint8Array(0);
    }
    return result;
  }

  /** Whether this exchange is the request's innermost: the one whose `next` reaches the handler. */
  get innermostHere(): boolean {
    return (this.root ?? this).innermost === (this as Exchange<unknown>);
  }

  /**
   * This exchange's middleware finished without calling `next`: when it is the innermost, the
   * request will reach no handler, and whoever waits for one gets the answer instead.
   */
  private chainEndedWithoutHandler(): void {
    const watch = this.pendingWatch;
    if (watch === undefined || !this.innermostHere) return;
    if (watch.wantsBody) this.startCapture();
    watch.settle(this.settle());
  }

  /** Fills in the outcome fields of a result about to be handed to the middleware. */
  describe<T extends HttpResult>(result: T, clientGone: boolean): T {
    const code = (this.root ?? this).answerCode;
    if (code !== undefined) result.code = code;
    if (clientGone) result.clientGone = true;
    return result;
  }
}
