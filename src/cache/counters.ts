import type { BreakerState, CacheStats } from './cache-stats.js';
import type { BusLink } from './bus-link.js';
import type { L2 } from './l2.js';

/**
 * The counters of one key space (the root or a namespace). Plain fields: the hot paths count
 * with one increment. `stats()` adds them up with the cache-wide {@link CoreCounters}.
 */
export class SpaceCounters {
  l1Hits = 0;
  l1Misses = 0;
  l2Hits = 0;
  l2Misses = 0;
  staleServed = 0;
  factoryCalls = 0;
  factoryErrors = 0;
  factoryTimeouts = 0;
  /** `getOrSet` calls that joined a computation already running for their key (stampede protection). */
  coalesced = 0;
  /** Background refreshes started (early refresh, or a factory finishing past its soft timeout). */
  refreshes = 0;
}

const COUNTER_NAMES = Object.keys(new SpaceCounters()) as Array<keyof SpaceCounters>;

/** The counters shared by every key space of a cache: L2 failures and the cross-process lock. */
export class CoreCounters {
  l2Errors = 0;
  l2Timeouts = 0;
  lockAcquired = 0;
  lockWaited = 0;
  lockTimedOut = 0;
}

/** What `stats()` reads from one key space. */
export interface SpaceFigures {
  readonly counters: SpaceCounters;
  /** Entries in its L1 now. */
  readonly l1Size: number;
}

/** What `stats()` reads from the whole cache. */
export interface CoreFigures {
  readonly counters: CoreCounters;
  readonly l2: L2 | undefined;
  readonly bus: BusLink | undefined;
  /** True while a bus exists and is down. */
  readonly busDown: boolean;
}

/** Adds up the counters of `spaces` (one namespace, or all of them for the root) into {@link CacheStats}. */
export function statsOf(spaces: readonly SpaceFigures[], core: CoreFigures): CacheStats {
  const sum = new SpaceCounters();
  let size = 0;
  for (const space of spaces) {
    for (const name of COUNTER_NAMES) sum[name] += space.counters[name];
    size += space.l1Size;
  }
  const { counters, l2, bus } = core;
  const lookups = sum.l1Hits + sum.l1Misses;
  return {
    l1: { hits: sum.l1Hits, misses: sum.l1Misses, size },
    l2: { hits: sum.l2Hits, misses: sum.l2Misses, errors: counters.l2Errors, timeouts: counters.l2Timeouts, directReads: l2?.directReads ?? false },
    hitRate: lookups === 0 ? 0 : (sum.l1Hits + sum.l2Hits) / lookups,
    staleServed: sum.staleServed,
    factory: { calls: sum.factoryCalls, errors: sum.factoryErrors, timeouts: sum.factoryTimeouts, coalesced: sum.coalesced },
    refreshes: sum.refreshes,
    // The cache never isolates its L2 breaker, so its state is one of BreakerState's three.
    breaker: { state: (l2?.breaker.state ?? 'closed') as BreakerState, opened: l2?.breaker.stats().opened ?? 0 },
    bus: {
      enabled: bus !== undefined,
      connected: bus !== undefined && !core.busDown,
      messagesIn: bus?.messagesIn ?? 0,
      messagesOut: bus?.messagesOut ?? 0,
      caughtUp: bus?.caughtUp ?? 0,
      resyncs: bus?.resyncs ?? 0,
      pending: bus?.pending ?? 0,
    },
    lock: { acquired: counters.lockAcquired, waited: counters.lockWaited, timedOut: counters.lockTimedOut },
  };
}
