import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { HeaderMap, HttpResult } from '../core/index.js';
import { noop } from './internal.js';
import { forEachHeadHeader, withAppended } from './node-io.js';

/*
 * Every change headroom makes to node's `ServerResponse`, in one place: the wrappers of
 * `write`/`end` (to keep the body the handler writes, and to see it end), of `writeHead` (for
 * `onBeforeSend`, `appendHeader` and the header argument of the head), the one `close`
 * listener shared by every response, and the recording a handler writes to once a middleware
 * answered in its place ({@link LateResponse}). Ordinary responses keep their prototype
 * methods: each wrapper is installed only for a request that asked for what it gives.
 *
 * The per-response flags live on the response under a symbol, since every exchange of the
 * request (two adapters on one response) sees the same writes.
 *
 * Over 400 lines on purpose: keeping every patch of `ServerResponse` in one file is what lets a
 * reader check that they compose (a held response, an answer in the handler's place, the
 * write wrappers), which matters more here than the file's length.
 */

/** Flags of one response that every wrapper on it reads. */
interface ResponseFlags {
  /** A middleware's answer is being written (not the handler's response): the wrappers let it pass. */
  answering: boolean;
  /** A recording of the handler's response was installed after its client left. */
  recording: boolean;
  /** The recording that holds the handler's response, while it is installed (`holdResponse`). */
  held: LateResponse | undefined;
}

const FLAGS: unique symbol = Symbol('headroom.responseFlags');
type Flagged = ServerResponse & { [FLAGS]?: ResponseFlags };

function flagsOf(res: ServerResponse): ResponseFlags {
  return ((res as Flagged)[FLAGS] ??= { answering: false, recording: false, held: undefined });
}

/** Whether a middleware's answer is being written on `res` right now (see {@link writeAsAnswer}). */
export function answerUnderWay(res: ServerResponse): boolean {
  const flags = (res as Flagged)[FLAGS];
  return flags !== undefined && flags.answering;
}

/** Marks (or unmarks) what is written on `res` from now on as a middleware's answer. */
export function setAnswerUnderWay(res: ServerResponse, value: boolean): void {
  flagsOf(res).answering = value;
}

/**
 * Runs `write` (which writes a middleware's answer on `res`) with the wrappers letting it pass.
 * A recording that holds the handler's response is taken off for the answer, and put back when
 * the handler has not ended yet (it goes on against it).
 */
export function writeAsAnswer(res: ServerResponse, write: () => void): void {
  const flags = flagsOf(res);
  const held = flags.held;
  if (held !== undefined) {
    held.uninstall(res);
    flags.held = undefined;
  }
  flags.answering = true;
  try {
    write();
  } finally {
    flags.answering = false;
    if (held !== undefined && !held.done) {
      held.install(res);
      flags.held = held;
    }
  }
}

/**
 * Makes the handler write its response to a recording (`next({ holdResponse: true })`): nothing
 * reaches `res` until a middleware's answer ({@link writeAsAnswer}) or {@link LateResponse.sendOn}.
 * Returns the recording; `onEnd` is called when the handler ends its response.
 */
export function holdResponse(res: ServerResponse, onEnd: (result: HttpResult) => void): LateResponse {
  const flags = flagsOf(res);
  if (flags.held !== undefined) return flags.held;
  const held = new LateResponse(res, true, onEnd);
  held.install(res);
  flags.held = held;
  return held;
}

/** The recording holding the handler's response on `res`, while it is installed. */
export function heldResponse(res: ServerResponse): LateResponse | undefined {
  const flags = (res as Flagged)[FLAGS];
  return flags === undefined ? undefined : flags.held;
}

/** Marks `res` as recording its handler's response; false when it already was. */
export function startRecording(res: ServerResponse): boolean {
  const flags = flagsOf(res);
  if (flags.recording) return false;
  flags.recording = true;
  return true;
}

const EMPTY: Uint8Array = Buffer.alloc(0);

/**
 * The body chunks a handler writes: the first chunk alone, the rest (rarely any) in a list; a
 * body written as one UTF-8 string is kept as that string (not encoded unless someone reads
 * the bytes), and a body written in one call is never copied.
 */
export class BodyRecorder {
  private first: Uint8Array | undefined = undefined;
  private firstText: string | undefined = undefined;
  private more: Uint8Array[] | undefined = undefined;

