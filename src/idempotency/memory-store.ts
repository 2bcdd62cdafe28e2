import { LRUCache } from 'lru-cache';
import { integerOption, objectArgument } from '../core/index.js';
import { KEEPS_VALUES } from './internal.js';
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

interface Entry {
  /** Absolute expiry (Date.now() ms): the lease's while in progress, the result's once completed. */
  expiresAt: number;
  /** The lease holder's token; `undefined` once completed. */
  token: string | undefined;
  fingerprint: string;
  /** Built once at completion, so that a replay allocates nothing. */
  completed: CompletedRecord | undefined;
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

  /** The number of records held, expired ones included until they are read or pushed out. */
  get size(): number {
    return this.entries.size;
  }

  /** {@inheritDoc IdempotencyStore.acquire} */
  acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAt <= now) {
      this.entries.set(key, { expiresAt: now + lockTtlMs, token, fingerprint, completed: undefined });
      return Promise.resolve(ACQUIRED);
    }
    if (entry.completed !== undefined) return Promise.resolve(entry.completed);
    return Promise.resolve({ status: 'in-progress', fingerprint: entry.fingerprint, leaseRemainingMs: entry.expiresAt - now });
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const entry = this.entries.peek(key);
    const live = entry !== undefined && entry.expiresAt > now;
    if (live && (entry.completed !== undefined || entry.token !== token)) return Promise.resolve(false);
    const completed: CompletedRecord = { status: 'completed', fingerprint, value };
    if (live) {
      // Our own lease: complete the record in place (no new entry, no re-insertion); `get`
      // makes it the most recently used, as the completed result is.
      entry.expiresAt = now + ttlMs;
      entry.token = undefined;
      entry.fingerprint = fingerprint;
      entry.completed = completed;
      this.entries.get(key);
      return Promise.resolve(true);
    }
    this.entries.set(key, {
      expiresAt: now + ttlMs,
      token: undefined,
      fingerprint,
      completed,
    });
    return Promise.resolve(true);
  }

  /** {@inheritDoc IdempotencyStore.renew} */
  renew(key: string, token: string, lockTtlMs: number): Promise<boolean> {
    const now = Date.now();
    const entry = this.entries.peek(key);
    if (entry === undefined || entry.token !== token || entry.expiresAt <= now) return Promise.resolve(false);
    entry.expiresAt = now + lockTtlMs;
    return Promise.resolve(true);
  }

  /** {@inheritDoc IdempotencyStore.release} */
  release(key: string, token: string): Promise<boolean> {
    const entry = this.entries.peek(key);
    if (entry === undefined || entry.token !== token) return Promise.resolve(false);
    this.entries.delete(key);
    return Promise.resolve(true);
  }

  /** Drops every record. */
  clear(): void {
    this.entries.clear();
  }
}
