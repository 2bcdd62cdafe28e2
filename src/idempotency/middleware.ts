import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import {
  ErrorCode,
  integerOption,
  invalidArgument,
  isHeadroomError,
  objectArgument,
  parseDuration,
  problemResponse,
  type Duration,
  type HeaderMap,
  type HttpExchange,
  type HttpResponse,
  type HttpResult,
  type Middleware,
  type NextOptions,
} from '../core/index.js';
import { canonicalJson, canonicalParsedJson, isCanonicalJsonBytes, sha256 } from './fingerprint.js';
import { Idempotency } from './idempotency.js';
import { KeyProblem, parseIdempotencyKey } from './idempotency-key.js';
import { KEEPS_VALUES, RUN_KEPT, ReleaseWithoutStoring } from './internal.js';

/** The response headers stored and replayed unless {@link IdempotencyMiddlewareOptions.headers} says otherwise. */
export const DEFAULT_REPLAYED_HEADERS: readonly string[] = Object.freeze([
  'content-type',
  'content-language',
  'content-location',
  'location',
  'etag',
  'last-modified',
  'cache-control',
  'link',
]);

/** Options for {@link idempotencyMiddleware}. */
export interface IdempotencyMiddlewareOptions {
  /** The methods the middleware applies to; others pass straight through. Default `['POST', 'PATCH']`. */
  methods?: string[];
  /**
   * Refuse a request of those methods that carries no `Idempotency-Key` with 400
   * (`IDEMPOTENCY_KEY_INVALID`). Default `false`: such requests pass through, not deduplicated.
   */
  required?: boolean;
  /**
   * The caller a key belongs to: a tenant, account or user id from the authenticated request.
   * Keys are only compared within a scope. Without it, keys are global: a client that guesses or
   * reuses another client's key gets that client's stored response (its body, its `Location`).
   * Return `undefined` for the global scope. It runs before the operation, so read what an
   * earlier authentication middleware established (a header, a verified token).
   */
  scope?: (exchange: HttpExchange) => string | undefined;
  /**
   * Response headers stored and replayed (lower-case). Default {@link DEFAULT_REPLAYED_HEADERS}.
   * Leave out `set-cookie` and anything per-request (`date`, request ids): a replay must not
   * hand out the first caller's session or pretend to be fresh.
   */
  headers?: string[];
  /** The longest key accepted, in characters; longer is 400. Default `255` (as Stripe). */
  maxKeyLength?: number;
  /**
   * Store 5xx responses too, so that a retry replays the failure. Default `false`: a 5xx releases
   * the key and a retry runs the handler again (the failure was probably transient).
   */
  storeServerErrors?: boolean;
  /**
   * While the first request with a key is in flight, hold duplicates up to this long for its
   * response instead of answering 409 at once. Default: answer 409 at once.
   */
  wait?: Duration;
}

/** A response as stored: status, chosen headers, body in base64. @internal */
interface StoredResponse {
  s: number;
  h: HeaderMap;
  b: string;
}

/**
 * A response as a store that keeps values in memory holds it (`MemoryIdempotencyStore`): the
 * replayed response itself, built once when the first response is stored and handed to
 * `respond()` by every replay, so that a replay encodes, decodes and allocates nothing. Never
 * mutated (the adapters only read a response).
 */
class KeptResponse implements HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: HeaderMap,
    readonly body: string | Uint8Array | undefined,
  ) {}
}

const METHOD = /^[A-Z]+$/;

/**
 * `next()`'s options for the operation, one object for every request: the response the handler
 * produced, once it has really settled, even if a `timeout` answered the client first.
 */
const HANDLER_OUTCOME: NextOptions = Object.freeze({ captureBody: true, untilHandlerSettles: true });

function keyInvalid(detail: string): HttpResponse {
  return problemResponse({ status: 400, code: ErrorCode.IDEMPOTENCY_KEY_INVALID, detail });
}

/**
 * The fingerprint digest for a store that keeps records in this process: a short canonical text
 * is its own fingerprint (compared as a string, never leaves the process), which saves hashing
 * it on every request; a longer one is hashed so that a record does not hold a copy of a large
 * body. Deterministic in the text, so a request and its retry always get the same form, and a
 * text (it starts with the method and a newline) never equals a base64url digest.
 */
