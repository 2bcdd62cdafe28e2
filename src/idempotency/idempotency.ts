import { randomUUID } from 'node:crypto';
import {
  Emitter,
  ErrorCode,
  HeadroomError,
  functionArgument,
  invalidArgument,
  objectArgument,
  optionalDuration,
  parseDuration,
  type Disposer,
  type Duration,
  type Listener,
} from '../core/index.js';
import { withTimeout } from '../timeout/index.js';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyLeaseLostError } from './errors.js';
import { KEEPS_VALUES, RUN_KEPT, ReleaseWithoutStoring, SYNC_STORE, type SameRequest, type SyncStore } from './internal.js';
import { encodeError, encodeValue, jsonSerializer, replayOutcome, type IdempotencySerializer } from './outcome.js';
import type { AcquireResult, IdempotencyStore } from './store.js';

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
   * - a `complete` or `release` is reported as an `error` event (the record stays in progress
   *   until its lease lapses), a `renew` is reported and retried at the next renewal.
   *
   * The store's own call is not cancelled (ioredis cannot cancel a command): bound it in the
   * client too (`commandTimeout`), see the guide. Keep it well below `lockTtl`.
   */
  storeTimeout?: Duration;
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
   * the result, releasing the key, renewing the lease). The call itself still resolves (or
   * rejects) with the operation's outcome.
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
}

const MAX_KEY_PART = 2 ** 16;

/**
 * Lease tokens: a random prefix per process (122 random bits) and a counter, unique across
 * processes like a UUID per call, without drawing and formatting random bytes on every request.
 */
const TOKEN_PREFIX = randomUUID() + ':';
let tokenSequence = 0;
function nextToken(): string {
  return TOKEN_PREFIX + (++tokenSequence).toString(36);
}
/** Names of the store calls, as their TimeoutError carries them. */
const ACQUIRE = 'idempotency store acquire';
const COMPLETE = 'idempotency store complete';
const RENEW = 'idempotency store renew';
const RELEASE = 'idempotency store release';
const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 250;
const MAX_RETRY_AFTER_MS = 1000;

/**
 * The store key for `key` in `scope`. Length-prefixing the scope makes the mapping injective:
 * scope `a:b` + key `c` and scope `a` + key `b:c` can never meet in one record.
 */
function scopedKey(scope: string | undefined, key: string): string {
  const scoped = scope === undefined ? ':' + key : `${scope.length}:${scope}:${key}`;
  // Flattened (see textOrSha256 in middleware.ts): an in-memory store keeps it as its key.
  scoped.charCodeAt(0);
  return scoped;
}

class Lease implements IdempotencyContext {
  renewedAt: number;
  renewing = false;
  done = false;
  /** Neighbours in the instance's list of held leases (intrusive: no Set entry per operation). */
  prevLease: Lease | null = null;
  nextLease: Lease | null = null;
  private controller: AbortController | undefined;
  private lostReason: unknown;

  constructor(
    readonly key: string,
    readonly scope: string | undefined,
    readonly storeKey: string,
    readonly token: string,
    now: number,
  ) {
    this.renewedAt = now;
  }

  // Most operations never read it: build the controller only on demand.
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.lostReason !== undefined) this.controller.abort(this.lostReason);
    }
    return this.controller.signal;
  }

  lose(): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = new IdempotencyLeaseLostError(this.key);
    this.controller?.abort(this.lostReason);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs an operation once per key: retries and concurrent duplicates get the first call's result
 * instead of running it again (exactly-once effects for payments, orders, emails...).
 *
 * | the key is...                         | `run()`                                                    |
 * | ------------------------------------- | ---------------------------------------------------------- |
 * | new (or its record expired)           | runs the operation, stores its result for `ttl`            |
 * | completed                             | resolves with the stored result, does not run              |
 * | in flight elsewhere                   | rejects `IDEMPOTENCY_IN_PROGRESS` (409), or waits (`wait`) |
 * | used with another fingerprint         | rejects `IDEMPOTENCY_KEY_REUSED` (422)                     |
 * | new, and the operation throws         | rejects with that error and releases the key (see `storeErrors`) |
 *
 * @example
 * ```ts
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
 * redis.on('error', (err) => console.warn('redis:', err.message));
 * const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis), ttl: '24h', storeTimeout: '1s' });
 *
 * const charge = await idempotency.run(
 *   req.header('idempotency-key'),
 *   () => payments.charge(order), // runs once, even if the client retries
 *   { scope: account.id, fingerprint: fingerprint(order) },
 * );
 * ```
 */
