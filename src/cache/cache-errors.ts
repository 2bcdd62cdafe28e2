import { ErrorCode, HeadroomError } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';

/**
 * Every error the cache makes on purpose, in one place. The ones a caller can receive (a bad
 * key, a value that cannot be stored, a closed cache) reject the call; the others are reported
 * by the `error` event only (the cache fails open: Redis trouble never reaches a caller).
 * All are {@link HeadroomError}s with a stable `code`.
 */

/** `CLOSED` (503): a call after `close()`, and the reason running factories' signals are aborted with. */
export function cacheClosed(): HeadroomError {
  return new HeadroomError(ErrorCode.CLOSED, 'headroom cache: the cache is closed', { status: 503 });
}

/** `CACHE_KEY_INVALID` (400): `key` is not a non-empty string of at most `maxKeyLength`. */
export function invalidKey(key: unknown, maxKeyLength: number): HeadroomError {
  const got = typeof key === 'string' ? `a string of ${key.length}` : typeof key;
  return new HeadroomError(ErrorCode.CACHE_KEY_INVALID, `headroom cache: a key must be a non-empty string of at most ${maxKeyLength} characters; got ${got}`, {
    status: 400,
  });
}

/** `CACHE_INVALID_VALUE` (500): `set(key, undefined)`. */
export function undefinedValue(key: string): HeadroomError {
  return new HeadroomError(ErrorCode.CACHE_INVALID_VALUE, `headroom cache: cannot store undefined under "${key}"; use delete()`, { status: 500 });
}

/** `CACHE_INVALID_VALUE` (500): the serializer could not encode the value of `key`. */
export function unserializableValue(key: string, cause: unknown): HeadroomError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new HeadroomError(ErrorCode.CACHE_INVALID_VALUE, `headroom cache: the value of "${key}" cannot be serialized: ${reason}`, { status: 500, cause });
}

/** `CACHE_ENTRY_UNREADABLE`: a stored entry is not an envelope the cache wrote (see envelope.ts). */
export function unreadableEntry(reason: string, cause?: unknown): HeadroomError {
  return new HeadroomError(ErrorCode.CACHE_ENTRY_UNREADABLE, `headroom cache: unreadable entry in Redis: ${reason}`, { cause });
}

/** `CACHE_BUS_UNREADABLE`: a bus message or catch-up log reply the cache cannot read. */
export function unreadableBus(what: string): HeadroomError {
  return new HeadroomError(ErrorCode.CACHE_BUS_UNREADABLE, `headroom cache: ${what}`);
}

/** `CACHE_INVALIDATION_INCOMPLETE`: a `SCAN` + `UNLINK` sweep failed part way. */
export function incompleteInvalidation(): HeadroomError {
  return new HeadroomError(ErrorCode.CACHE_INVALIDATION_INCOMPLETE, 'headroom cache: SCAN/UNLINK failed; some keys may remain in Redis');
}

/** `OPERATION_TIMEOUT` (504): an L2 call passed `l2Timeout` (`operation`: get, set, mget...). */
export function l2Timeout(operation: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(timeoutMs, `cache L2 ${operation}`);
}

/** `OPERATION_TIMEOUT` (504): a factory passed `factoryTimeout.hard`. */
export function factoryTimeout(key: string, timeoutMs: number): TimeoutError {
  return new TimeoutError(timeoutMs, `cache factory for "${key}"`);
}