const SHORT_TEXT = 1024;
function textOrSha256(text: string): string {
  if (text.length > SHORT_TEXT) return sha256(text);
  // The text was built by concatenation, a tree of V8 cons strings that a kept record would hold
  // for `ttl`; reading a character flattens it into one string (the GC then drops the tree).
  text.charCodeAt(0);
  return text;
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.includes('json');
}

/**
 * A digest of method, target (path and query) and body. JSON bodies (parsed by the framework, or raw with a JSON
 * content type) are canonicalised so that key order and whitespace do not matter; anything else
 * is hashed as bytes.
 *
 * With `raw` (a store that keeps records in this process), a short raw JSON body is not
 * canonicalised here: the fingerprint is the text as received (marker `r`), which is what a
 * retry sends again, and {@link sameRequest} canonicalises two such fingerprints only when they
 * differ. That takes the canonical check off every first request and replay.
 */
function requestFingerprint(exchange: HttpExchange, body: unknown, digest: (text: string) => string, raw: boolean): string {
  const head = exchange.method + '\n' + exchange.url + '\n';
  if (body instanceof Uint8Array || typeof body === 'string') {
    if (body.length > 0 && isJson(exchange.header('content-type'))) {
      if (typeof body !== 'string') {
        if (raw && head.length + body.byteLength < SHORT_TEXT) return textOrSha256(head + 'r' + latin1(body));
        return jsonBytesFingerprint(head, body, digest);
      }
      try {
        return digest(head + 'j' + canonicalParsedJson(JSON.parse(body)));
      } catch {
        // not JSON after all: hash the bytes
      }
    }
    return createHash('sha256').update(head + 'b').update(body).digest('base64url');
  }
  if (body !== undefined && body !== null) return digest(head + 'j' + canonicalJson(body));
  return digest(head);
}

/** `bytes` as a Buffer over the same memory (no copy), for Buffer's decoders. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function latin1(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('latin1');
}

/** The canonical fingerprint of a raw JSON body (or of its bytes, when it is not JSON after all). */
function jsonBytesFingerprint(head: string, body: Uint8Array, digest: (text: string) => string): string {
  // Already canonical (the common case for a client that serialises sorted, compact JSON):
  // the bytes are the canonical text, ASCII, so no UTF-8 decoding, parsing or re-writing.
  if (isCanonicalJsonBytes(body)) return digest(head + 'j' + latin1(body));
  // JSON text is UTF-8 (RFC 8259). Other bytes (a client writing Latin-1) would decode with U+FFFD
  // in place of whatever differs, and two different bodies would look the same: hash them as bytes.
  if (isUtf8(body)) {
    try {
      return digest(head + 'j' + canonicalParsedJson(JSON.parse(bufferOf(body).toString('utf8'))));
    } catch {
      // not JSON after all
    }
  }
  return createHash('sha256').update(head + 'b').update(body).digest('base64url');
}

/** A fingerprint in canonical form: a raw one (marker `r`, see requestFingerprint) canonicalised. */
function canonicalFingerprint(fingerprint: string): string {
  const first = fingerprint.indexOf('\n');
  const second = first === -1 ? -1 : fingerprint.indexOf('\n', first + 1);
  if (second === -1 || fingerprint.charCodeAt(second + 1) !== 0x72 /* r */) return fingerprint;
  const body = Buffer.from(fingerprint.slice(second + 2), 'latin1');
  return jsonBytesFingerprint(fingerprint.slice(0, second + 1), body, textOrSha256);
}

/** Two fingerprints that differ as strings still name one request when their canonical forms match. */
function sameRequest(stored: string, given: string): boolean {
  return canonicalFingerprint(stored) === canonicalFingerprint(given);
}

