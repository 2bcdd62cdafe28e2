import { brandError, ErrorCode, HeadroomError, describe } from '../core/index.js';

/**
 * A duplicate arrived while the first call with the same key was still running (and `wait` was
 * not given, or ran out). `code` is `IDEMPOTENCY_IN_PROGRESS`, `status` 409, and `retryAfterMs`
 * suggests when to try again; the HTTP middleware answers 409 with `Retry-After`.
 *
 * @example
 * ```ts
 * try {
 *   await idempotency.run(key, () => payments.charge(order));
 * } catch (err) {
 *   if (err instanceof IdempotencyInProgressError) res.status(409).set('Retry-After', '1').end();
 * }
 * ```
 */
export class IdempotencyInProgressError extends HeadroomError {
  static {
    brandError(this, 'IdempotencyInProgressError');
  }

  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string, retryAfterMs: number) {
    super(ErrorCode.IDEMPOTENCY_IN_PROGRESS, `headroom: a request with idempotency key ${describe(key)} is still in progress; retry later`, {
      status: 409,
      retryAfterMs,
    });
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
  static {
    brandError(this, 'IdempotencyKeyReusedError');
  }

  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string) {
    super(ErrorCode.IDEMPOTENCY_KEY_REUSED, `headroom: idempotency key ${describe(key)} was already used with a different request payload`, { status: 422 });
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
 *   await renderReport(order, { signal }); // stops when the lease is lost
 * });
 * ```
 */
export class IdempotencyLeaseLostError extends HeadroomError {
  static {
    brandError(this, 'IdempotencyLeaseLostError');
  }

  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string) {
    super(ErrorCode.IDEMPOTENCY_LEASE_LOST, `headroom: the lease on idempotency key ${describe(key)} was lost while the operation ran`, { status: 409 });
    this.name = 'IdempotencyLeaseLostError';
    this.key = key;
  }
}

/**
 * The operation ran, but its result could not be stored before its lease would lapse: every
 * `complete` failed or timed out (the store was out of reach), or another holder had taken the
 * key. With `holdUntilStored` (the default) the result is then not handed out, so that no two
 * callers ever get two different successful answers for one key. `code` is
 * `IDEMPOTENCY_NOT_STORED`, `status` 503, `retryAfterMs` 1000; the HTTP middleware answers 503
 * problem+json with `Retry-After` where the response has not gone out yet.
 *
 * The operation's effects happened: a retry after this may run it again (once the lease lapses),
 * and its answer is the only successful one.
 *
 * @example
 * ```ts
 * try {
 *   await idempotency.run(key, () => payments.charge(order));
 * } catch (err) {
 *   if (err instanceof IdempotencyNotStoredError) log.error({ key: err.key }, 'charged, result not stored');
 * }
 * ```
 */
export class IdempotencyNotStoredError extends HeadroomError {
  static {
    brandError(this, 'IdempotencyNotStoredError');
  }

  /** The idempotency key (without its scope). */
  readonly key: string;

  constructor(key: string, cause?: unknown) {
    super(ErrorCode.IDEMPOTENCY_NOT_STORED, `headroom: the result for idempotency key ${describe(key)} could not be stored; it is not answered, retry later`, {
      status: 503,
      retryAfterMs: 1000,
      cause,
    });
    this.name = 'IdempotencyNotStoredError';
    this.key = key;
  }
}

/**
 * A request carrying an `Idempotency-Key` had a body larger than the middleware's
 * `maxBodyBytes`: it is answered 413 problem+json without being hashed, run or stored. `code` is
 * `IDEMPOTENCY_BODY_TOO_LARGE`, `status` 413.
 *
 * @example
 * ```ts
 * if (isHeadroomError(err, 'IDEMPOTENCY_BODY_TOO_LARGE')) res.status(413).end();
 * ```
 */
export class IdempotencyBodyTooLargeError extends HeadroomError {
  static {
    brandError(this, 'IdempotencyBodyTooLargeError');
  }

  /** The limit that was passed, in bytes. */
  readonly maxBodyBytes: number;

  constructor(maxBodyBytes: number) {
    super(ErrorCode.IDEMPOTENCY_BODY_TOO_LARGE, `headroom: the request body is larger than ${maxBodyBytes} bytes, the most an idempotent request may carry`, {
      status: 413,
    });
    this.name = 'IdempotencyBodyTooLargeError';
    this.maxBodyBytes = maxBodyBytes;
  }
}
