import type { HeaderMap, HttpExchange, HttpResponse, HttpResult, Next, NextOptions } from '../core/index.js';
import { CHAIN_HOOKS, type ChainHooks } from './chain-hooks.js';
import { HandlerWatch } from './handler-watch.js';

/**
 * The exchange each request gets, kept on the request object the adapter registered it under
 * (node `IncomingMessage` or fetch `Request`). Only the first exchange of a request is stored:
 * a second adapter on the same request (two `app.use(toNode(...))`) shares its signal, so
 * `requestSignal(req)` and every middleware see one signal.
 *
 * A symbol-keyed property rather than a WeakMap: the exchange references its request, and a
 * WeakMap entry whose value holds its own key is an ephemeron the garbage collector has to
 * revisit; measured at 10-20 us of GC per request through node:http. The property is invisible
 * to `Object.keys`, `for...in` and `JSON.stringify`. The WeakMap stays as the fallback for a
 * request object that cannot take a property (frozen).
 */
const EXCHANGE: unique symbol = Symbol('headroom.exchange');
const fallback = new WeakMap<object, BaseExchange>();

type Keyed = { [EXCHANGE]?: BaseExchange };

/** The exchange registered for `key`, if an adapter has seen it. */
export function registeredExchange(key: object): BaseExchange | undefined {
  return (key as Keyed)[EXCHANGE] ?? fallback.get(key);
}

