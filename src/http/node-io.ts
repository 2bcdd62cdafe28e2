import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { HeaderMap, HttpResponse, HttpResult } from '../core/index.js';
import { STALE, noop } from './internal.js';

// Reading and writing node's request and response objects: header maps, the result of a node
// response, request bodies, and the writing of an answer. Nothing here replaces a member of a
// response; that is node-response.ts.
/** A node response header map (`res.getHeaders()`) as a {@link HeaderMap}. */
export function nodeHeaderMap(headers: OutgoingHttpHeaders): HeaderMap {
  const map: HeaderMap = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) map[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return map;
}

/**
 * Calls `visit` with each header given to `writeHead(status, headers)`: an object, a flat
 * `[name, value, name, value]` array or an array of `[name, value]` pairs. Names are passed as
 * given; entries without a name or a value are skipped.
 */
export function forEachHeadHeader(given: unknown, visit: (name: string, value: OutgoingHttpHeader) => void): void {
  if (typeof given !== 'object' || given === null) return;
  if (!Array.isArray(given)) {
    for (const name in given) {
      const value = (given as OutgoingHttpHeaders)[name];
      if (value !== undefined && value !== null) visit(name, value);
    }
    return;
  }
  const pairs = given.length > 0 && Array.isArray(given[0]);
  const step = pairs ? 1 : 2;
  for (let i = 0; i + step - 1 < given.length; i += step) {
    const name: unknown = pairs ? (given[i] as unknown[])[0] : given[i];
    const value: unknown = pairs ? (given[i] as unknown[])[1] : given[i + 1];
    if (typeof name === 'string' && name !== '' && value !== undefined && value !== null) visit(name, value as OutgoingHttpHeader);
  }
}

/**
 * Adds to `map` the headers given to `writeHead(status, headers)` that it does not hold yet
 * (when headers had been set with `setHeader` before, node merged them already and they win).
 * A name repeated in the array form is sent as several lines: read back joined, as node does.
 */
function addHeadHeaders(map: HeaderMap, given: OutgoingHttpHeaders | readonly unknown[]): void {
  const added: HeaderMap = {};
  forEachHeadHeader(given, (name, value) => {
    const lower = name.toLowerCase();
    if (map[lower] !== undefined && added[lower] === undefined) return;
    const text = headerText(value);
    map[lower] = added[lower] = added[lower] === undefined ? text : added[lower] + ', ' + text;
  });
}

/** A node header value (`setHeader` takes numbers and arrays too) as one string. */
export function headerText(value: number | string | readonly string[]): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/**
 * The header argument of a `writeHead` call with `appended` values added after the handler's
 * own (a copy: the handler's object is left alone), or `undefined` when none of them is there.
 */
export function withAppended(given: unknown, appended: ReadonlyMap<string, string>): unknown {
  if (typeof given !== 'object' || given === null) return undefined;
  if (!Array.isArray(given)) {
    let copy: Record<string, unknown> | undefined;
    for (const name in given) {
      const add = appended.get(name.toLowerCase());
      const value = (given as Record<string, unknown>)[name];
      if (add === undefined || value === undefined || value === null) continue;
      copy ??= { ...(given as Record<string, unknown>) };
      copy[name] = `${headerText(value as string)}, ${add}`;
    }
    return copy;
  }
  const pairs = given.length > 0 && Array.isArray(given[0]);
  let copy: unknown[] | undefined;
  const step = pairs ? 1 : 2;
  for (let i = 0; i + step - 1 < given.length; i += step) {
    const name: unknown = pairs ? (given[i] as unknown[])[0] : given[i];
    const add = typeof name === 'string' ? appended.get(name.toLowerCase()) : undefined;
    if (add === undefined) continue;
    copy ??= pairs ? given.map((pair) => (pair as unknown[]).slice()) : given.slice();
    if (pairs) (copy[i] as unknown[])[1] = `${headerText((copy[i] as unknown[])[1] as string)}, ${add}`;
    else copy[i + 1] = `${headerText(copy[i + 1] as string)}, ${add}`;
    const done = (name as string).toLowerCase();
    appended = new Map([...appended].filter(([key]) => key !== done));
  }
  return copy;
}

/**
 * An {@link HttpResult} whose headers are only copied out when someone reads them. A body the
 * handler wrote as one UTF-8 string is kept as that string and encoded only if `body` is read.
 */
export class NodeResult implements HttpResult {
  private readonly text: string | undefined;
  code: string | undefined = undefined;
  clientGone: boolean | undefined = undefined;
  private copied: HeaderMap | undefined = undefined;
  private bytes: Uint8Array | undefined;
  constructor(
    private readonly res: ServerResponse,
    readonly status: number,
    body: Uint8Array | string | undefined,
    /** The header argument of `writeHead`, when it was recorded. */
    private readonly headHeaders: OutgoingHttpHeaders | readonly unknown[] | undefined = undefined,
  ) {
    if (typeof body === 'string') {
      this.text = body;
      this.bytes = undefined;
    } else {
      this.text = undefined;
      this.bytes = body;
    }
  }
  get body(): Uint8Array | undefined {
    const text = this.text;
    return this.bytes === undefined && text !== undefined ? (this.bytes = Buffer.from(text)) : this.bytes;
  }
  get headers(): HeaderMap {
    let copied = this.copied;
    if (copied === undefined) {
      copied = this.copied = nodeHeaderMap(this.res.getHeaders());
      if (this.headHeaders !== undefined) addHeadHeaders(copied, this.headHeaders);
    }
    return copied;
  }
}

