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
  type Listener,
} from '../core/index.js';
import { IdempotencyInProgressError, IdempotencyKeyReusedError, IdempotencyNotStoredError } from './errors.js';
import type { IdempotencyErrorEvent, IdempotencyEvents, IdempotencyOptions, IdempotencyStats, IdempotentOperation, RunOptions } from './idempotency-types.js';
import { ReleaseWithoutStoring } from './internal.js';
import { Lease, LeaseKeeper } from './lease.js';
import { encodeError, encodeValue, jsonSerializer, replayOutcome, type IdempotencySerializer } from './outcome.js';
import { MAX_KEY_PART, nextToken, scopedKey } from './record-key.js';
import { StoreCalls } from './store-calls.js';
import type { IdempotencyStore } from './store.js';

export type {
  IdempotencyOptions,
  RunOptions,
  IdempotencyContext,
  IdempotentOperation,
  IdempotencyErrorEvent,
  LeaseLostEvent,
  IdempotencyEvents,
  IdempotencyStats,
} from './idempotency-types.js';

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 250;
const MAX_RETRY_AFTER_MS = 1000;

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
 * | new, and its result cannot be stored  | rejects `IDEMPOTENCY_NOT_STORED` (503), see `holdUntilStored` |
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 *
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
 * redis.on('error', (err) => console.warn('redis:', err.message));
 * const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis), ttl: '24h', storeTimeout: '1s' });
 *
 * const charge = await idempotency.run(
 *   key, // the request's Idempotency-Key
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
  /** Whether results are handed out only once stored (`holdUntilStored`). */
  readonly holdUntilStored: boolean;
  private readonly storeErrors: ((error: unknown) => boolean) | undefined;
  private readonly serializer: IdempotencySerializer;
  private readonly events = new Emitter<IdempotencyEvents>();
  private readonly leases: LeaseKeeper;
  private readonly calls: StoreCalls;
  // Plain counters for stats(): one increment on the path each call takes anyway.
  private executions = 0;
  private replays = 0;
  private conflicts = 0;
  private keyReused = 0;
  private storeUnavailable = 0;
  private notStored = 0;

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
    if (options.holdUntilStored !== undefined && typeof options.holdUntilStored !== 'boolean') {
      throw invalidArgument('holdUntilStored', 'a boolean', options.holdUntilStored);
    }
    this.holdUntilStored = options.holdUntilStored !== false;
    const storeFailed = (error: unknown, key: string, scope: string | undefined, phase: IdempotencyErrorEvent['phase']): void => {
      if (this.events.has('error')) this.events.emit('error', { error, key, scope, phase });
    };
    this.leases = new LeaseKeeper({
      store: this.store,
      lockTtlMs: this.lockTtlMs,
      storeTimeoutMs: this.storeTimeoutMs,
      renewFailed: (error, lease) => storeFailed(error, lease.key, lease.scope, 'renew'),
      leaseLost: (lease) => {
        // A lease whose result is being stored is not lost to its operation (it has finished):
        // the completion's own answer says whether the result was stored.
        if (lease.completing) return;
        lease.lose();
        this.emitLeaseLost(lease);
      },
    });
    this.calls = new StoreCalls({
      store: this.store,
      ttlMs: this.ttlMs,
      lockTtlMs: this.lockTtlMs,
      storeTimeoutMs: this.storeTimeoutMs,
      leases: this.leases,
      storeFailed,
    });
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
   * @throws {@link IdempotencyNotStoredError} (503) with `holdUntilStored` when the operation ran
   *   but its result could not be stored before its lease would lapse.
   * @example
   * ```ts
   * const created = await idempotency.run(key, () => createOrder(pool, order), {
   *   scope: account.id,
   *   fingerprint: fingerprint(order),
   *   wait: '5s',
   * });
   * ```
   */
  async run<T>(key: string, operation: IdempotentOperation<T>, options?: RunOptions): Promise<T> {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_PART) {
      throw invalidArgument('key', 'a non-empty string (at most 65536 characters)', key);
    }
    if (typeof operation !== 'function') throw invalidArgument('operation', 'a function', operation);
    let scope: string | undefined;
    let fingerprint = '';
    let waitMs = 0;
    if (options !== undefined) {
      scope = options.scope;
      if (scope !== undefined && (typeof scope !== 'string' || scope.length > MAX_KEY_PART)) {
        throw invalidArgument('options.scope', 'a string (at most 65536 characters)', scope);
      }
      if (options.fingerprint !== undefined) {
        if (typeof options.fingerprint !== 'string') throw invalidArgument('options.fingerprint', 'a string', options.fingerprint);
        fingerprint = options.fingerprint;
      }
      if (options.wait !== undefined) waitMs = parseDuration(options.wait, 'options.wait');
    }
    const storeKey = scopedKey(scope, key);
    const token = nextToken();
    let deadline = 0;
    let delay = FIRST_POLL_MS;
    for (;;) {
      let found;
      try {
        found = await this.calls.acquire(storeKey, token, fingerprint, key, scope);
      } catch (err) {
        this.storeUnavailable++;
        throw this.acquireFailed(err);
      }
      // `return await`: one microtask hop where returning the promise from an async function costs three.
      if (found.status === 'acquired') return await this.execute(new Lease(key, scope, storeKey, token, Date.now()), fingerprint, operation);
      if (found.fingerprint !== fingerprint) {
        this.keyReused++;
        throw new IdempotencyKeyReusedError(key);
      }
      if (found.status === 'completed') {
        this.replays++;
        return replayOutcome(found.value, this.serializer) as T;
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
   * the operation does not run (the store calls gave the token back, see `StoreCalls.acquire`).
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

  /** The number of operations running (or storing their result) under a lease held by this instance. */
  get running(): number {
    return this.leases.size;
  }

  /**
   * What this instance has done since it was made: operations run, duplicates replayed,
   * refused with 409 or 422, calls the store could not serve, operations running now, and how
   * often store failures were worked around (completion retries, compensating releases).
   * Plain counters, read in O(1).
   *
   * @example
   * ```ts
   * const { executions, replays, conflicts, completionRetries } = idempotency.stats();
   * ```
   */
  stats(): IdempotencyStats {
    return {
      executions: this.executions,
      replays: this.replays,
      conflicts: this.conflicts,
      keyReused: this.keyReused,
      storeUnavailable: this.storeUnavailable,
      running: this.leases.size,
      completionRetries: this.calls.completionRetries,
      notStored: this.notStored,
      compensatingReleases: this.calls.compensatingReleases,
    };
  }

  private async execute<T>(lease: Lease, fingerprint: string, operation: IdempotentOperation<T>): Promise<T> {
    this.executions++;
    this.leases.hold(lease);
    let value: T;
    try {
      value = await operation(lease);
    } catch (err) {
      if (!(err instanceof ReleaseWithoutStoring) && this.storeErrors !== undefined && this.shouldStore(err)) {
        await this.storeOutcome(lease, fingerprint, encodeError(err));
      } else {
        this.leases.drop(lease);
        await this.calls.release(lease);
      }
      throw err;
    }
    let encoded: string;
    try {
      encoded = encodeValue(value, this.serializer);
    } catch (err) {
      this.leases.drop(lease);
      await this.calls.release(lease);
      throw err;
    }
    if (!this.holdUntilStored) {
      void this.storeOutcome(lease, fingerprint, encoded);
      return value;
    }
    if (!(await this.storeOutcome(lease, fingerprint, encoded))) throw new IdempotencyNotStoredError(lease.key);
    return value;
  }

  /**
   * Stores an outcome, the lease still renewed while `complete` is tried; then drops the lease.
   * Resolves whether it was stored.
   */
  private async storeOutcome(lease: Lease, fingerprint: string, encoded: string): Promise<boolean> {
    lease.completing = true;
    const outcome = await this.calls.complete(lease, fingerprint, encoded);
    this.leases.drop(lease);
    if (outcome === 'stored') return true;
    this.notStored++;
    // Refused: another caller holds or completed the key, so this lease was lost.
    if (outcome === 'refused') this.emitLeaseLost(lease);
    return false;
  }

  private emitLeaseLost(lease: Lease): void {
    if (this.events.has('lease-lost')) this.events.emit('lease-lost', { key: lease.key, scope: lease.scope });
  }

  private shouldStore(err: unknown): boolean {
    try {
      return this.storeErrors!(err) === true;
    } catch {
      return false;
    }
  }
}
