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
import { IdempotencyBodyTooLargeError, IdempotencyNotStoredError } from './errors.js';
import { ReleaseWithoutStoring } from './internal.js';

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
  /**
   * The largest request body, in bytes, of a request carrying an `Idempotency-Key`. Default
   * 1 MiB (1,048,576). A larger one is answered 413 problem+json `IDEMPOTENCY_BODY_TOO_LARGE`
   * and is neither hashed, run nor stored: when its `Content-Length` says so, before the body is
   * read; otherwise once the adapter has read it (a body parser's own limit applies first). A
   * body the framework parsed is measured by its canonical JSON text.
   */
  maxBodyBytes?: number;
}

/** The default of {@link IdempotencyMiddlewareOptions.maxBodyBytes}: 1 MiB. */
const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** A response as stored: status, chosen headers, body in base64. @internal */
interface StoredResponse {
  s: number;
  h: HeaderMap;
  b: string;
}

const METHOD = /^[A-Z]+$/;

/**
 * `next()`'s options for the operation, one object for every request: the response the handler
 * produced, once it has really settled, even if a `timeout` answered the client first.
 */
const HANDLER_OUTCOME: NextOptions = Object.freeze({ captureBody: true, untilHandlerSettles: true });

/**
 * The same, and the handler's response is held (not sent) until the record is stored
 * (`holdUntilStored`): the middleware sends it, or a 503 in its place.
 */
const HELD_OUTCOME: NextOptions = Object.freeze({ captureBody: true, untilHandlerSettles: true, holdResponse: true });

function keyInvalid(detail: string): HttpResponse {
  return problemResponse({ status: 400, code: ErrorCode.IDEMPOTENCY_KEY_INVALID, detail });
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.includes('json');
}

/**
 * A digest of method, target (path and query) and body. JSON bodies (parsed by the framework, or raw with a JSON
 * content type) are canonicalised so that key order and whitespace do not matter; anything else
 * is hashed as bytes. `undefined` when the body is larger than `maxBodyBytes` (then nothing was
 * hashed).
 */
function requestFingerprint(exchange: HttpExchange, body: unknown, maxBodyBytes: number): string | undefined {
  const head = exchange.method + '\n' + exchange.url + '\n';
  if (body instanceof Uint8Array || typeof body === 'string') {
    if (typeof body === 'string' ? textBytesOver(body, maxBodyBytes) : body.byteLength > maxBodyBytes) return undefined;
    if (body.length > 0 && isJson(exchange.header('content-type'))) {
      if (typeof body !== 'string') return jsonBytesFingerprint(head, body);
      try {
        return sha256(head + 'j' + canonicalParsedJson(JSON.parse(body)));
      } catch {
        // not JSON after all: hash the bytes
      }
    }
    return createHash('sha256')
      .update(head + 'b')
      .update(body)
      .digest('base64url');
  }
  if (body !== undefined && body !== null) {
    // Parsed by the framework, which read it whole: its canonical text is what gets hashed.
    const text = canonicalJson(body);
    if (textBytesOver(text, maxBodyBytes)) return undefined;
    return sha256(head + 'j' + text);
  }
  return sha256(head);
}

/** Whether `text` takes more than `max` bytes in UTF-8, counted only when its length leaves a doubt. */
function textBytesOver(text: string, max: number): boolean {
  if (text.length > max) return true; // at least one byte per UTF-16 unit
  if (text.length * 3 <= max) return false; // at most three per unit
  return Buffer.byteLength(text, 'utf8') > max;
}

/** `bytes` as a Buffer over the same memory (no copy), for Buffer's decoders. */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function latin1(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('latin1');
}