export class Idempotency {
  /** The store in use. */
  readonly store: IdempotencyStore;
  /** How long results are kept, in ms. */
  readonly ttlMs: number;
  /** The lease length, in ms. */
  readonly lockTtlMs: number;
  /** The bound on each store call, in ms (`storeTimeout`). */
  readonly storeTimeoutMs: number;
  private readonly storeErrors: ((error: unknown) => boolean) | undefined;
  private readonly serializer: IdempotencySerializer;
  private readonly events = new Emitter<IdempotencyEvents>();
  /** Leases held now, oldest first; a linked list through the leases, O(1) add and drop. */
  private leaseHead: Lease | null = null;
  private leaseTail: Lease | null = null;
  private leaseCount = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly renewAfterMs: number;
  private readonly tickMs: number;
  private readonly tick = (): void => this.renewDue();
  /** The store holds values as given (see {@link KEEPS_VALUES}). */
  private readonly keepsValues: boolean;
  /** The store's synchronous core, when it has one (see {@link SYNC_STORE}). */
  private readonly sync: SyncStore | undefined;
  // Plain counters for stats(): one increment on the path each call takes anyway.
  private executions = 0;
  private replays = 0;
  private conflicts = 0;
  private keyReused = 0;
  private storeUnavailable = 0;

