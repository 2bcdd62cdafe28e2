import { HeadroomError } from './errors.js';
import type { HttpResponse } from './http.js';

/** The fields of an RFC 9457 problem document as headroom writes it. */
export interface ProblemDetails {
  /** A URI naming the problem type: `urn:headroom:error:<code>` for headroom's own codes. */
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

/** `urn:headroom:error:queue-full` for `QUEUE_FULL`. */
export function problemType(code: string): string {
  return `urn:headroom:error:${code.toLowerCase().replace(/_/g, '-')}`;
}

/**
 * Builds an `application/problem+json` response (RFC 9457) for `error`: a {@link HeadroomError}
 * (its `status`, `code` and message; `retryAfterMs` becomes `Retry-After` in whole seconds) or
 * the fields of a problem given directly.
 *
 * @example
 * ```ts
 * exchange.respond(problemResponse(new QueueFullError(...)));
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
  return { status, headers, body: JSON.stringify(body) };
}
