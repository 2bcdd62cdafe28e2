import type { IdempotencyContext } from './idempotency-types.js';
import { IdempotencyLeaseLostError } from './errors.js';
import { withTimeout } from '../timeout/index.js';
import type { IdempotencyStore } from './store.js';

const RENEW = 'idempotency store renew';

/** One key held by this instance: what the operation receives, and what renewal needs. */
export class Lease implements IdempotencyContext {
  /** When the last renewal that the store confirmed was sent (or the acquire), `Date.now()` ms. */
  renewedAt: number;
  renewing = false;
  /** No longer renewed: completed, released or lost. */
  done = false;
  /** The operation has finished and its result is being stored: renewal goes on meanwhile. */
  completing = false;
  /** Neighbours in the keeper's list of held leases (intrusive: no Set entry per operation). */
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

  /** Aborts {@link Lease.signal} with an {@link IdempotencyLeaseLostError}. */
  lose(): void {
    if (this.lostReason !== undefined) return;
    this.lostReason = new IdempotencyLeaseLostError(this.key);
    this.controller?.abort(this.lostReason);
  }
}

/** What a {@link LeaseKeeper} needs from its owner. */
export interface LeaseKeeperContext {
  readonly store: IdempotencyStore;
  readonly lockTtlMs: number;
  readonly storeTimeoutMs: number;
  /** A renewal failed or passed `storeTimeout`; it is tried again at the next tick. */
  renewFailed(error: unknown, lease: Lease): void;
  /** The store refused a renewal (another holder, or no record), or the lease lapsed unrenewed. Already dropped. */
  leaseLost(lease: Lease): void;
}

/**
 * The leases this instance holds, renewed every `lockTtl / 3` by one shared timer, so that a
 * short operation costs no timer of its own. Leases live in a linked list through themselves:
 * O(1) hold and drop, no Set entry per operation.
 */
export class LeaseKeeper {
  private head: Lease | null = null;
  private tail: Lease | null = null;
  private count = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private readonly renewAfterMs: number;
  private readonly tickMs: number;
  private readonly tick = (): void => this.renewDue();

  constructor(private readonly context: LeaseKeeperContext) {
    this.renewAfterMs = context.lockTtlMs / 3;
    this.tickMs = Math.max(5, Math.floor(context.lockTtlMs / 6));
  }

  /** The number of leases held. */
  get size(): number {
    return this.count;
  }

  /** When `lease` lapses in the store if no renewal lands before, `Date.now()` ms. */
  lapsesAt(lease: Lease): number {
    return lease.renewedAt + this.context.lockTtlMs;
  }

  /** Starts renewing `lease`. */
  hold(lease: Lease): void {
    const tail = this.tail;
    lease.prevLease = tail;
    if (tail === null) this.head = lease;
    else tail.nextLease = lease;
    this.tail = lease;
    this.count++;
    if (this.ticker === undefined) {
      this.ticker = setInterval(this.tick, this.tickMs);
      this.ticker.unref();
    }
  }

  /** Stops renewing `lease` (no-op when already dropped). */
  drop(lease: Lease): void {
    if (lease.done) return;
    lease.done = true;
    const prev = lease.prevLease;
    const next = lease.nextLease;
    if (prev === null) this.head = next;
    else prev.nextLease = next;
    if (next === null) this.tail = prev;
    else next.prevLease = prev;
    lease.prevLease = null;
    lease.nextLease = null;
    this.count--;
    // The ticker is cleared by its next tick if no lease is left by then, not here: a busy
    // service whose short operations empty the list between requests would otherwise create and
    // clear an interval per request.
  }

  private lost(lease: Lease): void {
    this.drop(lease);
    this.context.leaseLost(lease);
  }

  private renewDue(): void {
    if (this.count === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
      return;
    }
    const { store, lockTtlMs, storeTimeoutMs } = this.context;
    const now = Date.now();
    for (let lease = this.head, after: Lease | null; lease !== null; lease = after) {
      // Read first: losing the lease below unlinks it.
      after = lease.nextLease;
      if (lease.renewing || now - lease.renewedAt < this.renewAfterMs) continue;
      if (now - lease.renewedAt >= lockTtlMs) {
        // Renewals kept failing until the lease ran out: behave as the store would, it is gone.
        this.lost(lease);
        continue;
      }
      lease.renewing = true;
      let renewal: Promise<boolean>;
      try {
        renewal = withTimeout(store.renew(lease.storeKey, lease.token, lockTtlMs), storeTimeoutMs, RENEW);
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
          this.context.renewFailed(err, lease);
        },
      );
    }
  }
}
