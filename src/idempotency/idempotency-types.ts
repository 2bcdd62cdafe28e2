import type { Duration } from '../core/index.js';
import type { IdempotencySerializer } from './outcome.js';
import type { IdempotencyStore } from './store.js';
// For TSDoc links only.
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- read by {@link} tags, which the linter does not see
import type { IdempotencyLeaseLostError, IdempotencyNotStoredError } from './errors.js';

/*
 * The public shapes of {@link Idempotency}: its options, what a call and its operation receive,
 * its events and its counters.
 */

/** Options for {@link Idempotency}. */
export interface IdempotencyOptions {
  /** Where records live: `MemoryIdempotencyStore`, `RedisIdempotencyStore`, or your own {@link IdempotencyStore}. */
  store: IdempotencyStore;
  /**
   * How long a completed result is kept and replayed. Default `'24h'` (Stripe's window). After it,
   * the key is free and a retry runs the operation again.
   */
  ttl?: Duration;
  /**
   * The in-flight lease: how long a key stays locked if its holder stops renewing it (crashed,
   * frozen, cut off from the store). Default `'30s'`. The lease is renewed every `lockTtl / 3`
   * while the operation runs, so operations may run longer than this. Shorter: a crashed
   * holder's key frees sooner; too short (under a few GC pauses or round trips): a live holder
   * can lose its lease and a duplicate runs concurrently.
   */
  lockTtl?: Duration;
  /**
   * Which errors thrown by the operation are stored and replayed (the duplicate rejects with a
   * copy: name, message, and own fields such as `code` and `status`), like Stripe stores the
   * outcome of a declined charge. Default: none - a failed operation releases its key and a retry
   * runs it again. Return `true` for failures that are final (validation, declined), not for
   * transient ones (timeouts, 503s).
   */
  storeErrors?: (error: unknown) => boolean;
  /** Encodes results for the store. Default: JSON (so results must be JSON-serializable). */
  serializer?: IdempotencySerializer;
  /**
   * The longest a call to the store may take (`acquire`, `complete`, `renew`, `release`), the
   * same idea as the cache's `l2Timeout`. Default `'1s'`. Past it:
   * - an `acquire` fails the call with `SERVICE_UNAVAILABLE` (503, `retryAfterMs` 1000): the
   *   operation does not run, and the HTTP middleware answers 503 problem+json with `Retry-After`;
   * - a `complete` is reported as an `error` event and tried again with backoff (from 25 ms,
   *   doubling, to 1 s) while the lease keeps being renewed, until the result is stored or the
   *   next try could not end before the lease lapses (see `holdUntilStored` for what the caller
   *   gets then);
   * - a `release` is reported as an `error` event (the record stays in progress until its lease
   *   lapses), a `renew` is reported and retried at the next renewal.
   *
   * The store's own call is not cancelled (ioredis cannot cancel a command): bound it in the
   * client too (`commandTimeout`), see the guide. An `acquire` that failed or timed out is
   * followed by a release of its lease token, sent after it, so that an acquire that lands late
   * leaves no lease nobody holds. Keep it well below `lockTtl`.
   */
  storeTimeout?: Duration;
  /**
   * Hand out an operation's result only once it is stored. Default `true`.
   *
   * - `true`: `run()` resolves when the record is stored (one `complete`, retried as described
   *   in `storeTimeout`). If it cannot be stored before the lease would lapse, `run()` rejects
   *   with {@link IdempotencyNotStoredError} (`IDEMPOTENCY_NOT_STORED`, 503) instead of the
   *   result: a retry may then run the operation again, and its answer is the only successful
   *   one. Two callers never receive two different successful answers for one key.
   * - `false`: `run()` resolves as soon as the operation returns, and the result is stored in
   *   the background (same retries). Saves the store round trip on the caller's latency, but a
   *   duplicate arriving meanwhile gets 409, and if storing fails a retry runs again and may
   *   answer differently.
   *
   * The default is `true` because one answer per key is what idempotency is for, and it costs
   * nothing on the common path: `run()` always waited for the `complete` round trip; only what
   * happens when it fails changed.
   */
  holdUntilStored?: boolean;
}

