import type { Factory } from './cache.js';
import type { CacheTime } from './clock.js';
import type { SpaceCounters } from './counters.js';
import type { EntrySettings } from './entry-settings.js';
import { freshFor, isEntry, type EntryReader } from './entry-reader.js';
import { EXPIRES, staleUntilOf, VALUE, type Envelope } from './envelope.js';
import type { FactoryRunner } from './factory-runner.js';
import { Flight, ReadFlight, type FlightOwner, type Flights, type ReadFlightOwner, type Stale } from './flights.js';
import type { L1Entry, L1Layer } from './l1-layer.js';
import type { L2 } from './l2.js';
import { FAIL, type Fail } from './l2-outcome.js';
import type { RedisLock } from './redis-lock.js';
import { SoftTimeout } from './soft-timeout.js';
import type { SpaceEvents } from './space-events.js';
import type { SpaceKeys } from './space-keys.js';
import { TAGS_INVALID, TAGS_UNKNOWN, TAGS_VALID, type TagCheck } from './tag-check.js';

const RESOLVED: Promise<void> = Promise.resolve();

function noop(): void {}

/** What a {@link TwoTierHandler} works with: the parts of its key space. */
export interface TwoTierParts {
  l1: L1Layer | undefined;
  l2: L2 | undefined;
  keys: SpaceKeys;
  flights: Flights;
  reader: EntryReader;
  tags: TagCheck;
  /** `undefined` without Redis. */
  lock: RedisLock | undefined;
  runner: FactoryRunner;
  counters: SpaceCounters;
  events: SpaceEvents;
  /** The key space's defaults (a `get()` fills L1 with their `earlyRefresh`). */
  defaults: EntrySettings;
  clone: boolean;
  time: CacheTime;
}

/**
 * What happens past L1: `getOrSet` and `get` of one key space once L1 had no fresh value.
 *
 * getOrSet: join the key's flight if one runs, else start one: an L2 `GET` (an L2 hit settles
 * in {@link TwoTierHandler.flightReplied}, synchronously, without an async frame), then, in
 * {@link TwoTierHandler.afterRead}: tag times from Redis if needed, a stale candidate, the
 * cross-process lock, and the factory, which stores its result. get: one coalesced L2 read per
 * key, answered with the value or `undefined`.
 */
export class TwoTierHandler implements FlightOwner, ReadFlightOwner {
  constructor(private readonly parts: TwoTierParts) {}

  // ---------------------------------------------------------------------------------------------
  // getOrSet

  /**
   * getOrSet of `key` after an L1 miss (`stale`: the L1 entry past its ttl, if any). Not
   * `async`: returning the shared promise directly saves the ticks of re-wrapping it.
   */
  getOrSet(key: string, factory: Factory<unknown>, settings: EntrySettings, stale: Stale | undefined): Promise<unknown> {
    const running = this.parts.flights.computing.get(key);
    // A flight that only waits for its L2 write and was overtaken by a set/delete has an outdated
    // answer: start a new flight rather than share it.
    if (running !== undefined && (running.write === undefined || !running.dirty)) {
      this.parts.counters.coalesced++;
      return this.share(running.shared);
    }
    const flight = new Flight(this, key, factory, settings);
    flight.stale = stale;
    this.start(flight);
    return this.share(flight.shared);
  }

  /** Refreshes `entry` in the background (early refresh), unless a flight for `key` runs already. */
  refresh(key: string, factory: Factory<unknown>, settings: EntrySettings, entry: L1Entry): void {
    if (this.parts.flights.computing.has(key)) return;
    this.parts.counters.refreshes++;
    this.parts.events.refresh(key);
    const flight = new Flight(this, key, factory, settings);
    flight.stale = { value: entry.value };
    flight.refreshOf = entry;
    this.start(flight);
    flight.shared.catch(noop); // errors were reported already; nobody awaits a refresh
  }

  /** Registers and starts `flight`: its GET, or, without L2, the rest at once. */
  private start(flight: Flight): void {
    this.parts.flights.computing.set(flight.key, flight);
    const l2 = this.parts.l2;
    if (l2 === undefined) flight.resolve(this.afterRead(flight, undefined, false));
    else l2.read(flight, this.parts.keys.entry(flight.key));
    const { softTimeout } = flight.settings;
    if (softTimeout > 0 && flight.refreshOf === undefined) {
      flight.shared = new SoftTimeout(flight, this.parts.counters, this.parts.events).start(softTimeout);
    }
  }

  /** @internal The GET reply of a flight (see {@link Flight.onReply}); may run inside ioredis' reply parser. */
  flightReplied(flight: Flight, reply: string | null | Fail): void {
    const now = this.parts.time.coarse();
    let read: Envelope | undefined | Fail;
    let confirmTags = false;
    try {
      read = this.parts.reader.decode(flight.key, reply, now);
      if (isEntry(read)) {
        const verdict = this.parts.tags.judge(read);
        if (verdict === TAGS_INVALID) read = undefined;
        else if (verdict === TAGS_UNKNOWN) confirmTags = true;
        else if (freshFor(read, flight.refreshOf, now)) {
          // No identity check (one hash lookup less): only a flight waiting for its L2 write can
          // be replaced in `computing`, and this one is still reading.
          this.parts.flights.computing.delete(flight.key);
          flight.resolve(this.l2Hit(flight, read, flight.settings.earlyRefresh, now));
          return;
        }
      }
    } catch (error) {
      this.parts.flights.end(flight);
      flight.reject(error);
      return;
    }
    // Not an L2 hit: the rest may run the factory, user code that must not run inside ioredis'
    // reply parser (where a direct GET's reply arrives), so it starts in a microtask.
    const first = read;
    flight.resolve(RESOLVED.then(() => this.afterRead(flight, first, confirmTags)));
  }

