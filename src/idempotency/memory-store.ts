import { LRUCache } from 'lru-cache';
import { integerOption, objectArgument } from '../core/index.js';
import { KEEPS_VALUES, SYNC_STORE, type SyncStore } from './internal.js';
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
 * acquire to expiry. Expiry is lru-cache's per-entry ttl (typed arrays inside lru-cache, no field
 * of ours). Records that live for `ttl` are what the garbage collector keeps copying and marking,
 * so each object less counts.
 */
class Entry {
  constructor(
    public status: 'in-progress' | 'completed',
    readonly fingerprint: string,
    /** The lease holder's token; `undefined` once completed. */
    public token: string | undefined,
    /** The stored value once completed. */
    public value: string,
  ) {}
}

const ACQUIRED: AcquiredRecord = Object.freeze({ status: 'acquired' });

/**
 * An {@link IdempotencyStore} in this process's memory: bounded (least recently used records are
 * dropped past `maxEntries`) and expiry-honouring. Right for a single process and for tests; with
 * several processes behind a load balancer, duplicates reaching different processes are not
 * deduplicated - use `RedisIdempotencyStore` there.
 *
 * @example
 * ```ts
 * const idempotency = new Idempotency({ store: new MemoryIdempotencyStore({ maxEntries: 50_000 }) });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** The bound given as `maxEntries`. */
  readonly maxEntries: number;
  /** Values are held as given, in this process: the HTTP middleware stores its responses unencoded. @internal */
  readonly [KEEPS_VALUES] = true;
  /**
   * lru-cache, not a Map used in insertion order: a Map's delete leaves a hole that iteration
   * (finding the oldest key) and re-insertion (touching a key) pay for until the next rehash,
   * measured at 7 us per eviction and 25 us per touch with 10 000 entries.
   */
  private readonly entries: LRUCache<string, Entry>;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    objectArgument(options, 'options');
    this.maxEntries = integerOption(options.maxEntries, 'maxEntries', 10_000, { min: 1, max: 2 ** 30 });
    this.entries = new LRUCache<string, Entry>({ max: this.maxEntries });
  }

  /** lru-cache reads `set`'s options without keeping them: one object serves every call. */
  private readonly setOptions: { ttl: number } = { ttl: 0 };

  private ttlOption(ttl: number): { ttl: number } {
    this.setOptions.ttl = ttl;
    return this.setOptions;
  }

  /** The number of records held, expired ones included until they are read or pushed out. */
  get size(): number {
    return this.entries.size;
  }

  /** {@inheritDoc IdempotencyStore.acquire} */
  acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
    return Promise.resolve(this.sync.acquireNow(key, token, fingerprint, lockTtlMs));
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean> {
    return Promise.resolve(this.sync.completeNow(key, token, fingerprint, value, ttlMs));
  }

  /**
   * The synchronous core of `acquire` and `complete`, handed to `Idempotency` through
   * {@link SYNC_STORE} unless a subclass overrides either method (its override then runs).
   */
  private readonly sync: SyncStore = {
    acquireNow: (key, token, fingerprint, lockTtlMs) => {
      // `get` answers `undefined` for an expired record (and drops it).
      const entry = this.entries.get(key);
      if (entry === undefined) {
        this.entries.set(key, new Entry('in-progress', fingerprint, token, ''), this.ttlOption(lockTtlMs));
        return ACQUIRED;
      }
      if (entry.status === 'completed') return entry as CompletedRecord;
      const leaseRemainingMs = Math.max(1, Math.ceil(this.entries.getRemainingTTL(key)));
      return { status: 'in-progress', fingerprint: entry.fingerprint, leaseRemainingMs };
    },
    completeNow: (key, token, fingerprint, value, ttlMs) => {
      const entry = this.entries.peek(key);
      // A live record that is not our lease (completed, or leased by another) is never
      // overwritten; a vanished one (expired, or pushed out) is stored again.
      if (entry !== undefined && (entry.status === 'completed' || entry.token !== token)) return false;
      if (entry === undefined || entry.fingerprint !== fingerprint) {
        this.entries.set(key, new Entry('completed', fingerprint, undefined, value), this.ttlOption(ttlMs));
        return true;
      }
      // Our own lease: completed in place, given the result's ttl, as the most recently used record.
      entry.status = 'completed';
      entry.token = undefined;
      entry.value = value;
      this.entries.set(key, entry, this.ttlOption(ttlMs));
      return true;
    },
  };

  /** @internal See {@link SYNC_STORE}. */
  get [SYNC_STORE](): SyncStore | undefined {
    const own = MemoryIdempotencyStore.prototype;
    return this.acquire === own.acquire && this.complete === own.complete ? this.sync : undefined;
  }

  /** {@inheritDoc IdempotencyStore.renew} */
  renew(key: string, token: string, lockTtlMs: number): Promise<boolean> {
    const entry = this.entries.peek(key);
    if (entry === undefined || entry.status !== 'in-progress' || entry.token !== token) return Promise.resolve(false);
    this.entries.set(key, entry, this.ttlOption(lockTtlMs));
    return Promise.resolve(true);
  }

  /** {@inheritDoc IdempotencyStore.release} */
  release(key: string, token: string): Promise<boolean> {
    const entry = this.entries.peek(key);
    if (entry === undefined || entry.status !== 'in-progress' || entry.token !== token) return Promise.resolve(false);
    this.entries.delete(key);
    return Promise.resolve(true);
  }

  /** Drops every record. */
  clear(): void {
    this.entries.clear();
  }
}