  /** Keeps a chunk given to `write` or `end` (anything but a string or bytes is ignored). */
  keep(chunk: unknown, encoding: unknown): void {
    let bytes: Uint8Array;
    if (typeof chunk === 'string') {
      if (chunk.length === 0) return;
      const utf8 = typeof encoding !== 'string' || encoding === 'utf8' || encoding === 'utf-8';
      if (utf8 && this.first === undefined && this.firstText === undefined) {
        this.firstText = chunk;
        return;
      }
      bytes = Buffer.from(chunk, utf8 ? 'utf8' : (encoding as BufferEncoding));
    } else if (chunk instanceof Uint8Array) {
      if (chunk.byteLength === 0) return;
      bytes = chunk;
    } else {
      return;
    }
    if (this.firstText !== undefined) {
      // A second chunk after a text one: from here on the body is bytes.
      this.first = Buffer.from(this.firstText);
      this.firstText = undefined;
    }
    if (this.first === undefined) this.first = bytes;
    else if (this.more === undefined) this.more = [bytes];
    else this.more.push(bytes);
  }

  /** The body so far: one string, or bytes (empty when nothing was written). */
  body(): Uint8Array | string {
    if (this.firstText !== undefined) return this.firstText;
    const first = this.first;
    if (first === undefined) return EMPTY;
    return this.more === undefined ? first : Buffer.concat([first, ...this.more]);
  }
}

/** What {@link observeWrites} reports to. */
export interface WriteObserver {
  /** Where the handler's chunks go, when they are kept. */
  readonly recorder: BodyRecorder | undefined;
  /** The handler ended its response (called once node's `end()` returned). */
  handlerEnded(): void;
}

/**
 * Wraps `res.write` and `res.end` for `observer`: the handler's chunks go to its recorder and
 * its `end()` is reported; a middleware's answer ({@link writeAsAnswer}) passes unseen.
 */
export function observeWrites(res: ServerResponse, observer: WriteObserver): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- node's own method, called on res
  const write = res.write;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- node's own method, called on res
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown) {
    const recorder = observer.recorder;
    if (recorder !== undefined && !answerUnderWay(res)) recorder.keep(chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    return (write as (...args: unknown[]) => boolean).apply(this, arguments as unknown as unknown[]);
  } as typeof res.write;
  res.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown) {
    const answer = answerUnderWay(res);
    const recorder = observer.recorder;
    if (recorder !== undefined && !answer) recorder.keep(chunk, encoding);
    // eslint-disable-next-line prefer-rest-params
    const returned = (end as (...args: unknown[]) => ServerResponse).apply(this, arguments as unknown as unknown[]);
    if (!answer) observer.handlerEnded();
    return returned;
  } as typeof res.end;
}

/** What {@link observeHead} reports to. */
export interface HeadObserver {
  /** The head is about to be written with `status`. */
  beforeHead(status: number): void;
  /** Values added with `appendHeader` (by lower-case name), merged into the headers given to `writeHead`. */
  readonly appended: ReadonlyMap<string, string> | undefined;
  /** The header argument the head is written with (after merging), when one was given. */
  headHeaders(given: OutgoingHttpHeaders | readonly unknown[]): void;
}

/**
 * Wraps `res.writeHead` once: node's implicit head (first write or end) goes through it too.
 * The wrapper puts the original back on its first call, then reports to `observer`.
 */
export function observeHead(res: ServerResponse, observer: HeadObserver): void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- node's own method, called on res (and put back)
  const original = res.writeHead;
  res.writeHead = function (this: ServerResponse, status: unknown, reason?: unknown, headers?: unknown) {
    res.writeHead = original;
    observer.beforeHead(typeof status === 'number' ? status : res.statusCode);
    // eslint-disable-next-line prefer-rest-params
    let args = arguments as unknown as unknown[];
    const named = typeof reason === 'string';
    let given = named ? headers : (headers ?? reason);
    const appended = observer.appended;
    if (appended !== undefined) {
      const merged = withAppended(given, appended);
      if (merged !== undefined) {
        given = merged;
        args = named ? [status, reason, merged] : [status, merged];
      }
    }
    if (typeof given === 'object' && given !== null) observer.headHeaders(given as OutgoingHttpHeaders);
    return (original as (...a: unknown[]) => ServerResponse).apply(this, args);
  };
}

/** One waiter on a response's `close` (see {@link watchClose}). */
export interface CloseWatcher {
  /** The next waiter on the same response; managed by {@link watchClose}. */
  nextCloseWatcher: CloseWatcher | undefined;
  /** The response closed (finished, or its client left). */
  responseClosed(): void;
}

const CLOSE_WATCHERS: unique symbol = Symbol('headroom.closeWatchers');
type WatchedResponse = ServerResponse & { [CLOSE_WATCHERS]?: CloseWatcher | undefined };