/** Options of {@link Idempotency.run}. */
export interface RunOptions {
  /**
   * A digest of the request payload (see `fingerprint()`). A duplicate whose fingerprint differs
   * from the first call's rejects with `IDEMPOTENCY_KEY_REUSED` (422). Missing counts as `''`.
   */
  fingerprint?: string;
  /**
   * The namespace of the key: the tenant, account or user the call acts for. The same key in two
   * scopes is two records, so one caller can never replay another's result.
   */
  scope?: string;
  /**
   * When the first call is still running, wait up to this long for its result (polling the store
   * with backoff from 10 ms to 250 ms) instead of rejecting at once with `IDEMPOTENCY_IN_PROGRESS`.
   * If the first call fails and releases the key meanwhile, or its lease lapses, this call runs
   * the operation itself. Default: do not wait.
   */
  wait?: Duration;
}

/** What the operation receives. */
export interface IdempotencyContext {
  /** The idempotency key, as given. */
  readonly key: string;
  /** The scope, as given. */
  readonly scope: string | undefined;
  /**
   * Aborted, with an {@link IdempotencyLeaseLostError}, when the lease could not be renewed: another
   * caller may now run the same key. Pass it to long work so that it stops.
   */
  readonly signal: AbortSignal;
}

/** The work {@link Idempotency.run} runs once per key. */
export type IdempotentOperation<T> = (context: IdempotencyContext) => Promise<T> | T;

/** The payload of the `error` event of {@link Idempotency}. */
export interface IdempotencyErrorEvent {
  /** What the store threw. */
  error: unknown;
  /** The idempotency key, as given to `run`. */
  key: string;
  /** The scope, as given to `run`. */
  scope: string | undefined;
  /** What was being done: storing the result, releasing the key, or renewing the lease. */
  phase: 'complete' | 'release' | 'renew';
}

/** The payload of the `lease-lost` event of {@link Idempotency}. */
export interface LeaseLostEvent {
  /** The idempotency key, as given to `run`. */
  key: string;
  /** The scope, as given to `run`. */
  scope: string | undefined;
}

/** Events of {@link Idempotency}. */
export interface IdempotencyEvents {
  /**
   * The store failed, or did not answer within `storeTimeout`, after the operation ran (storing
   * the result, each try once; releasing the key; renewing the lease) or while a lease taken by a
   * failed `acquire` was given back (`phase: 'release'`).
   */
  error: IdempotencyErrorEvent;
  /**
   * The lease was lost: a renewal found another holder or no record, or the result could not be
   * stored because another caller took the key. The operation may have run twice.
   */
  'lease-lost': LeaseLostEvent;
}

/** Counters of an {@link Idempotency}, from {@link Idempotency.stats}. Counts start at creation. */
export interface IdempotencyStats {
  /** Operations run: first calls of a key (or of an expired or released one). */
  executions: number;
  /** Duplicates answered with the stored outcome, without running the operation. */
  replays: number;
  /** Duplicates refused with `IDEMPOTENCY_IN_PROGRESS` (409) while the first call still ran. */
  conflicts: number;
  /** Calls refused with `IDEMPOTENCY_KEY_REUSED` (422): same key, another fingerprint. */
  keyReused: number;
  /** Calls refused with `SERVICE_UNAVAILABLE` (503) because the store could not be reached. */
  storeUnavailable: number;
  /** Operations running now under a lease held by this instance. */
  running: number;
  /**
   * `complete` calls tried again after one failed or passed `storeTimeout` (each retry counts
   * once). Non-zero means the store was unreliable while results were being stored.
   */
  completionRetries: number;
  /** Results that could not be stored before their lease would lapse (`IDEMPOTENCY_NOT_STORED`). */
  notStored: number;
  /**
   * Releases sent after an `acquire` that failed or passed `storeTimeout`, so that an acquire
   * landing late (a stalled store) leaves no lease nobody holds.
   */
  compensatingReleases: number;
}
