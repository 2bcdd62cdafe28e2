import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HttpResponse, HttpResult } from '../core/index.js';
import type { Exchange } from './exchange.js';
import { NodeResult, headerText, nodeClientGone, nodeHeaderMap, writeNodeResponse } from './node-io.js';
import {
  BodyRecorder,
  LateResponse,
  heldResponse,
  holdResponse,
  observeHead,
  observeWrites,
  startRecording,
  watchClose,
  writeAsAnswer,
  type CloseWatcher,
  type HeadObserver,
  type WriteObserver,
} from './node-response.js';

const EMPTY: Uint8Array = Buffer.alloc(0);

/** The driver a {@link ResponseTap} works for: its exchange, and how it reads the handler's response. */
export interface TapOwner {
  readonly exchange: Exchange<unknown>;
  /** The response the handler produced, as it stands (status, headers, captured body). */
  handlerResult(): HttpResult;
}

/**
 * One exchange's hold on a node `ServerResponse`, shared by the node, Koa and Fastify drivers:
 * `settle()` resolves on the response's `close` (which also tells a client disconnect from a
 * finished response), the signal aborts on disconnect, `onBeforeSend` and `appendHeader` go
 * through the head, the body is recorded when asked, and a handler's end settles whoever waits
 * for it. The wrappers themselves are in node-response.ts.
 *
 * Hot path (measured with bench/http.ts and bench/idempotency.ts): per request the tap, the
 * settle promise and nothing on the response but the shared `close` listener; capturing adds
 * three small wrappers on the response and no copy for a body sent in one call.
 *
 * @internal
 */
export class ResponseTap implements CloseWatcher, WriteObserver, HeadObserver {
  nextCloseWatcher: CloseWatcher | undefined = undefined;
  /** Where the handler's chunks go once someone asked for the body (see {@link keepBody}). */
  recorder: BodyRecorder | undefined = undefined;
  /** Values added with `appendHeader`, by lower-case name, merged into the handler's `writeHead` headers. */
  appended: Map<string, string> | undefined = undefined;
  private closeWatched = false;
  private settleResolve: ((result: HttpResult) => void) | undefined = undefined;
  private settlePromise: Promise<HttpResult> | undefined = undefined;
  private headHooked = false;
  /** The recording holding the handler's response (`holdResponse`), until it is sent or answered. */
  private held: LateResponse | undefined = undefined;
  /** The held response goes out as recorded once the handler ends it (see {@link releaseHeld}). */
  private sendWhenEnded = false;
  private writesWrapped = false;
  /** Headers given to `writeHead(status, headers)`: node keeps them out of `getHeaders()`. */
  private givenHead: OutgoingHttpHeaders | readonly unknown[] | undefined = undefined;

  constructor(
    readonly res: ServerResponse,
    private readonly owner: TapOwner,
  ) {}

  /** Whether the client went away before the response finished. */
  get clientGone(): boolean {
    return nodeClientGone(this.res);
  }

  /** Resolves with the response as it went out, once it closed. */
  settle(): Promise<HttpResult> {
    if (this.settlePromise !== undefined) return this.settlePromise;
    if (this.res.closed) return (this.settlePromise = Promise.resolve(this.result()));
    this.watchClose();
    return (this.settlePromise = new Promise<HttpResult>((resolve) => {
      this.settleResolve = resolve;
    }));
  }

  /** The response as it went out: `next()`'s result. */
  result(): HttpResult {
    const exchange = this.owner.exchange;
    const result = exchange.answeredInPlace ? exchange.inPlaceResult(exchange.capturing) : this.owner.handlerResult();
    return exchange.describe(result, this.clientGone);
  }

  /** The handler's response as recorded: status and headers of the response, the body when kept. */
  recordedResult(): HttpResult {
    const body = this.owner.exchange.capturing ? (this.recorder?.body() ?? EMPTY) : undefined;
    return new NodeResult(this.res, this.res.statusCode, body, this.givenHead);
  }

  /** Starts keeping the body the handler writes, and the header argument of its head. */
  keepBody(): void {
    this.recorder ??= new BodyRecorder();
    // The header argument of writeHead is recorded only for captured responses (what a stored
    // and replayed response needs); see recordedResult().
    if (!this.res.headersSent) this.hookHead();
    this.wrapWrites();
  }

  /**
   * A watch that wants the body wraps `write`/`end` (the chunks are kept, and the handler's
   * `end()` settles it). One that does not (`shed`) costs no wrapper: the response's `close`
   * settles it, since the handler has ended by then unless the client left first (see
   * responseClosed).
   */
  observeHandler(): void {
    this.watchClose();
    if (this.owner.exchange.pendingWatch?.wantsBody === true) this.wrapWrites();
  }

  /** Starts watching for the client going away (the exchange's signal exists now). */
  watchDisconnect(): void {
    const res = this.res;
    if (res.closed) {
      if (!res.writableFinished) this.owner.exchange.disconnected();
    } else {
      this.watchClose();
    }
  }

