import type { Factory } from './cache.js';
import type { EntrySettings } from './entry-settings.js';
import type { L1Entry } from './l1-layer.js';
import type { Fail } from './l2-outcome.js';
import { L2Read } from './l2-read.js';

/**
 * Request sharing: the computations in progress in one key space, by key, which concurrent
 * callers of the same key join instead of starting their own. A getOrSet computation is a
 * {@link Flight} (L2 read, lock, factory, L2 write); a get() read is a {@link ReadFlight}.
 *
 * Both are the bounded L2 read itself ({@link L2Read}: deadline, promise, GET callback), so an
 * L2 hit allocates one object of ours, its promise and one callback, and settles in its owner's
 * reply handler without an async frame.
 */

/** A stale value that may be served. */
export interface Stale {
  value: unknown;
  /**
   * Set for an L1 entry still within its ttl that is only untrusted because the bus is down:
   * when L2 cannot be reached either, no invalidation can have been published since, so it is
   * served rather than calling the factory.
   */
  expiresAt?: number;
}

/** Handles the GET reply of a {@link Flight} (get-or-set.ts). */
export interface FlightOwner {
  flightReplied(flight: Flight, reply: string | null | Fail): void;
}

/** Handles the GET reply of a {@link ReadFlight} (get-handler.ts). */
export interface ReadFlightOwner {
  readReplied(flight: ReadFlight, reply: string | null | Fail): void;
}

/** Told when a stale value turns up while a flight runs (the soft timeout, see soft-timeout.ts). */
export interface StaleListener {
  staleFound(): void;
}

/**
 * One getOrSet computation for one key: what concurrent callers share. `dirty` when the key was
 * set, deleted or cleared meanwhile: the result is then returned but not cached. `stale`: a
 * value that may be served if the factory fails or is slow.
 */
export class Flight extends L2Read {
  /** What callers get: {@link L2Read.promise}, or the soft timeout's promise around it. */
  shared: Promise<unknown>;
  dirty = false;
  stale: Stale | undefined = undefined;
  /** For an early refresh: the entry being refreshed (an L2 value counts only if newer). */
  refreshOf: L1Entry | undefined = undefined;
  /** The soft timeout watching this flight, when `factoryTimeout.soft` is set. */
  staleListener: StaleListener | undefined = undefined;
  /**
   * The L2 write of the computed value, still pending after the callers were answered (it never
   * rejects). The flight stays registered until it settles, so later callers of this process
   * share the computed value instead of reading L2 or running the factory again.
   */
  write: Promise<unknown> | undefined = undefined;

  constructor(
    readonly owner: FlightOwner,
    readonly key: string,
    readonly factory: Factory<unknown>,
    readonly settings: EntrySettings,
  ) {
    super();
    this.shared = this.promise;
  }

  onReply(reply: string | null | Fail): void {
    this.owner.flightReplied(this, reply);
  }

  /** Records a stale value found in L2 (if none yet), and tells the soft timeout. */
  offerStale(value: unknown): void {
    if (this.stale !== undefined) return;
    this.stale = { value };
    this.staleListener?.staleFound();
  }
}

/**
 * One coalesced get() read of L2, settled with the answer itself (value or `undefined`), so its
 * callers share one promise. `dirty` as for {@link Flight}; `stale`: the L1 value to serve if L2
 * cannot be reached; `callers`: how many calls share it (counters and events are per call).
 */
export class ReadFlight extends L2Read {
  dirty = false;
  callers = 1;

  constructor(
    readonly owner: ReadFlightOwner,
    readonly key: string,
    public stale: Stale | undefined,
  ) {
    super();
  }

  onReply(reply: string | null | Fail): void {
    this.owner.readReplied(this, reply);
  }
}

/** The flights of one key space, by key; marks them dirty when their keys change. */
export class Flights {
  /** getOrSet computations. */
  readonly computing = new Map<string, Flight>();
  /** get() reads. */
  readonly reading = new Map<string, ReadFlight>();

  /** Removes `flight`, if it is still the one registered for its key (a dirty flight waiting for its write may have been replaced). */
  end(flight: Flight): void {
    if (this.computing.get(flight.key) === flight) this.computing.delete(flight.key);
  }

  /** `key` was set, deleted or invalidated: what is in flight for it must not be cached. */
  markDirty(key: string): void {
    const computing = this.computing.get(key);
    if (computing !== undefined) computing.dirty = true;
    const reading = this.reading.get(key);
    if (reading !== undefined) reading.dirty = true;
  }

  /** Marks dirty every flight whose key matches `pattern`. */
  markMatching(pattern: RegExp): void {
    for (const [key, flight] of this.computing) if (pattern.test(key)) flight.dirty = true;
    for (const [key, flight] of this.reading) if (pattern.test(key)) flight.dirty = true;
  }

  /** Marks every flight dirty (a clear). */
  markAll(): void {
    for (const flight of this.computing.values()) flight.dirty = true;
    for (const flight of this.reading.values()) flight.dirty = true;
  }
}
