import type { CacheTime } from './clock.js';
import type { Emitter, AbortHandle } from '../core/index.js';
import type { BusMessage } from './bus-message.js';
import type { Cache } from './cache.js';
import type { CacheEvents } from './cache-events.js';
import type { CacheStats } from './cache-stats.js';
import type { CoreCounters, SpaceFigures } from './counters.js';
import type { EntryCodec } from './envelope.js';
import type { L2 } from './l2.js';

/** The cache-wide state that key spaces read on every call: it changes while the cache runs. */
export interface CacheState {
  /** True when the cache has an invalidation bus. */
  readonly hasBus: boolean;
  /**
   * True while the bus exists and is down: L1 entries are trusted for `busDownL1Ttl` only, and
   * tag times remembered in memory not at all (they are read from Redis).
   */
  readonly busDown: boolean;
  /** True once `close()` was called. */
  readonly closed: boolean;
}

/** Settings every key space shares, read once by `createCache`. */
export interface SharedSettings {
  /** Prefix of every Redis key and bus channel. */
  readonly prefix: string;
  readonly clone: boolean;
  readonly maxKeyLength: number;
  readonly codec: EntryCodec;
  /** How long tag invalidation times live in Redis (and tagged entries at most). */
  readonly tagRetention: number;
  readonly maxTrackedTags: number;
  readonly busDownL1Ttl: number;
  /** The cache's clock (`clock` option). */
  readonly time: CacheTime;
}

/**
 * What a key space gets from the cache it belongs to: the shared connections, events, counters
 * and state, and the few cache-wide operations its public methods forward. The core implements
 * it; a key space never sees the core itself.
 */
export interface SpaceContext {
  readonly instanceId: string;
  readonly settings: SharedSettings;
  readonly state: CacheState;
  readonly emitter: Emitter<CacheEvents>;
  /** Redis, bounded and behind the breaker; `undefined` without `redis`. */
  readonly l2: L2 | undefined;
  readonly counters: CoreCounters;
  /** The running factories' abort handles: `close()` aborts them. */
  readonly factories: Set<AbortHandle>;
  /** Publishes on the bus (a no-op without one); never rejects. */
  publish(message: BusMessage): Promise<void>;
  /** `cache.namespace(name)`. */
  namespace(name: string): Cache;
  /** `stats()` of one key space, or of the whole cache (`undefined`). */
  stats(only: SpaceFigures | undefined): CacheStats;
  /** Empties every key space's L1 (the root's `clear()`). */
  dropEverything(): void;
  close(): Promise<void>;
}