/**
 * HTTP middleware for `Idempotency-Key` (IETF draft, Stripe semantics), for every framework
 * through the `headroom/http` adapters.
 *
 * For POST and PATCH (by default) carrying the header, the first request runs the handler; its
 * status, chosen headers and body are stored, and every retry with the same key (in the same
 * scope) gets them back with `Idempotent-Replayed: true` without running the handler. Answers,
 * all `application/problem+json`:
 * - 400 `IDEMPOTENCY_KEY_INVALID`: key empty, longer than `maxKeyLength`, not printable ASCII, a
 *   malformed quoted string, or missing while `required`;
 * - 409 `IDEMPOTENCY_IN_PROGRESS` (with `Retry-After`): the first request is still running;
 * - 422 `IDEMPOTENCY_KEY_REUSED`: the key came with another method, path, query, content type
 *   or body;
 * - 503 `SERVICE_UNAVAILABLE` with `Retry-After`: the store is unreachable or did not answer
 *   within the instance's `storeTimeout` (the handler did not run).
 *
 * A key stays in progress until the handler it admitted has really settled, whatever answered
 * the client first (an outer `timeout()`'s 504, a client that left): duplicates meanwhile get
 * 409 (or wait, with `wait`), and what the handler really did is stored, so a retry after it
 * replays a timed-out order's 201. A handler never starts once its request was answered or its
 * client left (the store was slow): the key is given back and nothing is stored.
 *
 * The request is fingerprinted as method + path (with its query) + body: with a JSON content
 * type (any `Content-Type` containing `json`) the body is canonicalised (key order and
 * whitespace do not matter), with any other it is hashed as bytes, so the same bytes sent once
 * as JSON and once as text are two requests. 5xx responses are not stored by default: the key
 * is released and a retry runs again.
 *
 * @param idempotency - the {@link Idempotency} holding the store, `ttl` and `lockTtl`.
 * @param options - see {@link IdempotencyMiddlewareOptions}.
 * @example
 * ```ts
 * import express from 'express';
 * import { Redis } from 'ioredis';
 * import { toNode } from 'headroom/http';
 * import { Idempotency, RedisIdempotencyStore, fingerprint, idempotencyMiddleware } from 'headroom/idempotency';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
 * redis.on('error', (err) => console.warn('redis:', err.message));
 * const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis), ttl: '24h' });
 * const app = express();
 * app.use(express.json());
 * app.use(toNode(idempotencyMiddleware(idempotency, {
 *   required: true,
 *   // One scope per credential, hashed so that no token lands in the store's keys.
 *   scope: (exchange) => fingerprint(exchange.header('authorization') ?? 'anonymous'),
 * })));
 * app.post('/payments', async (req, res) => {
 *   const payment = await payments.create(req.body); // runs once per key
 *   res.status(201).location(`/payments/${payment.id}`).json(payment);
 * });
 * ```
 */
