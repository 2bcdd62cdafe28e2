import { ErrorCode, HeadroomError, describe } from '../core/index.js';

/**
 * A duplicate arrived while the first call with the same key was still running (and `wait` was
 * not given, or ran out). `code` is `IDEMPOTENCY_IN_PROGRESS`, `status` 409, and `retryAfterMs`
 * suggests when to try again; the HTTP middleware answers 409 with `Retry-After`.
 *
 * @example
 * ```ts
 * try {
 *   await idempotency.run(key, charge);
 * } catch (err) {
 *   if (err instanceof IdempotencyInProgressError) res.status(409).set('Retry-After', '1').end();
 * }
 * ```
 */
export class IdempotencyInProgressError extends HeadroomError {
  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string, retryAfterMs: number) {
    super(
      ErrorCode.IDEMPOTENCY_IN_PROGRESS,
      `headroom: a request with idempotency key ${describe(key)} is still in progress; retry later`,
      { status: 409, retryAfterMs },
    );
    this.name = 'IdempotencyInProgressError';
    this.key = key;
  }
}

/**
 * The key was used before with a different payload (the fingerprints differ): the client reused a
 * key for another request, which is a client bug. `code` is `IDEMPOTENCY_KEY_REUSED`, `status` 422.
 *
 * @example
 * ```ts
 * if (isHeadroomError(err, 'IDEMPOTENCY_KEY_REUSED')) res.status(422).json({ error: err.message });
 * ```
 */
export class IdempotencyKeyReusedError extends HeadroomError {
  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string) {
    super(
      ErrorCode.IDEMPOTENCY_KEY_REUSED,
      `headroom: idempotency key ${describe(key)} was already used with a different request payload`,
      { status: 422 },
    );
    this.name = 'IdempotencyKeyReusedError';
    this.key = key;
  }
}

/**
 * The abort reason of the operation's `signal` when its lease was lost: the lease could not be
 * renewed in time (process stalled, store unreachable), so another caller may run the same key.
 * `code` is `IDEMPOTENCY_LEASE_LOST`, `status` 409.
 *
 * @example
 * ```ts
 * await idempotency.run(key, async ({ signal }) => {
 *   await longExport({ signal }); // stops when the lease is lost
 * });
 * ```
 */
export class IdempotencyLeaseLostError extends HeadroomError {
  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string) {
    super(
      ErrorCode.IDEMPOTENCY_LEASE_LOST,
      `headroom: the lease on idempotency key ${describe(key)} was lost while the operation ran`,
      { status: 409 },
    );
    this.name = 'IdempotencyLeaseLostError';
    this.key = key;
  }
}