/**
 * Calls `watcher.responseClosed()` when `res` closes: `close` follows `finish` for every
 * response (keep-alive too) and comes alone on disconnect. One listener shared by every
 * response finds its watchers through the response: no closure and no `once` wrapper per
 * request. Watchers of one response (two adapters on a request) are called in the order they
 * started watching. Call once per watcher.
 */
export function watchClose(res: ServerResponse, watcher: CloseWatcher): void {
  const watched = res as WatchedResponse;
  const first = watched[CLOSE_WATCHERS];
  if (first === undefined) {
    watched[CLOSE_WATCHERS] = watcher;
    res.on('close', onResponseClose);
    return;
  }
  let last = first;
  while (last.nextCloseWatcher !== undefined) last = last.nextCloseWatcher;
  last.nextCloseWatcher = watcher;
}

/** The `close` listener every watched response shares (`this` is the response). */
function onResponseClose(this: WatchedResponse): void {
  this.removeListener('close', onResponseClose);
  let watcher = this[CLOSE_WATCHERS];
  this[CLOSE_WATCHERS] = undefined;
  while (watcher !== undefined) {
    const next = watcher.nextCloseWatcher;
    watcher.nextCloseWatcher = undefined;
    watcher.responseClosed();
    watcher = next;
  }
}

type HeaderValue = OutgoingHttpHeader;

/** What {@link LateResponse.install} replaces on a response. */
const INSTALLED: readonly string[] = [
  'statusCode',
  'headersSent',
  'writableEnded',
  'setHeader',
  'appendHeader',
  'setHeaders',
  'getHeader',
  'getHeaders',
  'getHeaderNames',
  'hasHeader',
  'removeHeader',
  'writeHead',
  'flushHeaders',
  'cork',
  'uncork',
  'addTrailers',
  'write',
  'end',
];

function joined(value: HeaderValue): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function bytesOf(chunk: unknown, encoding: unknown): Uint8Array | undefined {
  if (typeof chunk === 'string')
    return chunk.length === 0 ? undefined : Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength === 0 ? undefined : chunk;
  return undefined;
}

function callbackOf(args: readonly unknown[]): (() => void) | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as () => void) : undefined;
}

/**
 * What a node handler writes after a middleware answered its request in its place (a timeout's
 * 504): the handler goes on against a response that, from where it stands, was never sent. Its
 * status, headers and body are recorded here and never reach the socket, and `end()` reports
 * the response it produced. That is how `next({ untilHandlerSettles: true })` learns a
 * timed-out order's real 201, and how Express's error handling, writing a 500 into a response
 * it sees as unsent, tells that the handler failed.
 *
 * Installed ({@link LateResponse.install}) only on that rare path, as own properties of the
 * response, so ordinary responses keep their prototype methods.
 */
export class LateResponse {
  private status: number;
  private readonly headers = new Map<string, HeaderValue>();
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  /** The response's own properties that {@link install} replaced, to put back in {@link uninstall}. */
  private saved: Map<string, PropertyDescriptor | undefined> | undefined = undefined;

  /**
   * @param res - the response, before the answer is written on it: the handler's status and
   *   headers so far are where it goes on from.
   * @param keepBody - keep the body the handler writes (someone waits for it); otherwise it is
   *   dropped as it comes, so a handler that streams on after a timeout holds no memory.
   * @param onEnd - called once, when the handler ends its response.
   */
  constructor(
    res: ServerResponse,
    private readonly keepBody: boolean,
    private readonly onEnd: (result: HttpResult) => void,
  ) {
    this.status = res.statusCode;
    const current = res.getHeaders();
    for (const name in current) {
      const value = current[name];
      if (value !== undefined) this.headers.set(name, value);
    }
  }

  /** Sets a header of the handler's response. */
  setHeader(name: string, value: HeaderValue): void {
    this.headers.set(name.toLowerCase(), value);
  }

  /** A header of the handler's response. */
  getHeader(name: string): HeaderValue | undefined {
    return this.headers.get(name.toLowerCase());
  }

