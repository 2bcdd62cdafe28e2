import { brandError, ErrorCode, HeadroomError } from '../core/index.js';

/** Options for {@link RateLimitedError}. */
export interface RateLimitedErrorOptions {
  /** Milliseconds until a retry would be allowed. */
  retryAfterMs: number;
  /** The names of the limits that refused. Default none. */
  policies?: readonly string[];
  /** The message. Default names the limits and the wait. */
  message?: string;
}

/**
 * A rate limit refused the request. `code` is `RATE_LIMITED`, `status` 429, `retryAfterMs` the
 * wait (the HTTP adapters and `problemResponse` turn it into `Retry-After` in whole seconds).
 * {@link RateLimiter.take} answers a refusal with `allowed: false` rather than throwing; throw this
 * where your code prefers an error.
 *
 * @example
 * ```ts
 * const result = await limiter.take(`account:${account.id}`);
 * if (!result.allowed) throw new RateLimitedError({ retryAfterMs: result.retryAfterMs, policies: [limiter.name] });
 * ```
 */
export class RateLimitedError extends HeadroomError {
  static {
    brandError(this, 'RateLimitedError');
  }

  /** The names of the limits that refused. */
  readonly policies: readonly string[];

  constructor(options: RateLimitedErrorOptions) {
    const policies = Object.freeze([...(options.policies ?? [])]);
    const seconds = Math.max(1, Math.ceil(options.retryAfterMs / 1000));
    super(
      ErrorCode.RATE_LIMITED,
      options.message ?? `headroom: rate limited${policies.length > 0 ? ` by ${policies.join(', ')}` : ''}; retry in ${seconds} s`,
      { status: 429, retryAfterMs: options.retryAfterMs },
    );
    this.name = 'RateLimitedError';
    this.policies = policies;
  }
}

/** The rejection of a check whose store failed under `onStoreError: 'deny'`. @internal */
export function storeUnavailable(name: string, cause: unknown): HeadroomError {
  return new HeadroomError(ErrorCode.SERVICE_UNAVAILABLE, `headroom: the rate limit store of "${name}" is unavailable`, {
    status: 503,
    retryAfterMs: 1000,
    cause,
  });
}
