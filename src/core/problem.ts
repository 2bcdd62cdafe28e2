import { HeadroomError, invalidArgument } from './errors.js';
import type { HttpResponse } from './http.js';

/** The fields of an RFC 9457 problem document as headroom writes it. */
export interface ProblemDetails {
  /**
   * A URI naming the problem type: `about:blank` by default (RFC 9457's "no more than the status
   * says"; branch on `code`), or the base set with {@link setProblemTypeBase} followed by the
   * code in kebab case (`https://docs.example.com/errors/queue-full`).
   */
  type: string;
  /** A short summary of the problem type. */
  title: string;
  /** The HTTP status. */
  status: number;
  /** The stable error code (see {@link headroom!ErrorCode}). */
  code: string;
  /** What went wrong in this occurrence. */
  detail?: string;
  /** Further members, e.g. `timeoutMs`. */
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Where problem types point; `undefined` for `about:blank`. */
let typeBase: string | undefined;

/**
 * Points the `type` of every problem response headroom writes at your own documentation: `base`
 * followed by the code in kebab case (`QUEUE_FULL` becomes `${base}queue-full`). Default, and
 * with `undefined`: `about:blank`, the type RFC 9457 defines for a problem that means no more
 * than its status (`code` still tells them apart). Call it once at startup, before building the
 * middlewares: some build their answers once (`degradedHeaders`).
 *
 * @param base - an absolute URI (`https:`, `tag:`, `urn:` with a namespace you own...), usually
 *   ending in `/` or `#`; `undefined` goes back to `about:blank`.
 * @throws `INVALID_ARGUMENT` for anything but an absolute URI without spaces.
 * @example
 * ```ts
 * import { setProblemTypeBase } from 'headroom/http';
 * setProblemTypeBase('https://docs.example.com/errors/');
 * // {"type":"https://docs.example.com/errors/queue-full","title":"Service Unavailable","status":503,"code":"QUEUE_FULL",...}
 * ```
 */
export function setProblemTypeBase(base: string | undefined): void {
  if (base !== undefined && (typeof base !== 'string' || !/^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/.test(base))) {
    throw invalidArgument('base', 'an absolute URI such as "https://docs.example.com/errors/"', base);
  }
  typeBase = base;
}

/**
 * The problem `type` for `code`: `about:blank`, or the base set with {@link setProblemTypeBase}
 * and the code in kebab case.
 *
 * @example
 * ```ts
 * problemType('QUEUE_FULL'); // 'about:blank', or 'https://docs.example.com/errors/queue-full'
 * ```
 */
export function problemType(code: string): string {
  return typeBase === undefined ? 'about:blank' : typeBase + code.toLowerCase().replace(/_/g, '-');
}

/**
 * Builds an `application/problem+json` response (RFC 9457) for `error`: a {@link HeadroomError}
 * (its `status`, `code` and message; `retryAfterMs` becomes `Retry-After` in whole seconds) or
 * the fields of a problem given directly.
 *
 * @example
 * ```ts
 * exchange.respond(problemResponse(new HeadroomError(ErrorCode.SERVICE_UNAVAILABLE, 'the database is down', { status: 503, retryAfterMs: 5_000 })));
 * exchange.respond(problemResponse({ status: 400, code: 'INVALID_ARGUMENT', detail: 'Idempotency-Key is empty' }));
 * ```
 */
export function problemResponse(
  error: HeadroomError | { status: number; code: string; title?: string; detail?: string; retryAfterMs?: number; extensions?: Record<string, unknown> },
): HttpResponse {
  const status = error.status;
  const body: ProblemDetails = {
    type: problemType(error.code),
    title: (error instanceof HeadroomError ? undefined : error.title) ?? TITLES[status] ?? 'Error',
    status,
    code: error.code,
  };
  const detail = error instanceof HeadroomError ? error.message : error.detail;
  if (detail !== undefined) body.detail = detail;
  if (!(error instanceof HeadroomError) && error.extensions !== undefined) Object.assign(body, error.extensions);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (error.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return { status, headers, body: JSON.stringify(body), code: error.code };
}