  /** The headers of the handler's response, by lower-case name. */
  getHeaders(): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = Object.create(null) as OutgoingHttpHeaders;
    for (const [name, value] of this.headers) out[name] = value;
    return out;
  }

  /** Whether the handler's response has header `name`. */
  hasHeader(name: string): boolean {
    return this.headers.has(name.toLowerCase());
  }

  /** Removes a header of the handler's response. */
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }

  /** The status of the handler's response. */
  get statusCode(): number {
    return this.status;
  }

  set statusCode(value: number) {
    this.status = value;
  }

  /** Whether the handler ended its response. */
  get done(): boolean {
    return this.ended;
  }

  /** Ends the handler's response with `body` (once). */
  finish(body?: Uint8Array | string): void {
    this.keep(body, undefined);
    this.end();
  }

  /** The handler's response as it stands. */
  result(): HttpResult {
    const headers: HeaderMap = {};
    for (const [name, value] of this.headers) headers[name] = joined(value);
    if (!this.keepBody) return { status: this.status, headers };
    const body = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    return { status: this.status, headers, body };
  }

  /**
   * Writes the recorded response on `res` (taken off it with {@link uninstall} first): status,
   * headers as the handler set them (a repeated `set-cookie` stays repeated) and body.
   */
  sendOn(res: ServerResponse): void {
    res.statusCode = this.status;
    for (const [name, value] of this.headers) res.setHeader(name, value);
    const body = this.chunks.length === 0 ? undefined : this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    if (body !== undefined && !res.hasHeader('transfer-encoding')) res.setHeader('content-length', body.byteLength);
    res.end(body);
  }

  /** Gives `res` back its own methods and properties, as before {@link install}. */
  uninstall(res: ServerResponse): void {
    const saved = this.saved;
    if (saved === undefined) return;
    this.saved = undefined;
    for (const [key, descriptor] of saved) {
      if (descriptor === undefined) delete (res as unknown as Record<string, unknown>)[key];
      else Object.defineProperty(res, key, descriptor);
    }
  }

  /** Takes over the handler-facing side of `res` (after the answer was written on it). */
  install(res: ServerResponse): void {
    const late = this;
    const target = res as unknown as Record<string, unknown>;
    const saved = (this.saved = new Map());
    for (const key of INSTALLED) saved.set(key, Object.getOwnPropertyDescriptor(res, key));
    Object.defineProperty(res, 'statusCode', {
      get: () => late.status,
      set: (value: unknown) => {
        if (typeof value === 'number') late.status = value;
      },
      configurable: true,
    });
    Object.defineProperty(res, 'headersSent', { get: () => late.ended, configurable: true });
    Object.defineProperty(res, 'writableEnded', { get: () => late.ended, configurable: true });
    target.setHeader = function (this: ServerResponse, name: string, value: HeaderValue) {
      late.setHeader(name, value);
      return this;
    };
    target.appendHeader = function (this: ServerResponse, name: string, value: HeaderValue) {
      const key = name.toLowerCase();
      const before = late.headers.get(key);
      late.headers.set(
        key,
        before === undefined ? value : [...(Array.isArray(before) ? before : [String(before)]), ...(Array.isArray(value) ? value : [String(value)])],
      );
      return this;
    };
    target.setHeaders = function (this: ServerResponse, headers: Headers | Map<string, HeaderValue>) {
      headers.forEach((value: HeaderValue, name: string) => late.headers.set(name.toLowerCase(), value));
      return this;
    };
    target.getHeader = (name: string) => late.getHeader(name);
    target.getHeaders = () => late.getHeaders();
    target.getHeaderNames = () => [...late.headers.keys()];
    target.hasHeader = (name: string) => late.hasHeader(name);
    target.removeHeader = (name: string) => late.removeHeader(name);
    target.writeHead = function (this: ServerResponse, status: number, reason?: unknown, headers?: unknown) {
      if (typeof status === 'number') late.status = status;
      forEachHeadHeader(typeof reason === 'string' ? headers : (headers ?? reason), (name, value) => late.setHeader(name, value));
      return this;
    };
    target.flushHeaders = noop;
    target.cork = noop;
    target.uncork = noop;
    target.addTrailers = noop;
    target.write = function (this: ServerResponse, chunk: unknown, encoding?: unknown, ...rest: unknown[]) {
      late.keep(chunk, encoding);
      const callback = callbackOf([encoding, ...rest]);
      if (callback !== undefined) process.nextTick(callback);
      return true;
    };
    target.end = function (this: ServerResponse, chunk?: unknown, encoding?: unknown, ...rest: unknown[]) {
      if (typeof chunk !== 'function') late.keep(chunk, encoding);
      const callback = callbackOf([chunk, encoding, ...rest]);
      if (callback !== undefined) process.nextTick(callback);
      late.end();
      return this;
    };
  }

  private keep(chunk: unknown, encoding: unknown): void {
    if (this.ended || !this.keepBody) return;
    const bytes = bytesOf(chunk, encoding);
    if (bytes !== undefined) this.chunks.push(bytes);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this.result());
  }
}