  /**
   * The rest of a flight after its L2 read (`first`; `confirmTags`: its tag times must be read
   * from Redis first), or without L2: a stale candidate, the cross-process lock, then the
   * factory, which stores its result.
   */
  private async afterRead(flight: Flight, first: Envelope | undefined | Fail, confirmTags: boolean): Promise<unknown> {
    const { key, settings, refreshOf } = flight;
    const { counters, events, lock } = this.parts;
    let token: string | undefined;
    try {
      if (this.parts.l2 !== undefined) {
        const read = confirmTags && isEntry(first) ? await this.parts.tags.confirm(first) : first;
        if (isEntry(read)) {
          if (freshFor(read, refreshOf, this.parts.time.now())) return this.l2Hit(flight, read, settings.earlyRefresh, this.parts.time.now());
          if (this.parts.time.now() < staleUntilOf(read)) flight.offerStale(read[VALUE]);
        }
        const stale = flight.stale;
        if (read === FAIL && stale?.expiresAt !== undefined && this.parts.time.now() < stale.expiresAt) {
          counters.staleServed++;
          events.stale(key, 'l2-down');
          return stale.value;
        }
        if (read !== FAIL) counters.l2Misses++;
        if (settings.lock !== undefined && read !== FAIL && lock !== undefined) {
          const outcome = await lock.acquireOrWait(key, settings.lock, refreshOf);
          if (typeof outcome === 'object') return this.l2Hit(flight, outcome, settings.earlyRefresh, this.parts.time.now());
          token = outcome;
        }
      }
      if (refreshOf === undefined) events.miss(key);
      return await this.parts.runner.run(flight);
    } finally {
      // The callers are answered as soon as the value is in L1; the L2 write finishes in the
      // background, and only then may the lock go (a waiter of another process that finds the
      // lock free must find the value in Redis).
      const write = flight.write;
      if (write === undefined) this.finish(flight, token);
      else {
        const finish = (): void => this.finish(flight, token);
        void write.then(finish, finish);
      }
    }
  }

  /** Ends a flight once its L2 write (if any) settled: releases the lock it holds, if any. */
  private finish(flight: Flight, token: string | undefined): void {
    if (token !== undefined) this.parts.lock?.release(flight.key, token);
    this.parts.flights.end(flight);
  }

  // ---------------------------------------------------------------------------------------------
  // get

  /** get of `key` after an L1 miss (`stale`: the L1 entry past its ttl, if any). */
  get(key: string, stale: Stale | undefined): Promise<unknown> {
    const l2 = this.parts.l2;
    if (l2 === undefined) {
      this.parts.events.miss(key);
      return Promise.resolve(undefined);
    }
    let flight = this.parts.flights.reading.get(key);
    if (flight === undefined) {
      flight = new ReadFlight(this, key, stale);
      this.parts.flights.reading.set(key, flight);
      l2.read(flight, this.parts.keys.entry(key));
    } else {
      flight.callers++;
      flight.stale ??= stale;
    }
    return this.share(flight.promise);
  }

  /**
   * @internal The GET reply of a coalesced `get()` read (see {@link ReadFlight.onReply}):
   * settles it with the answer, synchronously unless tag times must be read from Redis first.
   */
  readReplied(flight: ReadFlight, reply: string | null | Fail): void {
    // No identity check: a read is registered only while none is, and each read ends once.
    this.parts.flights.reading.delete(flight.key);
    const now = this.parts.time.coarse();
    try {
      const read = this.parts.reader.decode(flight.key, reply, now);
      const verdict = isEntry(read) ? this.parts.tags.judge(read) : TAGS_VALID;
      if (verdict === TAGS_UNKNOWN && isEntry(read)) {
        flight.resolve(this.parts.tags.confirm(read).then((checked) => this.answerRead(flight, checked, this.parts.time.coarse())));
      } else {
        flight.resolve(this.answerRead(flight, verdict === TAGS_INVALID ? undefined : read, now));
      }
    } catch (error) {
      flight.reject(error);
    }
  }

  /** What the callers of a `get()` read get; counters and events count each caller. */
  private answerRead(flight: ReadFlight, read: Envelope | undefined | Fail, now: number): unknown {
    const { key, callers } = flight;
    const { counters, events } = this.parts;
    if (read === FAIL) {
      const stale = flight.stale;
      if (stale !== undefined) {
        counters.staleServed += callers;
        for (let i = 0; i < callers; i++) events.stale(key, 'l2-down');
        return stale.value;
      }
    } else if (read !== undefined && now < read[EXPIRES]) {
      const value = this.l2Hit(flight, read, this.parts.defaults.earlyRefresh, now);
      counters.l2Hits += callers - 1;
      for (let i = 1; i < callers; i++) events.hit(key, 'l2');
      return value;
    } else {
      counters.l2Misses += callers;
    }
    for (let i = 0; i < callers; i++) events.miss(key);
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Shared

  /** Counts an L2 hit, fills L1 (unless the key changed meanwhile), returns the value. */
  private l2Hit(flight: Flight | ReadFlight, read: Envelope, earlyRefresh: number, now: number): unknown {
    this.parts.counters.l2Hits++;
    this.parts.events.hit(flight.key, 'l2');
    if (!flight.dirty) this.parts.l1?.putDecoded(flight.key, read, earlyRefresh, now);
    return read[VALUE];
  }

  /** What callers get from a shared promise: copies of the value with `clone`. */
  private share(promise: Promise<unknown>): Promise<unknown> {
    return this.parts.clone ? promise.then(structuredClone) : promise;
  }
}
