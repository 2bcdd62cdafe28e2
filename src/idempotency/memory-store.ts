import { LRUCache } from 'lru-cache';
import { integerOption, objectArgument } from '../core/index.js';
import type { AcquireResult, AcquiredRecord, CompletedRecord, IdempotencyStore } from './store.js';

/** Options for {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * The most records kept; past it the least recently used is dropped. Default `10_000`.
   *
   * Trade-off: a dropped completed record means a late retry runs the operation again, and a
   * dropped in-progress record lets a duplicate run concurrently, so size it above the number of
   * keys a process sees within `ttl` (records are small: the stored result plus ~100 bytes).
   */
  maxEntries?: number;
}

/**
 * A record, in progress (a lease: the holder's token) or completed (then `acquire` returns it as
 * the {@link CompletedRecord} it is). A lease is completed in place: one object per record from
 * acquire to expiry, and no lru-cache call to complete it. Records that live for `ttl` are what
 * the garbage collector keeps copying and marking, so each object less counts.
 */
class Entry {
  constructor(
    public status: 'in-progress' | 'completed',
    readonly fingerprint: string,
    /** The lease holder's token; once completed, the token of the holder that completed it. */
    public token: string,
    /** The stored value once completed. */
    public value: string,
    /**
     * When the lease or the result expires, in whole milliseconds of {@link clock}: a small
     * integer, which V8 keeps in the object itself (a fractional time would be a separate heap
     * number per record).
     */
    public expiresAt: number,
  ) {}
}

/** Monotonic milliseconds (wall-clock changes do not move expiries), whole. */
function clock(): number {
  return Math.floor(performance.now());
}

const ACQUIRED: AcquiredRecord = Object.freeze({ status: 'acquired' });

/**
 * An {@link IdempotencyStore} in this process's memory: bounded (least recently used records are
 * dropped past `maxEntries`) and expiry-honouring. Right for a single process and for tests; with
 * several processes behind a load balancer, duplicates reaching different processes are not
 * deduplicated - use `RedisIdempotencyStore` there. `acquire` answers a completed key with the
 * record itself (the contract's fields and two of its own), so treat what it returns as
 * read-only. Its speed matters less than being a faithful store: it goes through the same
 * {@link IdempotencyStore} interface as any other.
 *
 * @example
 * ```ts
 * const idempotency = new Idempotency({ store: new MemoryIdempotencyStore({ maxEntries: 50_000 }) });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** The bound given as `maxEntries`. */
  readonly maxEntries: number;
  /**
   * lru-cache, not a Map used in insertion order: a Map's delete leaves a hole that iteration
   * (finding the oldest key) and re-insertion (touching a key) pay for until the next rehash,
   * measured at 7 us per eviction and 25 us per touch with 10 000 entries. Expiry is the records'
   * own (`expiresAt`), not lru-cache's ttl: a first request then costs one `get` and one `set`,
   * and completing or renewing a lease touches only the record.
   */
  private readonly entries: LRUCache<string, Entry>;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    objectArgument(options, 'options');
    this.maxEntries = integerOption(options.maxEntries, 'maxEntries', 10_000, { min: 1, max: 2 ** 30 });
    this.entries = new LRUCache<string, Entry>({ max: this.maxEntries });
  }

  /** The live record of `key`, touched as most recently used; an expired one is dropped. */
  private live(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    this.entries.delete(key);
    return undefined;
  }

  /** The live record of `key` without touching it. */
  private peekLive(key: string, now: number): Entry | undefined {
    const entry = this.entries.peek(key);
    return entry !== undefined && entry.expiresAt > now ? entry : undefined;
  }

  /** The number of records held, expired ones included until they are read or pushed out. */
  get size(): number {
    return this.entries.size;
  }

  /** {@inheritDoc IdempotencyStore.acquire} */
  acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
    const now = clock();
    const entry = this.live(key, now);
    if (entry === undefined) {
      this.entries.set(key, new Entry('in-progress', fingerprint, token, '', now + Math.ceil(lockTtlMs)));
      return Promise.resolve(ACQUIRED);
    }
    if (entry.status === 'completed') return Promise.resolve(entry as CompletedRecord);
    return Promise.resolve({ status: 'in-progress', fingerprint: entry.fingerprint, leaseRemainingMs: Math.max(1, entry.expiresAt - now) });
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean> {
    const now = clock();
    const entry = this.peekLive(key, now);
    if (entry !== undefined && entry.token !== token) return Promise.resolve(false);
    // A live record of another token (leased or completed) is never overwritten (the fence of a
    // stale holder); this token's own completed record is a retry that already landed.
    if (entry !== undefined && entry.status === 'completed') return Promise.resolve(true);
    const expiresAt = now + Math.ceil(ttlMs);
    if (entry === undefined || entry.fingerprint !== fingerprint) {
      // Vanished (expired, or pushed out): stored again.
      this.entries.set(key, new Entry('completed', fingerprint, token, value, expiresAt));
      return Promise.resolve(true);
    }
    // Our own lease, completed in place (acquire made it the most recently used record).
    entry.status = 'completed';
    entry.value = value;
    entry.expiresAt = expiresAt;
    return Promise.resolve(true);
  }

  /** {@inheritDoc IdempotencyStore.renew} */
  renew(key: string, token: string, lockTtlMs: number): Promise<boolean> {
    const now = clock();
    const entry = this.peekLive(key, now);
    if (entry === undefined || entry.status !== 'in-progress' || entry.token !== token) return Promise.resolve(false);
    entry.expiresAt = now + Math.ceil(lockTtlMs);
    return Promise.resolve(true);
  }

  /** {@inheritDoc IdempotencyStore.release} */
  release(key: string, token: string): Promise<boolean> {
    const entry = this.peekLive(key, clock());
    if (entry === undefined || entry.status !== 'in-progress' || entry.token !== token) return Promise.resolve(false);
    this.entries.delete(key);
    return Promise.resolve(true);
  }

  /** Drops every record. */
  clear(): void {
    this.entries.clear();
  }
}
