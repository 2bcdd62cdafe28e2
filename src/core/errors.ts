/**
 * The stable error codes headroom throws. Branch on these, never on messages.
 *
 * The list grows as modules land; a code, once published, keeps its meaning.
 */
export const ErrorCode = {
  /** An option or argument is malformed (bad duration, wrong type, out of range). HTTP 400. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** An operation ran past its deadline. HTTP 504. */
  OPERATION_TIMEOUT: 'OPERATION_TIMEOUT',
  /** A bounded queue had `maxSize` tasks waiting and refused another. HTTP 503. */
  QUEUE_FULL: 'QUEUE_FULL',
  /** A queue was closed and refused the task. HTTP 503. */
  QUEUE_CLOSED: 'QUEUE_CLOSED',
  /** A duplicate request arrived while the first was still running. HTTP 409. */
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  /** An idempotency key was reused with a different request payload. HTTP 422. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** A request needed an idempotency key and had none, or had a malformed one. HTTP 400. */
  IDEMPOTENCY_KEY_INVALID: 'IDEMPOTENCY_KEY_INVALID',
  /** The lease on an idempotency key lapsed or was taken over while the operation still ran. HTTP 409. */
  IDEMPOTENCY_LEASE_LOST: 'IDEMPOTENCY_LEASE_LOST',
  /**
   * An idempotent operation ran but its result could not be stored before its lease would lapse
   * (the store failed or stayed out of reach), so it is not answered: a retry may run it again.
   * HTTP 503.
   */
  IDEMPOTENCY_NOT_STORED: 'IDEMPOTENCY_NOT_STORED',
  /** A request body was larger than the idempotency middleware's `maxBodyBytes`. HTTP 413. */
  IDEMPOTENCY_BODY_TOO_LARGE: 'IDEMPOTENCY_BODY_TOO_LARGE',
  /** A cache key or value could not be stored (bad key, value the serializer cannot encode). */
  CACHE_INVALID_VALUE: 'CACHE_INVALID_VALUE',
  /** A cache key is not a non-empty string within the cache's `maxKeyLength`. HTTP 400. */
  CACHE_KEY_INVALID: 'CACHE_KEY_INVALID',
  /**
   * An entry read from Redis is not in the format the cache writes (corrupt, foreign, or written
   * with another serializer setting). Reported by the cache's `error` event; the read is a miss.
   */
  CACHE_ENTRY_UNREADABLE: 'CACHE_ENTRY_UNREADABLE',
  /**
   * A bus message or a catch-up log reply is not in the format the cache writes. Reported by the
   * cache's `error` event (operation `bus`); the message is ignored.
   */
  CACHE_BUS_UNREADABLE: 'CACHE_BUS_UNREADABLE',
  /**
   * `clear()` or `invalidatePattern()` could not delete every matching key in Redis (a `SCAN` or
   * `UNLINK` failed or timed out). Reported by the cache's `error` event, never thrown.
   */
  CACHE_INVALIDATION_INCOMPLETE: 'CACHE_INVALIDATION_INCOMPLETE',
  /** A rate limit refused the request; `retryAfterMs` says when to come back. HTTP 429. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A service is shutting down or unhealthy and refused the request. HTTP 503. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** The instance was closed and can no longer be used. */
  CLOSED: 'CLOSED',
  /** The caller may not see this resource (a dashboard's `authorize` said no). HTTP 403. */
  FORBIDDEN: 'FORBIDDEN',
  /** A circuit breaker is open and refused the call without trying it. HTTP 503. */
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Extra fields for {@link HeadroomError}. */
export interface HeadroomErrorOptions {
  /** The HTTP status a handler should answer with. Default `500`. */
  status?: number;
  /** How long a client should wait before retrying, where a retry makes sense. */
  retryAfterMs?: number;
  /** The underlying error (ES2022 error cause). */
  cause?: unknown;
}

/** The brand of each headroom error class, by class (one map per copy of headroom). */
const brands = new WeakMap<object, symbol>();

/**
 * Gives `errorClass` a brand, so that `instanceof errorClass` also holds for errors made by
 * another copy of headroom in the process: the ESM and CommonJS builds each have their own
 * classes, and a service that both `import`s and `require`s headroom (common in monorepos) holds
 * both. The brand is a registered symbol (`Symbol.for('headroom.error.<name>')`, the same in every
 * copy) set on the class's prototype, so instances carry it at no cost; {@link HeadroomError}'s
 * `Symbol.hasInstance` checks it. Call it from the class's static block. A subclass without a
 * brand (your own) gets the ordinary prototype check.
 *
 * @internal
 */
export function brandError(errorClass: abstract new (...args: never[]) => HeadroomError, name: string): void {
  const brand = Symbol.for(`headroom.error.${name}`);
  Object.defineProperty(errorClass.prototype, brand, { value: true });
  brands.set(errorClass, brand);
}

/**
 * The base class of every error headroom throws on purpose.
 *
 * `code` is stable and meant for branching; `status` is the HTTP status a handler should answer
 * with; `retryAfterMs`, when present, becomes `Retry-After` in the HTTP adapters.
 *
 * @example
 * ```ts
 * try {
 *   await queue.add(work);
 * } catch (err) {
 *   if (isHeadroomError(err, 'QUEUE_FULL')) res.status(err.status).set('Retry-After', '1').end();
 *   else throw err;
 * }
 * ```
 */
export class HeadroomError extends Error {
  static {
    brandError(this, 'HeadroomError');
  }

  /**
   * `err instanceof HeadroomError` (or any headroom error class) holds for errors of this class
   * made by any copy of headroom in the process (its ESM and CommonJS builds, two installed
   * versions): they carry the class's registered brand. Classes without a brand (subclasses you
   * write) are checked the ordinary way, by prototype.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    const brand = brands.get(this);
    if (brand === undefined) return Function.prototype[Symbol.hasInstance].call(this, instance);
    return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[brand] === true;
  }

  /** Stable machine-readable code, one of {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** The HTTP status a handler should answer with. */
  readonly status: number;
  /** Suggested wait before a retry, in milliseconds, when a retry makes sense. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: HeadroomErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeadroomError';
    this.code = code;
    this.status = options.status ?? 500;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Thrown when an option or argument is malformed. `code` is `INVALID_ARGUMENT`, `status` 400,
 * and `argument` names the option at fault.
 *
 * @example
 * ```ts
 * import { TaskQueue } from 'headroom/queue';
 *
 * try { new TaskQueue({ maxSize: -1 }); } catch (err) {
 *   if (isHeadroomError(err, 'INVALID_ARGUMENT')) console.error(err.message); // names maxSize
 * }
 * ```
 */
export class InvalidArgumentError extends HeadroomError {
  static {
    brandError(this, 'InvalidArgumentError');
  }

  /** The option or argument at fault, e.g. `'maxSize'` or `'options.timeout'`. */
  readonly argument: string;

  constructor(argument: string, message: string, options: Omit<HeadroomErrorOptions, 'status'> = {}) {
    super(ErrorCode.INVALID_ARGUMENT, message, { ...options, status: 400 });
    this.name = 'InvalidArgumentError';
    this.argument = argument;
  }
}

/**
 * True when `err` is a {@link HeadroomError}, and, when `code` is given, carries that code.
 *
 * Works across the package's subpath entry points and across ESM/CJS copies by checking the
 * shape (`code` and `status`) as well as the prototype.
 *
 * @example
 * ```ts
 * if (isHeadroomError(err, 'OPERATION_TIMEOUT')) reply.code(504);
 * ```
 */
export function isHeadroomError(err: unknown, code?: ErrorCode): err is HeadroomError {
  if (err instanceof HeadroomError) return code === undefined || err.code === code;
  if (typeof err !== 'object' || err === null || !(err instanceof Error)) return false;
  const candidate = err as Partial<HeadroomError>;
  if (typeof candidate.code !== 'string' || typeof candidate.status !== 'number') return false;
  if (!(candidate.code in ErrorCode)) return false;
  return code === undefined || candidate.code === code;
}

/** Describes a received value for error messages: `"5 minutes"`, `-1`, `null`, `a function`. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/**
 * Builds the {@link InvalidArgumentError} for option `name`, which should have been `expected`.
 *
 * @example
 * ```ts
 * throw invalidArgument('maxSize', 'a whole number >= 0', options.maxSize);
 * // headroom: maxSize must be a whole number >= 0; got -1
 * ```
 */
export function invalidArgument(name: string, expected: string, got: unknown): InvalidArgumentError {
  return new InvalidArgumentError(name, `headroom: ${name} must be ${expected}; got ${describe(got)}`);
}