/** Whether the client of a node response went away before the response finished. */
export function nodeClientGone(res: ServerResponse): boolean {
  return res.closed && !res.writableFinished;
}

/** Whether a node request carries a body, going by its headers. */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Reads a stream to its end into one Buffer. */
export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string): void => {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('headroom: the request body ended before it was complete'));
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

/** The state of one request body being read by {@link readRequestBody}. */
interface BodyRead {
  first: Buffer | undefined;
  more: Buffer[] | undefined;
  resolve: (bytes: Buffer) => void;
  reject: (err: unknown) => void;
}

const BODY_READ: unique symbol = Symbol('headroom.bodyRead');
type Reading = IncomingMessage & { body?: unknown; [BODY_READ]?: BodyRead | undefined };

// Listeners shared by every request (EventEmitter calls them with `this` = the request), so that
// reading a body allocates its promise and one small state object, no closures.
function onBodyData(this: Reading, chunk: Buffer | string): void {
  const read = this[BODY_READ];
  if (read === undefined) return;
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  if (read.first === undefined) read.first = bytes;
  else if (read.more === undefined) read.more = [bytes];
  else read.more.push(bytes);
}
function onBodyEnd(this: Reading): void {
  const read = stopReading(this);
  if (read === undefined) return;
  const first = read.first;
  const more = read.more;
  // One chunk (a small body, the common case) is handed on as is: no copy.
  const bytes = first === undefined ? Buffer.alloc(0) : more === undefined ? first : Buffer.concat([first, ...more]);
  this.body = bytes;
  read.resolve(bytes);
}
function onBodyError(this: Reading, err: unknown): void {
  stopReading(this)?.reject(err);
}
function onBodyClose(this: Reading): void {
  stopReading(this)?.reject(new Error('headroom: the request body ended before it was complete'));
}
function stopReading(req: Reading): BodyRead | undefined {
  const read = req[BODY_READ];
  if (read === undefined) return undefined;
  req[BODY_READ] = undefined;
  req.removeListener('data', onBodyData);
  req.removeListener('end', onBodyEnd);
  req.removeListener('error', onBodyError);
  req.removeListener('close', onBodyClose);
  return read;
}

/**
 * Reads a node request body to its end into one Buffer, stored as `req.body` (where parsers
 * put a body) before the promise resolves.
 */
export function readRequestBody(req: IncomingMessage): Promise<Buffer> {
  const reading = req as Reading;
  return new Promise<Buffer>((resolve, reject) => {
    reading[BODY_READ] = { first: undefined, more: undefined, resolve, reject };
    reading.on('data', onBodyData);
    reading.on('end', onBodyEnd);
    reading.on('error', onBodyError);
    reading.on('close', onBodyClose);
  });
}

/** Writes `response` on a node response whose head is not sent yet. */
export function writeNodeResponse(res: ServerResponse, response: HttpResponse): void {
  for (const name of STALE) if (res.hasHeader(name)) res.removeHeader(name);
  res.statusCode = response.status;
  const headers = response.headers;
  if (headers !== undefined) for (const name in headers) res.setHeader(name, headers[name]!);
  const body = response.body;
  if (body === undefined) res.end();
  else if (body instanceof ReadableStream) streamToNode(body, res);
  else res.end(body);
}

/**
 * Sends the head now and then each chunk of `stream` as it comes, waiting for `drain` when the
 * socket is full. When the response closes first (the client went away) the stream is
 * cancelled, so its producer learns it through `cancel()`; every listener added is removed.
 */
export function streamToNode(stream: ReadableStream<Uint8Array>, res: ServerResponse): void {
  // Taken now: a respond() after next() then records the handler's writes (LateResponse), not
  // this stream's.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- node's own method, called on res
  const write = res.write as (this: ServerResponse, chunk: Uint8Array) => boolean;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- node's own method, called on res
  const end = res.end as (this: ServerResponse) => ServerResponse;
  const reader = stream.getReader();
  let open = true;
  const finish = (): void => {
    open = false;
    res.removeListener('close', onClose);
    res.removeListener('drain', pull);
  };
  const onClose = (): void => {
    if (!open) return;
    finish();
    reader.cancel().catch(noop);
  };
  const onChunk = (chunk: ReadableStreamReadResult<Uint8Array>): void => {
    if (!open) return;
    if (chunk.done) {
      finish();
      end.call(res);
    } else if (write.call(res, chunk.value)) {
      pull();
    } else {
      res.once('drain', pull);
    }
  };
  const onError = (err: unknown): void => {
    if (!open) return;
    finish();
    res.destroy(err instanceof Error ? err : new Error(String(err)));
  };
  function pull(): void {
    reader.read().then(onChunk, onError);
  }
  res.on('close', onClose);
  res.flushHeaders();
  pull();
}
