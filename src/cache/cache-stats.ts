/** State of the L2 circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Counters of a cache, from {@link Cache.stats}. Counts start at creation. */
export interface CacheStats {
  /** L1 hits and misses (a miss is any lookup that had to go past L1). */
  l1: {
    /** Lookups answered from L1. */
    hits: number;
    /** Lookups that had to go past L1. */
    misses: number;
    /** Entries held in L1 now. */
    size: number;
  };
  /** L2 hits and misses, failed calls and calls abandoned past `l2Timeout`. */
  l2: {
    /** Lookups answered from L2. */
    hits: number;
    /** Lookups L2 had no fresh value for. */
    misses: number;
    /** L2 calls that failed (connection errors, replies the cache could not use). */
    errors: number;
    /** L2 calls abandoned after `l2Timeout`. */
    timeouts: number;
    /**
     * Whether L2 reads take the direct path now: `GET`s handed to ioredis as commands that
     * deliver their reply straight to the cache, without a promise per read (standalone clients
     * of ioredis 5 and 6). `false` on a Cluster, with `directReads: false`, while something
     * traces ioredis commands (the reads then go through `client.get` so the tracer sees them),
     * without Redis, and on an ioredis whose internals no longer match what the path relies on.
     */
    directReads: boolean;
  };
  /** `(l1.hits + l2.hits) / lookups`, 0 when there was no lookup. */
  hitRate: number;
  /** Stale values served (factory failed or slow, or L2 down). */
  staleServed: number;
  /** Factory runs, and those that threw or passed the hard timeout. */
  factory: {
    /** Factory runs. */
    calls: number;
    /** Factory runs that threw. */
    errors: number;
    /** Factory runs that passed `factoryTimeout.hard`. */
    timeouts: number;
    /**
     * `getOrSet` calls that joined the run (or L2 read) already in flight for their key instead
     * of starting their own: the factory runs stampede protection saved in this process.
     */
    coalesced: number;
  };
  /** Background refreshes started by `earlyRefresh` or a soft timeout. */
  refreshes: number;
  /** The L2 breaker's state and how many times it opened. */
  breaker: {
    /** `'closed'` (L2 in use), `'open'` (skipped) or `'half-open'` (one probe in flight). */
    state: BreakerState;
    /** How many times the breaker opened. */
    opened: number;
  };
  /** Whether the bus is up, messages received and published, and what catching up took. */
  bus: {
    /** Whether the cache has an invalidation bus (a Redis client was given and `bus` is not `false`). */
    enabled: boolean;
    /**
     * Whether the bus is up: subscribed, its heartbeat heard within the bound (see
     * `busHeartbeat`), and caught up with the log. `false` while L1 is trusted only for
     * `busDownL1Ttl`.
     */
    connected: boolean;
    /** Messages received live from other instances. */
    messagesIn: number;
    /** Messages published by this instance. */
    messagesOut: number;
    /** Invalidations of other instances applied from the catch-up log (missed live). */
    caughtUp: number;
    /** Times L1 was emptied because the log could not tell what was missed. */
    resyncs: number;
    /** Invalidations of this instance waiting to be appended to the log (Redis did not take them yet). */
    pending: number;
  };
  /** Cross-process lock: acquired, waited for another holder, waits that gave up. */
  lock: {
    /** Cross-process locks this instance took. */
    acquired: number;
    /** Times this instance waited for another holder's value. */
    waited: number;
    /** Waits that gave up after `lock.wait` and ran the factory. */
    timedOut: number;
  };
}