function register(key: object, exchange: BaseExchange): void {
  if (Object.isExtensible(key)) (key as Keyed)[EXCHANGE] = exchange;
  else fallback.set(key, exchange);
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
 * What every adapter's exchange shares: the lazily created signal, `onBeforeSend` listeners,
 * the memoised body, the hooks `compose` needs (`startCapture`, `settle`, `watchHandler`,
 * `handlerOutcome`), and the request's lifecycle, kept on its first exchange: which exchange is
 * the innermost (the one whose `next` reaches the framework's handler), the answer given in the
 * handler's place, and the {@link HandlerWatch} of whoever waits for the handler to settle.
 *
 * The hot path allocates the exchange, its `next` function and nothing else: the
 * AbortController exists only once `signal` is read, listener arrays only once someone listens.
 *
 * @internal
 */
export abstract class BaseExchange implements HttpExchange, ChainHooks {
  /** Runs the rest of the chain; handed to the middleware as its `next`. */
  readonly next: Next;
  /** The request's first exchange, when this one is not it: signal and abort go there. */
  protected readonly root: BaseExchange | undefined;
  protected controller: AbortController | undefined = undefined;
  protected beforeSend: Array<(status: number) => void> | undefined = undefined;
  /** `respond()` was called on this exchange. */
  protected respondedHere = false;
  /** The chain reached the framework (this adapter's `next` ran). */
  protected nextCalled = false;
  /** `next({ captureBody: true })` was asked for, by this middleware or one composed in it. */
  protected capturing = false;
  protected nextPromise: Promise<HttpResult> | undefined = undefined;
  private bodyPromise: Promise<unknown> | undefined = undefined;
  /** On the request's first exchange: the problem code of the answer given with `respond()`, by any exchange. */
  private answerCode: string | undefined = undefined;
  /** On the request's first exchange: the answer given in the handler's place, once there is one. */
  private inPlace: AnswerInPlace | undefined = undefined;
  /** On the request's first exchange: the newest exchange of the request (adapters nest in chain order). */
  private innermost: BaseExchange = this;
  /** On the request's first exchange: the wait for the handler, once someone asked for it. */
  private watch: HandlerWatch | undefined = undefined;

  constructor(key: object) {
    const root = registeredExchange(key);
    if (root === undefined) register(key, this);
    else root.innermost = this;
    this.root = root;
    this.next = (options?: NextOptions) => this.nextPromise ?? (this.nextPromise = this.runNext(options));
  }

  /** What `compose` reads to find this exchange's {@link ChainHooks}: the exchange itself. */
  get [CHAIN_HOOKS](): ChainHooks {
    return this;
  }

  abstract readonly method: string;
  abstract readonly path: string;
  abstract readonly url: string;
  abstract readonly route: string | undefined;
  abstract readonly responded: boolean;
  abstract header(name: string): string | undefined;
  abstract setHeader(name: string, value: string): void;
  abstract appendHeader(name: string, value: string): void;
  abstract respond(response: HttpResponse): void;

  /** Runs the framework's downstream handler; resolves as {@link BaseExchange.settle} does. */
  protected abstract runNext(options: NextOptions | undefined): Promise<HttpResult>;
  /** Starts watching for client disconnect; called once, when the signal is first created. */
  protected abstract watchDisconnect(): void;
  /** Whether the client has gone away, found without watching for it. */
  protected abstract clientLeft(): boolean;
  /** Makes `onBeforeSend` listeners fire; called once, on the first `onBeforeSend`. */
  protected abstract installBeforeSend(): void;
  /** Reads the body the first time `body()` is called. */
  protected abstract readBody(): Promise<unknown>;

  /**
   * Resolves with the response once it is done, whoever produced it: after it finished on the
   * wire for node and Fastify, once the downstream chain returned for Koa, Hono and fetch.
   */
  abstract settle(): Promise<HttpResult>;

  /** Records the body bytes the response will carry (for `next({ captureBody: true })`). */
  startCapture(): void {
    this.capturing = true;
  }

  get signal(): AbortSignal {
    if (this.root !== undefined) return this.root.signal;
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      this.watchDisconnect();
    }
    return controller.signal;
  }

  get aborted(): boolean {
    if (this.root !== undefined) return this.root.aborted;
    // abort() creates the controller; a disconnect is read off the request.
    const controller = this.controller;
    return (controller !== undefined && controller.signal.aborted) || this.clientLeft();
  }

  abort(reason: unknown): void {
    if (this.root !== undefined) {
      this.root.abort(reason);
      return;
    }
    const controller = (this.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(reason);
  }

  onBeforeSend(listener: (status: number) => void): void {
    if (this.beforeSend === undefined) {
      this.beforeSend = [listener];
      this.installBeforeSend();
    } else {
      this.beforeSend.push(listener);
    }
  }

  body(): Promise<unknown> {
    return (this.bodyPromise ??= this.readBody());
  }

  /** Records what `respond()` answered with, for every exchange of the request to report. */
  protected noteAnswer(response: HttpResponse): void {
    (this.root ?? this).answerCode = response.code;
  }

  /**
   * Records an answer given while the handler may be running (this exchange had called `next`),
   * as it went out with `headers`: from now on `settle()` reports it, and a watch on the handler
   * knows it has to wait for the handler on its own.
   */
  protected noteAnswerInPlace(response: HttpResponse, headers: HeaderMap): void {
    const top = this.root ?? this;
    top.inPlace = { status: response.status, headers, body: response.body, code: response.code };
    top.watch?.answeredElsewhere();
  }

  /** Whether an answer went out in the handler's place. */
  protected get answeredInPlace(): boolean {
    return (this.root ?? this).inPlace !== undefined;
  }

  /** The answer given in the handler's place, as `next()` reports it (see {@link noteAnswerInPlace}). */
  protected inPlaceResult(capturing: boolean): HttpResult {
    const answer = (this.root ?? this).inPlace!;
    const result: HttpResult = { status: answer.status, headers: answer.headers, code: answer.code };
    if (capturing) {
      const body = answer.body;
      result.body = typeof body === 'string' ? Buffer.from(body) : body instanceof Uint8Array ? body : new Uint8Array(0);
    }
    return result;
  }

  /** Whether this exchange is the request's innermost: the one whose `next` reaches the handler. */
  protected get innermostHere(): boolean {
    return (this.root ?? this).innermost === this;
  }

  /**
   * Starts waiting for the handler to settle (`next({ untilHandlerSettles: true })`): creates the
   * request's watch and lets the adapter install what it needs to see the handler finish. Must
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
    this.observeHandler();
  }

  /**
   * Applies `next()`'s options before the chain goes on: starts capturing the body, and watching
   * the handler when asked. Returns whether the caller waits for the handler
   * (`untilHandlerSettles`) rather than for the answer.
   */
  applyNextOptions(options: NextOptions | undefined): boolean {
    if (options === undefined) return false;
    if (options.captureBody === true) this.startCapture();
    if (options.untilHandlerSettles !== true) return false;
    this.watchHandler(options.captureBody === true);
    return true;
  }

  /** Resolves once the handler settled, with its own response (see {@link watchHandler}). */
  handlerOutcome(): Promise<HttpResult> {
    const top = this.root ?? this;
    if (top.watch === undefined) this.watchHandler(false);
    return top.watch!.promise;
  }

  /** The request's watch on its handler, if someone waits for it and it has not settled yet. */
  protected get pendingWatch(): HandlerWatch | undefined {
    const watch = (this.root ?? this).watch;
    return watch === undefined || watch.settled ? undefined : watch;
  }

  /**
   * The handler's response as this exchange captured it, for a {@link HandlerWatch} this
   * exchange is the body source of. Node-family exchanges, which see the handler end on the
   * response, override it; the others settle their watch from their downstream promise.
   */
  ownResult(): HttpResult {
    throw new Error('headroom: this exchange does not capture the handler response itself');
  }

  /** Installs what this adapter needs to see the handler finish; see {@link watchHandler}. */
  protected observeHandler(): void {
    // Koa, Hono and fetch see it from their downstream promise.
  }

  /**
   * This exchange's middleware finished without calling `next`: when it is the innermost, the
   * request will reach no handler, and whoever waits for one gets the answer instead.
   */
  protected chainEndedWithoutHandler(): void {
    const watch = this.pendingWatch;
    if (watch === undefined || !this.innermostHere) return;
    if (watch.wantsBody) this.startCapture();
    watch.settle(this.settle());
  }

  /** Fills in the outcome fields of a result about to be handed to the middleware. */
  protected describe<T extends HttpResult>(result: T, clientGone: boolean): T {
    const code = (this.root ?? this).answerCode;
    if (code !== undefined) result.code = code;
    if (clientGone) result.clientGone = true;
    return result;
  }

  protected fireBeforeSend(status: number): void {
    const listeners = this.beforeSend;
    if (listeners === undefined) return;
    this.beforeSend = undefined;
    for (const listener of listeners) listener(status);
  }
}

/** The reason the exchange signal carries when the client goes away first. */
export function disconnectReason(): DOMException {
  return new DOMException('headroom: the client closed the connection', 'AbortError');
}
