import { LRUCache } from 'lru-cache';
import type { L1Options } from './cache-options.js';
import { createdAtOf, EXPIRES, SIZE, staleUntilOf, TAGS, VALUE, type EntryContent, type Envelope } from './envelope.js';
import type { CacheState } from './space-context.js';
import type { TagTimes } from './tag-times.js';

/** One L1 entry. Times are epoch ms, except `createdAt` (a `stamp()`, µs). */
export interface L1Entry {
  value: unknown;
  /** `Promise.resolve(value)`, made once, returned by every hot-path hit (no allocation per hit); unset with `clone`. */
  promise: Promise<unknown> | undefined;
  createdAt: number;
  expiresAt: number;
  staleUntil: number;
  /** When a hit starts a background refresh; `expiresAt` when early refresh is off or done. */
  refreshAt: number;
  tags: readonly string[] | undefined;
  /** The tag epoch at which the tags were last checked (-1: never). */
  tagEpoch: number;
  /** When this entry entered L1. */
  storedAt: number;
}

/** What a lookup makes of an L1 entry (see {@link L1Layer.classify}): fresh, serve it. */
export const FRESH = 0;
/** Fresh, and past its early-refresh point: serve it and refresh it in the background. */
export const REFRESH = 1;
/** Past its ttl (or untrusted), within grace: a fallback only. */
export const STALE = 2;
/** Unusable; it was removed. */
export const DEAD = 3;
/** One of {@link FRESH}, {@link REFRESH}, {@link STALE}, {@link DEAD}. */
export type EntryState = typeof FRESH | typeof REFRESH | typeof STALE | typeof DEAD;

/** What an entry put in L1 is made of: its content, early refresh, and its size for `maxBytes`. */
export interface L1Content extends EntryContent {
  earlyRefresh: number;
  /** Its size for `l1.maxBytes` (the stored text's length), at least 1. */
  size: number;
}

/**
 * The first level of one key space: an lru-cache of {@link L1Entry}, and the rules that say
 * whether an entry may be served: its tags (against this key space's tag times), the bus (an
 * entry stored before the bus went down is trusted for `busDownL1Ttl` only), its times.
 */
export class L1Layer {
  readonly lru: LRUCache<string, L1Entry>;
  /** True when `l1.maxBytes` is set: entries carry their size. */
  readonly countsBytes: boolean;

  private readonly tagTimes: TagTimes;
  private readonly state: CacheState;
  private readonly busDownL1Ttl: number;
  /** `clone`: hits are copies, so no shared promise is kept. */
  private readonly clone: boolean;

  constructor(setup: { options: L1Options; tagTimes: TagTimes; state: CacheState; busDownL1Ttl: number; clone: boolean }) {
    const { options } = setup;
    this.tagTimes = setup.tagTimes;
    this.state = setup.state;
    this.busDownL1Ttl = setup.busDownL1Ttl;
    this.clone = setup.clone;
    this.countsBytes = options.maxBytes !== undefined;
    this.lru = new LRUCache<string, L1Entry>(
      options.maxBytes === undefined ? { max: options.maxEntries } : { max: options.maxEntries, maxSize: options.maxBytes },
    );
  }

  /** Classifies `entry` (found under `key`) at `now`; removes it when it is dead. */
  classify(key: string, entry: L1Entry, now: number): EntryState {
    if (entry.tags !== undefined && entry.tagEpoch !== this.tagTimes.epoch) {
      for (const tag of entry.tags) {
        if (this.tagTimes.timeOrHorizon(tag) >= entry.createdAt) {
          this.lru.delete(key);
          return DEAD;
        }
      }
      entry.tagEpoch = this.tagTimes.epoch;
    }
    if (this.state.busDown && entry.storedAt < now - this.busDownL1Ttl) {
      // Invalidations may have been missed: never fresh, at most a stale fallback.
      return now < entry.staleUntil ? STALE : DEAD;
    }
    if (now < entry.refreshAt) return FRESH;
    if (now < entry.expiresAt) return REFRESH;
    if (now < entry.staleUntil) return STALE;
    this.lru.delete(key);
    return DEAD;
  }

  /** Puts a value just computed or set. `content.value` is stored as given (clone it first if needed). */
  put(key: string, content: L1Content, now: number): void {
    const { value, expiresAt, earlyRefresh } = content;
    const entry: L1Entry = {
      value,
      promise: this.clone ? undefined : Promise.resolve(value),
      createdAt: content.createdAt,
      expiresAt,
      staleUntil: content.staleUntil,
      refreshAt: earlyRefresh > 0 ? Math.min(expiresAt, now + (expiresAt - now) * earlyRefresh) : expiresAt,
      tags: content.tags,
      // -1: the first hit checks the tags (one may have been invalidated while the value was computed).
      tagEpoch: -1,
      storedAt: now,
    };
    if (this.countsBytes) this.lru.set(key, entry, { size: content.size });
    else this.lru.set(key, entry);
  }

  /** Puts an entry read from L2 (an L2 hit). */
  putDecoded(key: string, envelope: Envelope, earlyRefresh: number, now: number): void {
    const tags = envelope[TAGS];
    this.put(
      key,
      {
        value: envelope[VALUE],
        createdAt: createdAtOf(envelope),
        expiresAt: envelope[EXPIRES],
        staleUntil: staleUntilOf(envelope),
        tags: tags === 0 ? undefined : tags,
        earlyRefresh,
        size: envelope[SIZE] ?? 1,
      },
      now,
    );
  }

  /** Removes the entries whose keys match `pattern`. */
  deleteMatching(pattern: RegExp): void {
    for (const key of [...this.lru.keys()]) if (pattern.test(key)) this.lru.delete(key);
  }
}
