import { withTimeout } from '../timeout/index.js';
import type { IdempotencyErrorEvent } from './idempotency-types.js';
import type { Lease, LeaseKeeper } from './lease.js';
import type { AcquireResult, IdempotencyStore } from './store.js';

/** Names of the store calls, as their TimeoutError carries them. */
const ACQUIRE = 'idempotency store acquire';
const COMPLETE = 'idempotency store complete';
const RELEASE = 'idempotency store release';
/** Backoff between `complete` tries: from the first pause, doubling, to the last. */
const FIRST_COMPLETE_RETRY_MS = 25;
const MAX_COMPLETE_RETRY_MS = 1000;

/** What {@link StoreCalls} needs from its owner. */
export interface StoreCallsContext {
  readonly store: IdempotencyStore;
  readonly ttlMs: number;
  readonly lockTtlMs: number;
  readonly storeTimeoutMs: number;
  readonly leases: LeaseKeeper;
  /** A store call failed or passed `storeTimeout` (for the `error` event). */
  storeFailed(error: unknown, key: string, scope: string | undefined, phase: IdempotencyErrorEvent['phase']): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function noop(): void {}

/**
 * The store calls of {@link Idempotency}, each bounded by `storeTimeout`, with what happens when
 * one fails: an `acquire` is compensated by a release of its token, a `complete` is tried again
 * while the lease holds. Counts what it did for `stats()`.
 */
export class StoreCalls {
  /** `complete` tries after the first (see {@link IdempotencyStats.completionRetries}). */
  completionRetries = 0;
  /** Releases sent after a failed `acquire`. */
  compensatingReleases = 0;

  constructor(private readonly context: StoreCallsContext) {}

  /**
   * `store.acquire`, bounded. When it fails or times out, the store may still take the key later
   * (a stalled Redis runs the script when it resumes; ioredis cannot cancel a command), and
   * nobody would hold that lease: it would answer 409 for `lockTtl`. So a release of the same
   * token is sent at once, without waiting for it. It runs after the late acquire because a
   * Redis connection executes its commands in the order they were written: ioredis writes (or
   * queues, while disconnected) the release behind the acquire on the same connection, and a
   * Cluster client sends both to the node owning the key's slot. If the acquire never reached
   * the store, the release finds no lease of that token and changes nothing.
   */
  async acquire(storeKey: string, token: string, fingerprint: string, key: string, scope: string | undefined): Promise<AcquireResult> {
    const { store, lockTtlMs, storeTimeoutMs } = this.context;
    try {
      return await withTimeout(store.acquire(storeKey, token, fingerprint, lockTtlMs), storeTimeoutMs, ACQUIRE);
    } catch (err) {
      this.compensatingReleases++;
      let release: Promise<boolean>;
      try {
        release = store.release(storeKey, token);
      } catch (thrown) {
        release = Promise.reject(thrown); // a custom store that throws instead of rejecting
      }
      // Not awaited: the caller already has its answer (503). A release that fails is reported;
      // one that stalls stays queued behind the acquire, which is what it is for.
      release.then(noop, (error: unknown) => this.context.storeFailed(error, key, scope, 'release'));
      throw err;
    }
  }

  /**
   * Stores `encoded` as the result of `lease`: `store.complete`, bounded, tried again with
   * backoff after a failure or a timeout while `lease` keeps being renewed, until it is stored
   * or the next try could not end before the lease lapses. A try that timed out may have landed:
   * the store then answers the retry `true` (a record completed by the same token).
   *
   * @returns `'stored'`; `'refused'` when the store said no (another holder took the key, or
   *   completed it); `'failed'` when the tries ran out.
   */
  async complete(lease: Lease, fingerprint: string, encoded: string): Promise<'stored' | 'refused' | 'failed'> {
    const { store, ttlMs, storeTimeoutMs, leases } = this.context;
    let delay = FIRST_COMPLETE_RETRY_MS;
    for (;;) {
      try {
        const stored = await withTimeout(store.complete(lease.storeKey, lease.token, fingerprint, encoded, ttlMs), storeTimeoutMs, COMPLETE);
        return stored ? 'stored' : 'refused';
      } catch (err) {
        this.context.storeFailed(err, lease.key, lease.scope, 'complete');
      }
      // The next try must be able to end before the lease lapses (renewals, still running, keep
      // moving that point while the store answers them): shorten the pause to fit, or give up.
      const room = leases.lapsesAt(lease) - Date.now() - storeTimeoutMs;
      if (room <= 0) return 'failed';
      // Jitter spreads the retries of many completions that failed together (a failover).
      const pause = Math.min(delay * (0.75 + Math.random() * 0.5), room);
      this.completionRetries++;
      await sleep(pause);
      delay = Math.min(delay * 2, MAX_COMPLETE_RETRY_MS);
    }
  }

  /** `store.release`, bounded; a failure is reported, and the lease then lapses by itself. */
  async release(lease: Lease): Promise<void> {
    try {
      await withTimeout(this.context.store.release(lease.storeKey, lease.token), this.context.storeTimeoutMs, RELEASE);
    } catch (err) {
      this.context.storeFailed(err, lease.key, lease.scope, 'release');
    }
  }
}
