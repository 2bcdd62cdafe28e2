/** HTTP statuses that say "try again later": too many requests, bad gateway, unavailable, gateway timeout. */
const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

/**
 * Our own codes for load and slowness, which pass, and a duplicate request that arrived while
 * the first was running (a later attempt gets the first one's answer). A breaker's CIRCUIT_OPEN
 * is left out on purpose.
 */
const TRANSIENT_CODES = new Set(['QUEUE_FULL', 'OPERATION_TIMEOUT', 'SERVICE_UNAVAILABLE', 'IDEMPOTENCY_IN_PROGRESS']);

/** Socket and DNS failures of Node, undici (fetch) and ioredis that a new attempt may not meet. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface ErrorFields {
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  name?: unknown;
  cause?: unknown;
  retryAfterMs?: unknown;
  headers?: unknown;
  response?: { status?: unknown; headers?: unknown };
}

function statusOf(error: ErrorFields): number | undefined {
  const status = error.status ?? error.statusCode ?? error.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * True for failures a new attempt may not meet: network errors (`ECONNRESET`, `ECONNREFUSED`,
 * `ETIMEDOUT`, undici's socket errors, also as the `cause` of fetch's `TypeError`), HTTP 429,
 * 502, 503 and 504 (read from `status`, `statusCode` or `response.status`), headroom's
 * `QUEUE_FULL`, `OPERATION_TIMEOUT` and `SERVICE_UNAVAILABLE`, and `IDEMPOTENCY_IN_PROGRESS`
 * (the first request with that key is still running: a later attempt gets its answer, which is
 * why it carries `retryAfterMs`). Never any other 4xx, never an
 * abort (`AbortError`: someone gave up on purpose), and never `CIRCUIT_OPEN`: an open breaker
 * exists to fail fast, and retrying it would turn its answer back into load.
 *
 * It is {@link RetryPolicy}'s default `retryOn`; call it from your own to widen or narrow it.
 *
 * @example
 * ```ts
 * const retry = new RetryPolicy({
 *   retryOn: (error) => isTransientFailure(error) || (error as { code?: string }).code === 'P1001', // Prisma: db unreachable
 * });
 * ```
 */
export function isTransientFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const fields = error as ErrorFields;
  if (fields.name === 'AbortError') return false;
  const code = fields.code;
  if (typeof code === 'string') {
    if (code === 'CIRCUIT_OPEN') return false;
    if (TRANSIENT_CODES.has(code) || NETWORK_CODES.has(code)) return true;
  }
  const status = statusOf(fields);
  if (status !== undefined) return TRANSIENT_STATUS.has(status);
  // fetch() rejects with TypeError('fetch failed') whose cause carries the socket error.
  const cause = fields.cause as ErrorFields | undefined;
  if (typeof cause === 'object' && cause !== null && typeof cause.code === 'string') return NETWORK_CODES.has(cause.code);
  return false;
}

/**
 * Reads an HTTP `Retry-After` value (delay-seconds or an HTTP date) as milliseconds from `nowMs`
 * (wall clock), or `undefined` when it is neither. A date in the past gives 0.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')); // 60000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

function headerOf(headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const get = (headers as { get?: unknown }).get;
  if (typeof get === 'function') {
    const value: unknown = get.call(headers, 'retry-after');
    return typeof value === 'string' ? value : undefined;
  }
  const record = headers as Record<string, unknown>;
  const value = record['retry-after'] ?? record['Retry-After'];
  return typeof value === 'string' ? value : undefined;
}

/**
 * How long a failure asks the caller to wait before trying again, in milliseconds: its
 * `retryAfterMs` (headroom's errors), else a `Retry-After` header on `error.headers` or
 * `error.response.headers` (a `Headers` object or a plain record). `undefined` when it says nothing.
 *
 * @internal
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const fields = error as ErrorFields;
  const ms = fields.retryAfterMs;
  if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) return ms;
  return parseRetryAfter(headerOf(fields.headers) ?? headerOf(fields.response?.headers));
}
