import { randomUUID } from 'node:crypto';
import { functionArgument, invalidArgument, objectArgument } from '../core/index.js';
import type { ExecuteContext, Policy } from './policy.js';
import { RetryPolicy } from './retry-policy.js';

/** A `fetch`: the global one, undici's, or any function of the same shape. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Options of {@link retryingFetch}. */
export interface RetryingFetchOptions {
  /**
   * The policy every request runs under: a {@link RetryPolicy}, or a {@link pipeline} with a
   * breaker, a per-attempt timeout and a budget. Default `new RetryPolicy()`.
   */
  policy?: Policy<unknown>;
  /**
   * Makes the `Idempotency-Key` of a POST or PATCH sent without one. Default `randomUUID`.
   * `false`: add none, and send such requests once (retrying them without a key could run them
   * twice).
   */
  idempotencyKey?: (() => string) | false;
  /** The header's name. Default `'Idempotency-Key'`. */
  header?: string;
}

/** Statuses worth another attempt: too many requests, bad gateway, unavailable, gateway timeout. */
const RETRY_STATUS = new Set([429, 502, 503, 504]);

/**
 * An answer that asks for another attempt, as the policy sees it: 429, 502, 503 or 504, or the
 * idempotency middleware's 409 `IDEMPOTENCY_IN_PROGRESS` (the first attempt is still running).
 * `status`, `code` and `headers` let {@link isTransientFailure} classify it and the retry honour
 * `Retry-After`. When the policy gives up on it, {@link retryingFetch} resolves with `response`
 * (fetch's usual contract: an HTTP error is an answer, not a rejection).
 *
 * @example
 * ```ts
 * const retry = new RetryPolicy({ retryOn: (e) => e instanceof RetryableResponseError && e.status === 503 });
 * ```
 */
export class RetryableResponseError extends Error {
  /** The response's status. */
  readonly status: number;
  /** `'IDEMPOTENCY_IN_PROGRESS'` for the idempotency middleware's 409, else `undefined`. */
  readonly code: string | undefined;
  /** The response's headers (`Retry-After` among them). */
  readonly headers: Headers;

  constructor(
    /** The response, its body unread. */
    readonly response: Response,
    code?: string,
  ) {
    super(`headroom: HTTP ${response.status} from ${response.url || 'fetch'}`);
    this.name = 'RetryableResponseError';
    this.status = response.status;
    this.code = code;
    this.headers = response.headers;
  }
}

/** A 409 from headroom's idempotency middleware: the first attempt with this key is still running. */
async function inProgress(response: Response): Promise<boolean> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return false;
  try {
    const body = (await response.clone().json()) as { code?: unknown } | null;
    return body?.code === 'IDEMPOTENCY_IN_PROGRESS';
  } catch {
    return false;
  }
}

/** Bodies that can be sent again as they are (a stream can be read once only). */
function replayable(body: RequestInit['body'] | undefined): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData
  );
}

/**
 * Wraps `fetch` so that every request runs under a retry policy, the client side of the
 * idempotency pattern: a POST or PATCH gets one `Idempotency-Key` (unless it has one already)
 * that **every attempt reuses**, so a server behind headroom's `idempotencyMiddleware` runs the
 * operation once and answers the retries with the first result, even when the first attempt's
 * answer was lost on the way back.
 *
 * Network errors and 429/502/503/504 answers are retried (honouring `Retry-After`), as is the
 * middleware's 409 `IDEMPOTENCY_IN_PROGRESS`; when the policy gives up on an HTTP answer, the
 * last response is returned as fetch would; network failures reject. Each attempt gets the
 * policy's signal, which follows `init.signal`; bodies of responses that are retried are
 * cancelled. A request whose body is a stream is sent once (it cannot be read twice).
 *
 * @param fetch - the `fetch` to wrap (`globalThis.fetch`, undici's...).
 * @param options - {@link RetryingFetchOptions}.
 * @example
 * ```ts
 * const budget = new RetryBudget();
 * const payFetch = retryingFetch(fetch, {
 *   policy: pipeline(new RetryPolicy({ maxAttempts: 4, budget }), new TimeoutPolicy('2s')),
 * });
 * const res = await payFetch('https://payments.internal/charges', { method: 'POST', body: JSON.stringify(order), headers: { 'content-type': 'application/json' } });
 * ```
 */
export function retryingFetch(fetch: FetchFunction, options: RetryingFetchOptions = {}): FetchFunction {
  functionArgument(fetch, 'fetch');
  objectArgument(options, 'options');
  const policy = options.policy ?? new RetryPolicy();
  if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
    throw invalidArgument('policy', 'a policy (an object with execute(fn, options))', policy);
  }
  const makeKey = options.idempotencyKey ?? randomUUID;
  if (makeKey !== false && typeof makeKey !== 'function') throw invalidArgument('idempotencyKey', 'a function returning a key, or false', makeKey);
  const header = options.header ?? 'Idempotency-Key';
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw invalidArgument('header', 'an HTTP header name', header);

  return async (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers ?? request?.headers);
    const unsafe = method === 'POST' || method === 'PATCH';
    if (unsafe && !headers.has(header) && makeKey !== false) headers.set(header, makeKey());
    const once = (unsafe && !headers.has(header)) || !replayable(init?.body) || (init?.body === undefined && request?.bodyUsed === true);
    if (once) return fetch(input, init);

    let previous: Response | undefined;
    const attempt = async ({ signal }: ExecuteContext): Promise<Response> => {
      if (previous !== undefined) {
        // The connection is freed only once the body is read or cancelled.
        void previous.body?.cancel().catch(() => undefined);
        previous = undefined;
      }
      const response = await fetch(request === undefined || init?.body !== undefined ? input : request.clone(), { ...init, headers, signal });
      const status = response.status;
      if (RETRY_STATUS.has(status)) throw new RetryableResponseError((previous = response));
      if (status === 409 && response.headers.has('retry-after') && (await inProgress(response))) {
        throw new RetryableResponseError((previous = response), 'IDEMPOTENCY_IN_PROGRESS');
      }
      return response;
    };
    const signal = init?.signal ?? request?.signal ?? undefined;
    try {
      return (await policy.execute(attempt, signal === undefined || signal === null ? undefined : { signal })) as Response;
    } catch (error) {
      if (error instanceof RetryableResponseError) return error.response;
      throw error;
    }
  };
}