/** The canonical fingerprint of a raw JSON body (or of its bytes, when it is not JSON after all). */
function jsonBytesFingerprint(head: string, body: Uint8Array): string {
  // Already canonical (the common case for a client that serialises sorted, compact JSON):
  // the bytes are the canonical text, ASCII, so no UTF-8 decoding, parsing or re-writing.
  if (isCanonicalJsonBytes(body)) return sha256(head + 'j' + latin1(body));
  // JSON text is UTF-8 (RFC 8259). Other bytes (a client writing Latin-1) would decode with U+FFFD
  // in place of whatever differs, and two different bodies would look the same: hash them as bytes.
  if (isUtf8(body)) {
    try {
      return sha256(head + 'j' + canonicalParsedJson(JSON.parse(bufferOf(body).toString('utf8'))));
    } catch {
      // not JSON after all
    }
  }
  return createHash('sha256')
    .update(head + 'b')
    .update(body)
    .digest('base64url');
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
 * - 413 `IDEMPOTENCY_BODY_TOO_LARGE`: the body is larger than `maxBodyBytes` (not hashed, run
 *   or stored);
 * - 503 `SERVICE_UNAVAILABLE` with `Retry-After`: the store is unreachable or did not answer
 *   within the instance's `storeTimeout` (the handler did not run);
 * - 503 `IDEMPOTENCY_NOT_STORED` with `Retry-After` (with `holdUntilStored`, the default): the
 *   handler ran but its response could not be stored before the lease would lapse. Its response
 *   is held until the record is stored (`next({ holdResponse: true })`, on every adapter), so it
 *   never reaches the client then: a retry runs the handler again, and its answer is the only
 *   successful one any client saw. The held body is buffered whole (see `holdResponse`).
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
 *   const payment = await payments.charge(req.body); // runs once per key
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
  if (options.scope !== undefined && typeof options.scope !== 'function')
    throw invalidArgument('scope', 'a function (exchange) => string | undefined', options.scope);
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
  const maxBodyBytes = integerOption(options.maxBodyBytes, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES, { min: 0, max: 2 ** 40 });
  const bodyTooLarge = problemResponse(new IdempotencyBodyTooLargeError(maxBodyBytes));
  const tooLong = new KeyProblem(`The Idempotency-Key header is longer than ${maxKeyLength} characters.`);
  const outcome = idempotency.holdUntilStored ? HELD_OUTCOME : HANDLER_OUTCOME;

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
    // A declared length over the limit is refused before the body is read at all.
    const declared = exchange.header('content-length');
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      exchange.respond(bodyTooLarge);
      return;
    }
    const scope = scopeOf === undefined ? undefined : scopeOf(exchange);
    // The body is awaited here and hashed synchronously: one promise and one hop fewer per request.
    const fingerprint = requestFingerprint(exchange, await exchange.body(), maxBodyBytes);
    // Answered while the body was read (an outer timeout): the key is not even taken.
    if (exchange.responded) return;
    if (fingerprint === undefined) {
      exchange.respond(bodyTooLarge);
      return;
    }
    let ran = false;
    let acquiring = true;
    let response: StoredResponse;
    try {
      const running = idempotency.run<StoredResponse>(
        key,
        async () => {
          // A handler never starts after its request was answered or its client left: an
          // acquire that landed late (a slow store) gives the key back and stores nothing.
          if (exchange.responded || (!acquiring && exchange.aborted)) throw new ReleaseWithoutStoring();
          ran = true;
          // The handler's own response once it has settled: a key stays in progress until then,
          // whoever answered the client first, and what it really did is what gets stored.
          // With holdUntilStored it is held, not sent: it goes out once stored (or as a 5xx not
          // to be stored), when this middleware returns without answering.
          const result = await next(outcome);
          if (result.status >= 500 && !storeServerErrors) throw new ReleaseWithoutStoring();
          return toStored(result);
        },
        { fingerprint, scope, wait },
      );
      acquiring = false;
      response = await running;
    } catch (err) {
      if (err instanceof ReleaseWithoutStoring) return; // the 5xx already went out; the key is free again
      if (err instanceof IdempotencyNotStoredError) {
        // The handler ran but its response could not be stored (holdUntilStored): it was held,
        // and a 503 goes out in its place, so that this response and a retry's can never be two
        // different successes.
        if (!exchange.responded) exchange.respond(problemResponse(err));
        return;
      }
      if (!ran && isHeadroomError(err) && !exchange.responded) {
        exchange.respond(problemResponse(err));
        return;
      }
      throw err;
    }
    if (!ran) exchange.respond(replay(response));
  };
}