export function idempotencyMiddleware(idempotency: Idempotency, options: IdempotencyMiddlewareOptions = {}): Middleware {
  if (!(idempotency instanceof Idempotency)) throw invalidArgument('idempotency', 'an Idempotency instance', idempotency);
  objectArgument(options, 'options');
  if (options.methods !== undefined && !Array.isArray(options.methods)) throw invalidArgument('methods', 'an array of HTTP method names', options.methods);
  const methods = new Set<string>();
  for (const method of options.methods ?? ['POST', 'PATCH']) {
    if (typeof method !== 'string' || !METHOD.test(method.toUpperCase())) throw invalidArgument('methods', 'an array of HTTP method names', options.methods);
    methods.add(method.toUpperCase());
  }
  if (options.required !== undefined && typeof options.required !== 'boolean') throw invalidArgument('required', 'a boolean', options.required);
  const required = options.required === true;
  if (options.scope !== undefined && typeof options.scope !== 'function') throw invalidArgument('scope', 'a function (exchange) => string | undefined', options.scope);
  const scopeOf = options.scope;
  if (options.headers !== undefined && (!Array.isArray(options.headers) || options.headers.some((h) => typeof h !== 'string' || h.length === 0))) {
    throw invalidArgument('headers', 'an array of header names', options.headers);
  }
  const stored = (options.headers ?? DEFAULT_REPLAYED_HEADERS).map((h) => h.toLowerCase());
  const maxKeyLength = integerOption(options.maxKeyLength, 'maxKeyLength', 255, { min: 1, max: 65_536 });
  if (options.storeServerErrors !== undefined && typeof options.storeServerErrors !== 'boolean') {
    throw invalidArgument('storeServerErrors', 'a boolean', options.storeServerErrors);
  }
  const storeServerErrors = options.storeServerErrors === true;
  const wait = options.wait === undefined ? undefined : parseDuration(options.wait, 'wait');
  // Stores that hold values in this process get the response object itself (see KeptResponse).
  const keep = (idempotency.store as { [KEEPS_VALUES]?: unknown })[KEEPS_VALUES] === true;
  const digest = keep ? textOrSha256 : sha256;
  const tooLong = new KeyProblem(`The Idempotency-Key header is longer than ${maxKeyLength} characters.`);

  function toStored(result: HttpResult): StoredResponse {
    const headers: HeaderMap = {};
    for (let i = 0; i < stored.length; i++) {
      const name = stored[i]!;
      const value = result.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    const body = result.body;
    return {
      s: result.status,
      h: headers,
      b: body === undefined || body.byteLength === 0 ? '' : bufferOf(body).toString('base64'),
    };
  }

  function toKept(result: HttpResult): KeptResponse {
    const headers: HeaderMap = {};
    for (let i = 0; i < stored.length; i++) {
      const name = stored[i]!;
      const value = result.headers[name];
      if (value !== undefined) headers[name] = value;
    }
    headers['idempotent-replayed'] = 'true';
    const body = result.body;
    let kept: string | Uint8Array | undefined;
    if (body !== undefined && body.byteLength > 0) {
      const bytes = bufferOf(body);
      if (isUtf8(bytes)) {
        // UTF-8 text (JSON, HTML...) is kept as a string: one compact heap object with no
        // backing store for the GC to track, and node sends a string body in the same write
        // as the head.
        kept = bytes.toString('utf8');
      } else {
        // An exact copy: the captured bytes may be a slice of node's shared 8 KiB pool (which a
        // kept record would pin) or a buffer the handler reuses.
        kept = Buffer.allocUnsafeSlow(body.byteLength);
        kept.set(body);
      }
    }
    return new KeptResponse(result.status, headers, kept);
  }

  function replay(response: StoredResponse): HttpResponse {
    const headers: HeaderMap = { ...response.h, 'idempotent-replayed': 'true' };
    return { status: response.s, headers, body: response.b === '' ? '' : Buffer.from(response.b, 'base64') };
  }

  return async function idempotencyKeyMiddleware(exchange, next) {
    if (!methods.has(exchange.method)) {
      await next();
      return;
    }
    const raw = exchange.header('idempotency-key');
    if (raw === undefined) {
      if (required) exchange.respond(keyInvalid('This request needs an Idempotency-Key header.'));
      else await next();
      return;
    }
    const key = parseIdempotencyKey(raw, maxKeyLength, tooLong);
    if (typeof key !== 'string') {
      exchange.respond(keyInvalid(key.detail));
      return;
    }
    const scope = scopeOf === undefined ? undefined : scopeOf(exchange);
    // The body is awaited here and hashed synchronously: one promise and one hop fewer per request.
    const fingerprint = requestFingerprint(exchange, await exchange.body(), digest, keep);
    // Answered while the body was read (an outer timeout): the key is not even taken.
    if (exchange.responded) return;
    let ran = false;
    let acquiring = true;
    let response: StoredResponse | KeptResponse;
    try {
      const running = idempotency[RUN_KEPT]<StoredResponse | KeptResponse>(
        key,
        async () => {
          // A handler never starts after its request was answered or its client left: an
          // acquire that landed late (a slow store) gives the key back and stores nothing. A
          // synchronous acquire (memory store) leaves no gap to check.
          if (exchange.responded || (!acquiring && exchange.aborted)) throw new ReleaseWithoutStoring();
          ran = true;
          // The handler's own response once it has settled: a key stays in progress until then,
          // whoever answered the client first, and what it really did is what gets stored.
          const result = await next(HANDLER_OUTCOME);
          if (result.status >= 500 && !storeServerErrors) throw new ReleaseWithoutStoring();
          return keep ? toKept(result) : toStored(result);
        },
        { fingerprint, scope, wait },
        keep ? sameRequest : undefined,
      );
      acquiring = false;
      response = await running;
    } catch (err) {
      if (err instanceof ReleaseWithoutStoring) return; // the 5xx already went out; the key is free again
      if (!ran && isHeadroomError(err) && !exchange.responded) {
        exchange.respond(problemResponse(err));
        return;
      }
      throw err;
    }
    if (!ran) exchange.respond(response instanceof KeptResponse ? response : replay(response));
  };
}
