/**
 * Why the bus went down: `'disconnected'` (its connection closed), `'silent'` (no heartbeat came
 * back within three `busHeartbeat`s although the connection looked open), `'behind'` (messages
 * were missed and the catch-up log could not be read).
 *
 * @example
 * ```ts
 * cache.on('bus-down', ({ reason }: { reason: BusDownReason }) => log.warn({ reason }, 'cache bus down'));
 * ```
 */
export type BusDownReason = 'disconnected' | 'silent' | 'behind';

/** Names the layer a hit came from. */
export type CacheLayer = 'l1' | 'l2';

/** The events of a cache and their payloads. `namespace` is `undefined` for the root. */
export interface CacheEvents {
  /** A lookup found a fresh value. */
  hit: {
    /** The key, as the caller gave it. */
    key: string;
    /** The namespace, `undefined` for the root. */
    namespace: string | undefined;
    /** Where the value came from. */
    layer: CacheLayer;
  };
  /** A lookup found nothing fresh. */
  miss: {
    /** The key, as the caller gave it. */
    key: string;
    /** The namespace, `undefined` for the root. */
    namespace: string | undefined;
  };
  /** A stale value was served. */
  stale: {
    /** The key, as the caller gave it. */
    key: string;
    /** The namespace, `undefined` for the root. */
    namespace: string | undefined;
    /** Why the stale value was served instead of a fresh one. */
    reason: 'factory-error' | 'soft-timeout' | 'hard-timeout' | 'l2-down';
  };
  /** A background refresh started (early refresh, or factory finishing past a soft timeout). */
  refresh: {
    /** The key, as the caller gave it. */
    key: string;
    /** The namespace, `undefined` for the root. */
    namespace: string | undefined;
  };
  /** Something failed without reaching the caller (L2, bus, deserialization) or a factory threw. */
  error: {
    /** What was thrown or returned by Redis, the serializer or the factory. */
    error: unknown;
    /** What the cache was doing: `'l2-<command>'` (e.g. `'l2-get'`, `'l2-set'`), `'deserialize'`, `'bus'`, `'factory'`, `'clear'`, `'invalidate-pattern'`. */
    operation: string;
    /** The key involved, when there was one. */
    key: string | undefined;
    /** The namespace, `undefined` for the root. */
    namespace: string | undefined;
  };
  /** The L2 breaker opened: L2 is skipped for `breaker.cooldown`. */
  'l2-down': {
    /** The failure that opened the breaker. */
    error: unknown;
  };
  /** The L2 breaker closed again after a successful probe. */
  'l2-up': Record<string, never>;
  /** The bus cannot be trusted any more; L1 entries are trusted for `busDownL1Ttl` only. */
  'bus-down': {
    /** Why: see {@link BusDownReason}. */
    reason: BusDownReason;
  };
  /** The bus is back and caught up: L1 dropped only what was invalidated meanwhile. */
  'bus-up': {
    /** Invalidations read from the catch-up log and applied. */
    caughtUp: number;
    /** True when the log could not cover the outage and L1 was emptied instead. */
    resynced: boolean;
  };
}