  /** Makes `onBeforeSend` listeners fire just before the head is written. */
  hookBeforeSend(): void {
    if (!this.res.headersSent) this.hookHead();
  }

  /** `appendHeader` for a handler that writes on the response itself (setHeader, writeHead). */
  appendHeader(name: string, value: string): void {
    const res = this.res;
    if (res.headersSent) return;
    const current = res.getHeader(name);
    res.setHeader(name, current === undefined ? value : `${headerText(current)}, ${value}`);
    // Headers the handler passes to writeHead replace these: they are merged there (observeHead).
    const appended = (this.appended ??= new Map<string, string>());
    const key = name.toLowerCase();
    const before = appended.get(key);
    appended.set(key, before === undefined ? value : `${before}, ${value}`);
    this.hookHead();
  }

  /** Writes a middleware's answer: the wrappers that watch the handler's writes let it pass. */
  writeAnswer(response: HttpResponse): void {
    this.held = undefined;
    writeAsAnswer(this.res, () => writeNodeResponse(this.res, response));
  }

  /** Whether the handler's response is held and no answer went out yet: the real head is not sent. */
  get holding(): boolean {
    return this.held !== undefined;
  }

  /** Records the handler's response instead of sending it (see `NextOptions.holdResponse`). */
  hold(): void {
    if (this.held !== undefined || this.res.headersSent) return;
    this.held = holdResponse(this.res, (result) => {
      this.owner.exchange.pendingWatch?.settle(result);
      if (this.sendWhenEnded) this.sendHeld();
    });
  }

  /** Sends the held response as recorded: now if the handler ended it, else when it does. */
  releaseHeld(): void {
    const held = this.held;
    if (held === undefined) return;
    if (held.done) this.sendHeld();
    else this.sendWhenEnded = true;
  }

  private sendHeld(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    const res = this.res;
    writeAsAnswer(res, () => held.sendOn(res));
  }

  /**
   * Answers while the handler is running (a timeout): writes `response`, and the handler goes
   * on against a recording of its own, which settles whoever waits for it when it ends.
   */
  answerInPlace(response: HttpResponse): void {
    const exchange = this.owner.exchange;
    const res = this.res;
    if (heldResponse(res) !== undefined) {
      // The handler writes to the recording that holds its response already: it goes on there.
      this.writeAnswer(response);
      exchange.noteAnswerInPlace(response, nodeHeaderMap(res.getHeaders()));
      return;
    }
    const late = new LateResponse(res, exchange.pendingWatch?.wantsBody === true, (result) => exchange.pendingWatch?.settle(result));
    this.writeAnswer(response);
    exchange.noteAnswerInPlace(response, nodeHeaderMap(res.getHeaders()));
    late.install(res);
  }

  // WriteObserver: the handler ended its response.
  handlerEnded(): void {
    const watch = this.owner.exchange.pendingWatch;
    // Read from the exchange that captured the body, when one did (its wrapper ran first).
    if (watch !== undefined) watch.settle(watch.source !== undefined ? watch.source.ownResult() : this.owner.handlerResult());
  }

  // HeadObserver: the head is about to be written.
  beforeHead(status: number): void {
    this.owner.exchange.fireBeforeSend(status);
  }

  // HeadObserver: the header argument of the head.
  headHeaders(given: OutgoingHttpHeaders | readonly unknown[]): void {
    if (this.owner.exchange.capturing) this.givenHead = given;
  }

  // CloseWatcher: the response closed.
  responseClosed(): void {
    const exchange = this.owner.exchange;
    if (!this.res.writableFinished) exchange.disconnected();
    this.closeWatch();
    const resolve = this.settleResolve;
    if (resolve !== undefined) {
      this.settleResolve = undefined;
      resolve(this.result());
    }
  }

  /** The response closed while someone waits for the handler (see {@link observeHandler}). */
  private closeWatch(): void {
    const exchange = this.owner.exchange;
    const watch = exchange.pendingWatch;
    // After an answer in the handler's place, the recording it writes to settles the watch.
    if (watch === undefined || exchange.answeredInPlace) return;
    const res = this.res;
    if (res.writableEnded) {
      // The handler (or a middleware further in, in its place) ended the response.
      watch.settle(watch.source !== undefined ? watch.source.ownResult() : this.owner.handlerResult());
      return;
    }
    // The client left while the handler runs: its end settles the watch, through the wrappers
    // when there are, else through a recording of its own response.
    watch.answeredElsewhere();
    if (!watch.wantsBody && startRecording(res)) {
      new LateResponse(res, false, (result) => watch.settle(result)).install(res);
    }
  }

  private watchClose(): void {
    if (this.closeWatched) return;
    this.closeWatched = true;
    watchClose(this.res, this);
  }

  private hookHead(): void {
    if (this.headHooked) return;
    this.headHooked = true;
    observeHead(this.res, this);
  }

  private wrapWrites(): void {
    if (this.writesWrapped) return;
    this.writesWrapped = true;
    observeWrites(this.res, this);
  }
}