  constructor(options: IdempotencyOptions) {
    if (options === null || typeof options !== 'object') throw invalidArgument('options', 'an options object with a store', options);
    objectArgument(options, 'options');
    const store = options.store as Partial<IdempotencyStore> | undefined;
    if (
      store === null ||
      typeof store !== 'object' ||
      typeof store.acquire !== 'function' ||
      typeof store.complete !== 'function' ||
      typeof store.renew !== 'function' ||
      typeof store.release !== 'function'
    ) {
      throw invalidArgument('store', 'an IdempotencyStore (acquire, complete, renew, release)', store);
    }
    this.store = options.store;
    this.keepsValues = (store as { [KEEPS_VALUES]?: unknown })[KEEPS_VALUES] === true;
    this.sync = (store as { [SYNC_STORE]?: SyncStore })[SYNC_STORE];
    this.ttlMs = options.ttl === undefined ? 86_400_000 : parseDuration(options.ttl, 'ttl', { positive: true });
    this.lockTtlMs = options.lockTtl === undefined ? 30_000 : parseDuration(options.lockTtl, 'lockTtl', { positive: true });
    if (this.lockTtlMs < 10) throw invalidArgument('lockTtl', 'a duration of at least 10ms', options.lockTtl);
    this.storeTimeoutMs = optionalDuration(options.storeTimeout, 'storeTimeout', 1000, { positive: true });
    if (options.storeErrors !== undefined) functionArgument(options.storeErrors, 'storeErrors');
    this.storeErrors = options.storeErrors;
    const serializer = options.serializer;
    if (serializer !== undefined && (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function')) {
      throw invalidArgument('serializer', 'an object with serialize() and deserialize()', serializer);
    }
    this.serializer = serializer ?? jsonSerializer;
    this.renewAfterMs = this.lockTtlMs / 3;
    this.tickMs = Math.max(5, Math.floor(this.lockTtlMs / 6));
  }

  /**
   * Runs `operation` once per `scope` + `key` while its record lives (`ttl`), and answers every
   * duplicate with that first result.
   *
   * Costs against the store: one `acquire` for every call, plus one `complete` when the operation
   * runs (for Redis: 2 round trips for a first call, 1 for a replay).
   *
   * @param key - the client's idempotency key (non-empty).
   * @param operation - the work; it receives an {@link IdempotencyContext}. Its result must be
   *   serializable by the `serializer` (JSON by default).
   * @param options - `fingerprint`, `scope`, `wait`: see {@link RunOptions}.
   * @returns the operation's result, or the stored result of the first call.
   * @throws {@link IdempotencyInProgressError} (409) when the first call is still running.
   * @throws {@link IdempotencyKeyReusedError} (422) when the fingerprint differs from the first call's.
   * @throws `HeadroomError` `SERVICE_UNAVAILABLE` (503, `retryAfterMs` 1000) when the store cannot
   *   be reached or does not answer within `storeTimeout`; the operation did not run.
   * @example
   * ```ts
   * const order = await idempotency.run(key, () => createOrder(input), {
   *   scope: user.id,
   *   fingerprint: fingerprint(input),
   *   wait: '5s',
   * });
   * ```
   */
  run<T>(key: string, operation: IdempotentOperation<T>, options?: RunOptions): Promise<T> {
    return this.start(key, operation, options, false, undefined);
  }

  /**
   * `run` for the HTTP middleware: with a store that keeps values in memory, an object result is
   * stored as that object (no serializer round trip) and replays get the same object back, so
   * it must never be mutated. Not for user results: `run` gives every replay its own copy.
   * `sameRequest` decides whether two fingerprints that differ as strings still name one request
   * (asked only when they differ).
   *
   * @internal
   */
  [RUN_KEPT]<T extends object>(
    key: string,
    operation: IdempotentOperation<T>,
    options: RunOptions | undefined,
    sameRequest: SameRequest | undefined,
  ): Promise<T> {
    return this.start(key, operation, options, this.keepsValues, sameRequest);
  }

  /**
   * Validates, then acquires the key: synchronously with a {@link SYNC_STORE} store (a first call
   * goes straight to `execute`, a replay resolves at once), else through the async loop. Not an
   * async function, so a synchronous answer costs no extra promise; a bad argument rejects.
   */
  private start<T>(
    key: string,
    operation: IdempotentOperation<T>,
    options: RunOptions | undefined,
    keep: boolean,
    sameRequest: SameRequest | undefined,
  ): Promise<T> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_PART) {
      return Promise.reject(invalidArgument('key', 'a non-empty string (at most 65536 characters)', key));
    }
    if (typeof operation !== 'function') return Promise.reject(invalidArgument('operation', 'a function', operation));
    let scope: string | undefined;
    let fingerprint = '';
    let waitMs = 0;
    if (options !== undefined) {
      scope = options.scope;
      if (scope !== undefined && (typeof scope !== 'string' || scope.length > MAX_KEY_PART)) {
        return Promise.reject(invalidArgument('options.scope', 'a string (at most 65536 characters)', scope));
      }
      if (options.fingerprint !== undefined) {
        if (typeof options.fingerprint !== 'string') return Promise.reject(invalidArgument('options.fingerprint', 'a string', options.fingerprint));
        fingerprint = options.fingerprint;
      }
      if (options.wait !== undefined) {
        try {
          waitMs = parseDuration(options.wait, 'options.wait');
        } catch (err) {
          return Promise.reject(err);
        }
      }
    }
    const storeKey = scopedKey(scope, key);
    const token = nextToken();
    const sync = this.sync;
    if (sync !== undefined) {
      let found: AcquireResult | undefined;
      try {
        found = sync.acquireNow(storeKey, token, fingerprint, this.lockTtlMs);
      } catch {
        // answered by the async path below, as a store failure
      }
      if (found !== undefined) {
        if (found.status === 'acquired') return this.execute(key, scope, storeKey, token, fingerprint, operation, keep);
        if (found.status === 'completed' && (found.fingerprint === fingerprint || sameRequest?.(found.fingerprint, fingerprint) === true)) {
          this.replays++;
          try {
            return Promise.resolve(this.replayed<T>(found.value));
          } catch (err) {
            return Promise.reject(err); // a stored error outcome is replayed as a rejection
          }
        }
      }
      // In progress, reused with another payload, or failing: the general path says which.
    }
    return this.acquire(key, operation, scope, fingerprint, waitMs, storeKey, token, keep, sameRequest);
  }

  /** A stored result as `run` returns it (a kept value as it is, an encoded one decoded). */
  private replayed<T>(value: unknown): T {
    return (typeof value === 'string' ? replayOutcome(value, this.serializer) : value) as T;
  }

  private async acquire<T>(
    key: string,
    operation: IdempotentOperation<T>,
    scope: string | undefined,
    fingerprint: string,
    waitMs: number,
    storeKey: string,
    token: string,
    keep: boolean,
    sameRequest: SameRequest | undefined,
  ): Promise<T> {
    let deadline = 0;
    let delay = FIRST_POLL_MS;
    for (;;) {
      let found;
      try {
        found = await withTimeout(this.store.acquire(storeKey, token, fingerprint, this.lockTtlMs), this.storeTimeoutMs, ACQUIRE);
      } catch (err) {
        this.storeUnavailable++;
        throw this.acquireFailed(err);
      }
      // `return await`: one microtask hop where returning the promise from an async function costs three.
      if (found.status === 'acquired') return await this.execute(key, scope, storeKey, token, fingerprint, operation, keep);
      if (found.fingerprint !== fingerprint && sameRequest?.(found.fingerprint, fingerprint) !== true) {
        this.keyReused++;
        throw new IdempotencyKeyReusedError(key);
      }
      // A non-string value was kept as-is by a store that KEEPS_VALUES (see RUN_KEPT).
      if (found.status === 'completed') {
        this.replays++;
        return this.replayed<T>(found.value);
      }

      const now = Date.now();
      if (deadline === 0) deadline = now + waitMs;
      const left = deadline - now;
      if (left <= 0) {
        this.conflicts++;
        throw new IdempotencyInProgressError(key, Math.max(1, Math.min(MAX_RETRY_AFTER_MS, found.leaseRemainingMs)));
      }
      // Jitter spreads the polls of many waiting duplicates; waking when the lease lapses lets a
      // waiter take over from a crashed holder without sleeping past it.
      const pause = Math.min(delay * (0.75 + Math.random() * 0.5), left, found.leaseRemainingMs + 1);
      await sleep(Math.max(1, pause));
      delay = Math.min(delay * 2, MAX_POLL_MS);
    }
  }

  /**
   * An `acquire` failed or passed `storeTimeout`: the call fails with `SERVICE_UNAVAILABLE` and
   * the operation does not run. (The store may still take the key later, when a stalled call
   * lands: its lease then lapses after `lockTtl`.)
   */
  private acquireFailed(cause: unknown): HeadroomError {
    const message =
      (cause as { name?: unknown } | null)?.name === 'TimeoutError'
        ? `headroom: the idempotency store did not answer within ${this.storeTimeoutMs} ms; the operation did not run`
        : 'headroom: the idempotency store is unavailable; the operation did not run';
    return new HeadroomError(ErrorCode.SERVICE_UNAVAILABLE, message, { status: 503, retryAfterMs: 1000, cause });
  }

  /**
   * Adds `listener` for `event` (`'error'`, `'lease-lost'`) and returns a function that removes it.
   *
   * @example
   * ```ts
   * const off = idempotency.on('error', ({ error, phase }) => log.warn({ error, phase }, 'idempotency store'));
   * ```
   */
  on<K extends keyof IdempotencyEvents>(event: K, listener: Listener<IdempotencyEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  /** The number of operations running under a lease held by this instance. */
  get running(): number {
    return this.leaseCount;
  }

  /**
   * What this instance has done since it was made: operations run, duplicates replayed,
   * refused with 409 or 422, calls the store could not serve, and operations running now.
   * Plain counters, read in O(1).
   *
   * @example
   * ```ts
   * const { executions, replays, conflicts } = idempotency.stats();
   * ```
   */
  stats(): IdempotencyStats {
    return {
      executions: this.executions,
      replays: this.replays,
      conflicts: this.conflicts,
      keyReused: this.keyReused,
      storeUnavailable: this.storeUnavailable,
      running: this.leaseCount,
    };
  }

  private async execute<T>(
    key: string,
    scope: string | undefined,
    storeKey: string,
    token: string,
    fingerprint: string,
    operation: IdempotentOperation<T>,
    keep: boolean,
  ): Promise<T> {
    this.executions++;
    const lease = new Lease(key, scope, storeKey, token, Date.now());
    this.hold(lease);
    let value: T;
    try {
      value = await operation(lease);
    } catch (err) {
      this.drop(lease);
      if (!(err instanceof ReleaseWithoutStoring) && this.storeErrors !== undefined && this.shouldStore(err)) {
        await this.complete(lease, fingerprint, encodeError(err));
      } else {
        await this.release(lease);
      }
      throw err;
    }
    this.drop(lease);
    let encoded: string;
    try {
      // Kept: the store holds the object itself (typed as the string it stands in for).
      encoded = keep && typeof value === 'object' && value !== null ? (value as unknown as string) : encodeValue(value, this.serializer);
    } catch (err) {
      await this.release(lease);
      throw err;
    }
    // A store that keeps values in this process writes the record synchronously, inside this
    // call, before `complete` first awaits: a duplicate arriving next already finds the result.
    // Awaiting the resolved promise would only add microtask hops to every first call.
    const sync = this.sync;
    if (sync !== undefined) this.completeNow(sync, lease, fingerprint, encoded);
    else if (this.keepsValues) void this.complete(lease, fingerprint, encoded);
    else await this.complete(lease, fingerprint, encoded);
    return value;
  }

  private shouldStore(err: unknown): boolean {
    try {
      return this.storeErrors!(err) === true;
    } catch {
      return false;
    }
  }

  private async complete(lease: Lease, fingerprint: string, encoded: string): Promise<void> {
    try {
      const stored = await withTimeout(this.store.complete(lease.storeKey, lease.token, fingerprint, encoded, this.ttlMs), this.storeTimeoutMs, COMPLETE);
      if (!stored && this.events.has('lease-lost')) this.events.emit('lease-lost', { key: lease.key, scope: lease.scope });
    } catch (err) {
      // The caller still gets its result; the record stays in progress until its lease lapses.
      this.emitError(err, lease, 'complete');
    }
  }

  /** {@link Idempotency.complete} for a {@link SYNC_STORE} store: no promise, no async frame. */
  private completeNow(sync: SyncStore, lease: Lease, fingerprint: string, encoded: string): void {
    let stored: boolean;
    try {
      stored = sync.completeNow(lease.storeKey, lease.token, fingerprint, encoded, this.ttlMs);
    } catch (err) {
      this.emitError(err, lease, 'complete');
      return;
    }
    if (!stored && this.events.has('lease-lost')) this.events.emit('lease-lost', { key: lease.key, scope: lease.scope });
  }

  private async release(lease: Lease): Promise<void> {
    try {
      await withTimeout(this.store.release(lease.storeKey, lease.token), this.storeTimeoutMs, RELEASE);
    } catch (err) {
      this.emitError(err, lease, 'release');
    }
  }

  private emitError(error: unknown, lease: Lease, phase: IdempotencyErrorEvent['phase']): void {
    if (this.events.has('error')) this.events.emit('error', { error, key: lease.key, scope: lease.scope, phase });
  }

  private hold(lease: Lease): void {
    const tail = this.leaseTail;
    lease.prevLease = tail;
    if (tail === null) this.leaseHead = lease;
    else tail.nextLease = lease;
    this.leaseTail = lease;
    this.leaseCount++;
    if (this.ticker === undefined) {
      this.ticker = setInterval(this.tick, this.tickMs);
      this.ticker.unref();
    }
  }

  private drop(lease: Lease): void {
    if (lease.done) return;
    lease.done = true;
    const prev = lease.prevLease;
    const next = lease.nextLease;
    if (prev === null) this.leaseHead = next;
    else prev.nextLease = next;
    if (next === null) this.leaseTail = prev;
    else next.prevLease = prev;
    lease.prevLease = null;
    lease.nextLease = null;
    this.leaseCount--;
    // The ticker is cleared by its next tick if no lease is left by then, not here: a busy
    // service whose short operations empty the set between requests would otherwise create and
    // clear an interval per request.
  }

  private lost(lease: Lease): void {
    this.drop(lease);
    lease.lose();
    if (this.events.has('lease-lost')) this.events.emit('lease-lost', { key: lease.key, scope: lease.scope });
  }

  // One shared timer renews every lease that is due, so a short operation costs no timer of its own.
  private renewDue(): void {
    if (this.leaseCount === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
      return;
    }
    const now = Date.now();
    for (let lease = this.leaseHead, after: Lease | null; lease !== null; lease = after) {
      // Read first: losing the lease below unlinks it.
      after = lease.nextLease;
      if (lease.renewing || now - lease.renewedAt < this.renewAfterMs) continue;
      if (now - lease.renewedAt >= this.lockTtlMs) {
        // Renewals kept failing until the lease ran out: behave as the store would, it is gone.
        this.lost(lease);
        continue;
      }
      lease.renewing = true;
      let renewal: Promise<boolean>;
      try {
        renewal = withTimeout(this.store.renew(lease.storeKey, lease.token, this.lockTtlMs), this.storeTimeoutMs, RENEW);
      } catch (err) {
        renewal = Promise.reject(err); // a custom store that throws instead of rejecting
      }
      renewal.then(
        (held) => {
          lease.renewing = false;
          if (held) {
            lease.renewedAt = now;
            return;
          }
          if (!lease.done) this.lost(lease);
        },
        (err: unknown) => {
          // Keep trying on the next ticks; the lease is lost only if the store says so or it lapses.
          lease.renewing = false;
          this.emitError(err, lease, 'renew');
        },
      );
    }
  }
}
