import { LRUCache } from 'lru-cache';
import { ErrorCode, HeadroomError, invalidArgument, type Disposer, type Duration, type Listener } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import type { BusMessage } from './bus.js';
import type { CacheCore } from './cache-core.js';
import { coarseNow, stamp } from './clock.js';
import { FAIL, L2Read, type Fail } from './l2.js';
import { createdAtOf, decodeEnvelope, encodeEnvelope, EXPIRES, SIZE, staleUntilOf, TAGS, VALUE, type Envelope } from './envelope.js';
import { escapeGlob, globToRegExp } from './glob.js';
import { FactoryContextImpl } from './factory-context.js';
import { resolveCall, resolveTags, type Resolved } from './options.js';
import { TagTimes } from './tag-times.js';
import type {
  Cache,
  CacheEvents,
  CacheStats,
  Factory,
  GetOrSetOptions,
  L1Options,
  SetOptions,
  WarmEntry,
  WarmSource,
} from './types.js';

/** One L1 entry. Times are epoch ms, except `createdAt` (a {@link stamp}, µs). */
export interface L1Entry {
  value: unknown;
  /** `Promise.resolve(value)`, made once, returned by every L1 hit (no allocation per hit). */
  promise: Promise<unknown> | undefined;
  createdAt: number;
  expiresAt: number;
  staleUntil: number;
  /** When a hit starts a background refresh; `expiresAt` when early refresh is off or done. */
  refreshAt: number;
  tags: readonly string[] | undefined;
  /** The tag epoch at which the tags were last checked. */
  tagEpoch: number;
  /** When this entry entered L1. */
  storedAt: number;
}

/**
 * A computation in progress (L2 read, lock, factory, store) for one key: what concurrent callers
 * share. `dirty` when the key was set, deleted or cleared meanwhile: the result is then returned
 * but not cached. `stale`: a value that may be served if the factory fails or is slow.
 *
 * It is also the bounded L2 read itself ({@link L2Read}: deadline node, promise, GET callback), so
 * an L2 hit allocates one object of ours, its promise and one callback, and settles in
 * {@link KeySpace.onReply} without an async frame.
 */
class Flight extends L2Read {
  /** What callers get: {@link L2Read.promise}, or the soft-timeout race around it. */
  shared: Promise<unknown>;
  dirty = false;
  /** Set once `factoryTimeout.soft` passed without a stale value: serves one found later. */
  serveStale: (() => void) | undefined = undefined;
  /**
   * The L2 write of the computed value, still pending after the callers were answered (it never
   * rejects). The flight stays in `inflight` until it settles, so later callers of this process
   * share the computed value instead of reading L2 or running the factory again.
   */
  write: Promise<unknown> | undefined = undefined;
  constructor(
    readonly space: KeySpace,
    readonly key: string,
    readonly factory: Factory<unknown>,
    readonly o: Resolved,
    public stale: Stale | undefined,
    /** For an early refresh: the entry being refreshed (an L2 value counts only if newer). */
    readonly refreshOf: L1Entry | undefined,
  ) {
    super();
    this.shared = this.promise;
  }

  onReply(reply: string | null | Fail): void {
    this.space.onReply(this, reply);
  }
}

/**
 * A coalesced L2 read of `get()`, settled with the answer itself (value or `undefined`), so its
 * callers share one promise. `dirty` as for {@link Flight}; `stale`: the L1 value to serve if L2
 * cannot be reached; `callers`: how many calls share it (counters and events are per call).
 */
class ReadFlight extends L2Read {
  dirty = false;
  callers = 1;
  constructor(
    readonly space: KeySpace,
    readonly key: string,
    public stale: Stale | undefined,
  ) {
    super();
  }

  onReply(reply: string | null | Fail): void {
    this.space.onRead(this, reply);
  }
}

/** A stale value that may be served. */
interface Stale {
  value: unknown;
  /**
   * Set for an L1 entry still within its ttl that is only untrusted because the bus is down:
   * when L2 cannot be reached either, no invalidation can have been published since, so it is
   * served rather than calling the factory.
   */
  expiresAt?: number;
}

const FRESH = 0;
const REFRESH = 1;
const STALE = 2;
const DEAD = 3;
type EntryState = typeof FRESH | typeof REFRESH | typeof STALE | typeof DEAD;

const WARM_BATCH = 64;
/** Returned by `decode` when tag times must be fetched before the entry can be judged. */
const CHECK_TAGS: unique symbol = Symbol('check-tags');

function markDirty(map: Map<string, Flight | ReadFlight>, key: string): void {
  const flight = map.get(key);
  if (flight !== undefined) flight.dirty = true;
}

function noop(): void {}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * One key space: the root cache or a namespace. Owns its L1, its tag times and its in-flight
 * maps; shares L2, the bus, the emitter and options with the other key spaces through the core.
 */
export class KeySpace implements Cache {
  readonly namespaceName: string | undefined;
  /** Prefix of this key space's Redis keys: `<prefix><namespace or _>:`. */
  readonly base: string;
  /** Prefix of its entries' keys: `<base>e:` (one concatenation per key). */
  private readonly entryPrefix: string;
  readonly tags: TagTimes;
  readonly l1: LRUCache<string, L1Entry> | undefined;

  // Counters (plain fields: one increment on the hot path).
  l1Hits = 0;
  l1Misses = 0;
  l2Hits = 0;
  l2Misses = 0;
  staleServed = 0;
  factoryCalls = 0;
  factoryErrors = 0;
  factoryTimeouts = 0;
  /** getOrSet calls that joined a flight already running for their key (stampede protection). */
  coalesced = 0;
  refreshes = 0;

  /**
   * True when an L1 hit can be answered on the hot path: there is an L1, values are not cloned,
   * and L1 is trusted (the bus is up, or there is no bus). Kept up to date by the core.
   */
  fast: boolean;
  private readonly emitter: CacheCore['emitter'];
  private readonly clone: boolean;
  private readonly sized: boolean;
  private readonly inflight = new Map<string, Flight>();
  private readonly reads = new Map<string, ReadFlight>();
  /** Lock waiters of this process, by key (one flight per key, so at most one each). */
  private readonly lockWakers = new Map<string, () => void>();
  private lockSeq = 0;
  /** Hand-off from `decode` to `checkTags` (same tick), to avoid a tuple per read. */
  private pendingEnvelope: Envelope | undefined;

  constructor(
    private readonly core: CacheCore,
    name: string | undefined,
    readonly defaults: Resolved,
    l1: L1Options | false,
  ) {
    this.namespaceName = name;
    this.base = `${core.prefix}${name ?? '_'}:`;
    this.entryPrefix = `${this.base}e:`;
    this.tags = new TagTimes(core.maxTrackedTags);
    this.clone = core.clone;
    this.emitter = core.emitter;
    this.fast = false;
    this.sized = l1 !== false && l1.maxBytes !== undefined;
    this.l1 =
      l1 === false
        ? undefined
        : new LRUCache<string, L1Entry>(l1.maxBytes === undefined ? { max: l1.maxEntries } : { max: l1.maxEntries, maxSize: l1.maxBytes });
    this.updateFast();
  }

  /** Recomputes {@link KeySpace.fast}; called when the bus goes up or down. */
  updateFast(): void {
    this.fast = this.l1 !== undefined && !this.clone && !this.core.busDown && !this.core.closed;
  }

  // ---------------------------------------------------------------------------------------------
  // Hot path

  /** {@inheritDoc Cache.getOrSet} */
  getOrSet<T>(key: string, factory: Factory<T>, options?: Duration | GetOrSetOptions): Promise<T> {
    if (this.fast) {
      const e = (this.l1 as LRUCache<string, L1Entry>).get(key);
      if (e !== undefined && coarseNow() < e.refreshAt && (e.tags === undefined || e.tagEpoch === this.tags.epoch)) {
        this.l1Hits++;
        if (this.emitter.has('hit')) this.emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l1' });
        return e.promise as Promise<T>;
      }
    }
    return this.getOrSetSlow(key, factory as Factory<unknown>, options) as Promise<T>;
  }

  // ---------------------------------------------------------------------------------------------
  // Slow paths

  /** Not `async`: returning the shared flight promise directly saves the ticks of re-wrapping it. */
  private getOrSetSlow(key: string, factory: Factory<unknown>, options: unknown): Promise<unknown> {
    let o: Resolved;
    try {
      this.checkKey(key);
      if (typeof factory !== 'function') throw invalidArgument('factory', 'a function', factory);
      o = options === undefined ? this.defaults : resolveCall(options, this.defaults, false);
    } catch (error) {
      return Promise.reject(error);
    }
    let stale: Stale | undefined;
    const e = this.l1?.get(key);
    if (e !== undefined) {
      const state = this.check(key, e, Date.now());
      if (state === FRESH || state === REFRESH) {
        this.l1Hits++;
        if (this.core.emitter.has('hit')) this.core.emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l1' });
        if (state === REFRESH) {
          e.refreshAt = e.expiresAt; // refresh once
          this.refreshInBackground(key, factory, o, e);
        }
        return Promise.resolve(this.out(e.value));
      }
      if (state === STALE) stale = e;
    }
    this.l1Misses++;
    const running = this.inflight.get(key);
    // A flight that only waits for its L2 write and was overtaken by a set/delete has an outdated
    // answer: start a new flight rather than share it.
    if (running !== undefined && (running.write === undefined || !running.dirty)) {
      this.coalesced++;
      return this.clone ? running.shared.then(structuredClone) : running.shared;
    }

    const flight = this.startFlight(new Flight(this, key, factory, o, stale, undefined));
    return this.clone ? flight.shared.then(structuredClone) : flight.shared;
  }

  /**
   * Starts a flight. With L2, the GET reply is handled by {@link KeySpace.onReply}: an L2 hit
   * settles there, synchronously, without an async frame; anything else continues in
   * {@link KeySpace.afterRead}. The flight leaves `inflight` when it ends.
   */
  private startFlight(flight: Flight): Flight {
    this.inflight.set(flight.key, flight);
    const l2 = this.core.l2;
    if (l2 === undefined) flight.resolve(this.afterRead(flight, undefined));
    else l2.read(flight, this.entryPrefix + flight.key);
    if (flight.o.soft > 0 && flight.refreshOf === undefined) flight.shared = this.softRace(flight, flight.promise);
    return flight;
  }

  /** @internal the GET reply of a flight (see {@link Flight.onReply}). */
  onReply(flight: Flight, raw: string | null | Fail): void {
    const now = coarseNow();
    let read: ReturnType<KeySpace['decode']>;
    try {
      read = this.decode(flight.key, raw, now);
      if (read !== CHECK_TAGS && read !== FAIL && read !== undefined && this.usable(read, flight.refreshOf, now)) {
        // No identity check (one hash lookup less): only a flight waiting for its L2 write can be
        // replaced in `inflight`, and this one is still reading.
        this.inflight.delete(flight.key);
        flight.resolve(this.l2Hit(flight.key, read, flight.o, flight, now));
        return;
      }
    } catch (error) {
      this.endFlight(flight);
      flight.reject(error);
      return;
    }
    // Not an L2 hit: the rest may run the factory, user code that must not run inside ioredis'
    // reply parser (where a direct GET's reply arrives), so it starts in a microtask.
    const first = read;
    flight.resolve(RESOLVED.then(() => this.afterRead(flight, first)));
  }

  /**
   * Removes a flight from `inflight`, if it is still the registered one: a dirty flight waiting
   * for its L2 write may have been replaced by a newer flight of the same key.
   */
  private endFlight(flight: Flight): void {
    if (this.inflight.get(flight.key) === flight) this.inflight.delete(flight.key);
  }

  /** Classifies an L1 entry; deletes it when it is dead. */
  private check(key: string, e: L1Entry, now: number): EntryState {
    if (e.tags !== undefined && e.tagEpoch !== this.tags.epoch) {
      for (const tag of e.tags) {
        if (this.tags.timeOrHorizon(tag) >= e.createdAt) {
          this.l1?.delete(key);
          return DEAD;
        }
      }
      e.tagEpoch = this.tags.epoch;
    }
    if (this.core.busDown && e.storedAt < now - this.core.busDownL1Ttl) {
      // Invalidations may have been missed: never fresh, at most a stale fallback.
      return now < e.staleUntil ? STALE : DEAD;
    }
    if (now < e.refreshAt) return FRESH;
    if (now < e.expiresAt) return REFRESH;
    if (now < e.staleUntil) return STALE;
    this.l1?.delete(key);
    return DEAD;
  }

  private out(value: unknown): unknown {
    return this.clone ? structuredClone(value) : value;
  }

  private refreshInBackground(key: string, factory: Factory<unknown>, o: Resolved, e: L1Entry): void {
    if (this.inflight.has(key)) return;
    this.refreshes++;
    if (this.core.emitter.has('refresh')) this.core.emitter.emit('refresh', { key, namespace: this.namespaceName });
    const flight = this.startFlight(new Flight(this, key, factory, o, { value: e.value }, e));
    flight.shared.catch(noop); // errors were reported already; nobody awaits a refresh
  }

  /**
   * Resolves with `work`, or, once `factoryTimeout.soft` has passed, with the flight's stale value
   * if it has one by then (from L1 or L2), while `work` goes on in the background.
   */
  private softRace(flight: Flight, work: Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const stale = flight.stale;
        if (stale === undefined) {
          // Nothing to serve yet: keep waiting, unless L2 yields a stale value before the factory ends.
          flight.serveStale = () => {
            const late = flight.stale;
            if (late === undefined) return;
            this.staleServed++;
            this.refreshes++;
            resolve(late.value);
          };
          return;
        }
        this.staleServed++;
        this.refreshes++;
        const emitter = this.core.emitter;
        if (emitter.has('stale')) emitter.emit('stale', { key: flight.key, namespace: this.namespaceName, reason: 'soft-timeout' });
        if (emitter.has('refresh')) emitter.emit('refresh', { key: flight.key, namespace: this.namespaceName });
        resolve(stale.value);
      }, flight.o.soft);
      timer.unref();
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  /**
   * The rest of a flight after the L2 read (or without L2): tag check, stale candidate, the
   * cross-process lock, then the factory, which stores its result.
   */
  private async afterRead(flight: Flight, first: ReturnType<KeySpace['decode']> | undefined): Promise<unknown> {
    const { key, o, refreshOf } = flight;
    const l2 = this.core.l2;
    let token: string | undefined;
    try {
      if (l2 !== undefined) {
        let read = first;
        if (read === CHECK_TAGS) read = await this.checkTags(this.pendingEnvelope as Envelope);
        if (read !== FAIL && read !== undefined) {
          if (this.usable(read, refreshOf, Date.now())) return this.l2Hit(key, read, o, flight, Date.now());
          if (flight.stale === undefined && Date.now() < staleUntilOf(read)) {
            flight.stale = { value: read[VALUE] };
            flight.serveStale?.();
          }
        }
        if (read === FAIL && flight.stale?.expiresAt !== undefined && Date.now() < flight.stale.expiresAt) {
          this.staleServed++;
          if (this.emitter.has('stale')) this.emitter.emit('stale', { key, namespace: this.namespaceName, reason: 'l2-down' });
          return flight.stale.value;
        }
        if (read !== FAIL) this.l2Misses++;
        if (o.lock !== undefined && read !== FAIL) {
          const outcome = await this.lockOrWait(key, o.lock, refreshOf);
          if (typeof outcome === 'object') return this.l2Hit(key, outcome, o, flight, Date.now());
          token = outcome;
        }
      }
      if (refreshOf === undefined && this.core.emitter.has('miss')) this.core.emitter.emit('miss', { key, namespace: this.namespaceName });
      return await this.runFactory(flight);
    } finally {
      // The callers are answered as soon as the value is in L1; the L2 write finishes in the
      // background, and only then may the lock go (a waiter of another process that finds the
      // lock free must find the value in Redis).
      const write = flight.write;
      if (write === undefined) this.finishFlight(flight, token);
      else {
        const finish = (): void => this.finishFlight(flight, token);
        void write.then(finish, finish);
      }
    }
  }

  /** Ends a flight once its L2 write (if any) settled: releases the lock it holds, wakes waiters. */
  private finishFlight(flight: Flight, token: string | undefined): void {
    const l2 = this.core.l2;
    if (token !== undefined && l2 !== undefined) {
      // Release, then wake the other processes' waiters (same connection: in this order). After
      // close() neither is sent; the lock then expires after `lock.ttl`, and waiters find the
      // value in Redis before that (they read it before each attempt to take the lock).
      void l2.release(this.lockKey(flight.key), token);
      void this.core.publish({ i: this.core.instanceId, o: 'r', n: this.nsField(), k: [flight.key] });
    }
    this.endFlight(flight);
  }

  /** Sleeps `ms`, or less if the lock holder of `key` announces its value on the bus. */
  private lockSleep(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        if (this.lockWakers.get(key) === wake) this.lockWakers.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.lockWakers.set(key, wake);
    });
  }

  /** Wakes this process's lock waiter of each key, if any (bus message from the lock holder). */
  wakeLockWaiters(keys: readonly string[]): void {
    for (const key of keys) this.lockWakers.get(key)?.();
  }

  private l2Hit(key: string, read: Envelope, o: Resolved, flight: Flight | ReadFlight, now: number): unknown {
    this.l2Hits++;
    if (this.core.emitter.has('hit')) this.core.emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l2' });
    if (!flight.dirty) this.insertL1(key, read[VALUE], createdAtOf(read), read[EXPIRES], staleUntilOf(read), read[TAGS] === 0 ? undefined : read[TAGS], o.earlyRefresh, now, read[SIZE] ?? 1);
    return read[VALUE];
  }

  /**
   * Takes the Redis lock (resolves with its token), or waits for the holder's value (resolves
   * with it), or gives up (resolves `undefined`: run the factory without the lock).
   */
  private async lockOrWait(
    key: string,
    lock: { ttl: number; wait: number },
    refreshOf: L1Entry | undefined,
  ): Promise<string | Envelope | undefined> {
    const l2 = this.core.l2;
    if (l2 === undefined) return undefined;
    const lockKey = this.lockKey(key);
    const token = `${this.core.instanceId}:${++this.lockSeq}`;
    let got = await l2.acquire(lockKey, token, lock.ttl);
    if (got === FAIL) return undefined;
    if (got) {
      this.core.lockAcquired++;
      return token;
    }
    this.core.lockWaited++;
    const deadline = Date.now() + lock.wait;
    let delay = 5;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0 || this.core.closed) break;
      await this.lockSleep(key, Math.min(delay, left));
      delay = Math.min(delay * 2, 50);
      const read = await this.readL2(key);
      if (read === FAIL) return undefined;
      if (this.usable(read, refreshOf, Date.now())) return read;
      got = await l2.acquire(lockKey, token, lock.ttl);
      if (got === FAIL) return undefined;
      if (got) {
        // The holder writes its value before it releases the lock: look once more.
        const again = await this.readL2(key);
        if (again !== FAIL && this.usable(again, refreshOf, Date.now())) {
          void l2.release(lockKey, token);
          return again;
        }
        this.core.lockAcquired++;
        return token;
      }
    }
    this.core.lockTimedOut++;
    return undefined;
  }

  private usable(read: Envelope | undefined, refreshOf: L1Entry | undefined, now: number): read is Envelope {
    return read !== undefined && now < read[EXPIRES] && (refreshOf === undefined || createdAtOf(read) > refreshOf.createdAt);
  }

  private async runFactory(flight: Flight): Promise<unknown> {
    const { key, factory, o } = flight;
    const controller = new AbortController();
    const core = this.core;
    core.controllers.add(controller);
    const ctx = new FactoryContextImpl(key, controller.signal, flight.stale?.value);
    const createdAt = stamp();
    this.factoryCalls++;
    let timer: NodeJS.Timeout | undefined;
    let result: unknown;
    try {
      let pending = Promise.resolve(factory(ctx));
      if (o.hard > 0) {
        pending = Promise.race([
          pending,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const error = new TimeoutError(o.hard, `cache factory for "${key}"`);
              controller.abort(error);
              reject(error);
            }, o.hard);
            timer.unref();
          }),
        ]);
      }
      result = await pending;
    } catch (error) {
      const timedOut = error instanceof TimeoutError && controller.signal.aborted && controller.signal.reason === error;
      if (timedOut) this.factoryTimeouts++;
      else this.factoryErrors++;
      const emitter = core.emitter;
      if (emitter.has('error')) emitter.emit('error', { error, operation: 'factory', key, namespace: this.namespaceName });
      const stale = flight.stale;
      if (stale !== undefined) {
        this.staleServed++;
        if (emitter.has('stale')) {
          emitter.emit('stale', { key, namespace: this.namespaceName, reason: timedOut ? 'hard-timeout' : 'factory-error' });
        }
        return stale.value;
      }
      throw error;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      core.controllers.delete(controller);
    }
    if (ctx.skipped || result === undefined) return result;
    const tags = ctx.tags === undefined ? o.tags : ctx.tags.length === 0 ? undefined : ctx.tags;
    // Not awaited: with Redis stalled, waiting for the SET would add a second `l2Timeout` to the
    // caller's wait. The flight keeps it and ends when it settles (see afterRead).
    flight.write = this.store(key, result, ctx.ttl ?? o.ttl, tags, o.grace, o.jitter, o.earlyRefresh, createdAt, flight, false);
    return result;
  }

  /**
   * Encodes (validating the value: throws CACHE_INVALID_VALUE), writes L1, then starts the L2
   * write and, when asked, the bus message after it. Returns that write, which never rejects
   * (failures and timeouts are counted and reported by the L2), or `undefined` when there is none.
   */
  private store(
    key: string,
    value: unknown,
    ttl: number,
    tags: readonly string[] | undefined,
    grace: number,
    jitter: number,
    earlyRefresh: number,
    createdAt: number,
    flight: Flight | undefined,
    publish: boolean,
  ): Promise<unknown> | undefined {
    const core = this.core;
    const l2 = core.l2;
    const now = Date.now();
    if (jitter > 0) ttl -= ttl * jitter * Math.random();
    const expiresAt = Math.round(now + ttl);
    const staleUntil = expiresAt + grace;
    let text: string | undefined;
    let size = 1;
    if (l2 !== undefined || this.sized) {
      try {
        const encoded = encodeEnvelope(core.serializer, core.compressAbove, value, createdAt, expiresAt, staleUntil, tags);
        text = encoded.text;
        size = Math.max(1, encoded.size);
      } catch (error) {
        throw new HeadroomError(
          ErrorCode.CACHE_INVALID_VALUE,
          `headroom cache: the value of "${key}" cannot be serialized: ${error instanceof Error ? error.message : String(error)}`,
          { status: 500, cause: error },
        );
      }
    }
    // A set/delete/clear of this key arrived while the value was computed: it wins. The callers
    // still get the computed value; it is just not cached (neither in L1 nor in L2).
    if (flight !== undefined && flight.dirty) return undefined;
    this.insertL1(key, this.clone ? structuredClone(value) : value, createdAt, expiresAt, staleUntil, tags, earlyRefresh, now, size);
    if (l2 === undefined || text === undefined) return undefined;
    let l2Ttl = ttl + grace;
    if (tags !== undefined) l2Ttl = Math.min(l2Ttl, core.tagRetention);
    // Sent now, synchronously: its order against later commands of this instance on the same
    // connection (a set or delete of the key) does not depend on when anyone awaits it.
    if (!publish) return l2.set(this.entryKey(key), text, l2Ttl);
    const message: BusMessage = { i: core.instanceId, o: 's', n: this.nsField(), k: [key] };
    // A write whose outcome is unknown (failed, or answered after l2Timeout) is announced anyway.
    const written = l2.set(this.entryKey(key), text, l2Ttl, () => void core.publish(message));
    return written.then((reply) => (reply === FAIL ? undefined : core.publish(message)));
  }

  private insertL1(
    key: string,
    value: unknown,
    createdAt: number,
    expiresAt: number,
    staleUntil: number,
    tags: readonly string[] | undefined,
    earlyRefresh: number,
    now: number,
    size: number,
  ): void {
    const l1 = this.l1;
    if (l1 === undefined) return;
    const refreshAt = earlyRefresh > 0 ? Math.min(expiresAt, now + (expiresAt - now) * earlyRefresh) : expiresAt;
    const entry: L1Entry = {
      value,
      promise: this.clone ? undefined : Promise.resolve(value),
      createdAt,
      expiresAt,
      staleUntil,
      refreshAt,
      tags,
      // -1: the first hit checks the tags (one may have been invalidated while the value was computed).
      tagEpoch: -1,
      storedAt: now,
    };
    if (this.sized) l1.set(key, entry, { size });
    else l1.set(key, entry);
  }

  /** One GET; decodes; checks tags. `undefined` for a miss or an unreadable/invalidated entry. */
  private async readL2(key: string): Promise<Envelope | undefined | Fail> {
    const l2 = this.core.l2;
    if (l2 === undefined) return undefined;
    const reply = await l2.get(this.entryKey(key));
    const read = this.decode(key, reply, coarseNow());
    return read === CHECK_TAGS ? this.checkTags(this.pendingEnvelope as Envelope) : read;
  }

  /**
   * Decodes a GET reply, synchronously when it can: returns {@link CHECK_TAGS} (with the envelope
   * in `pendingEnvelope`) only when a tag's time must be read from Redis first.
   */
  private decode(key: string, raw: string | null | Fail, now: number): Envelope | undefined | Fail | typeof CHECK_TAGS {
    if (raw === FAIL) return FAIL;
    if (raw === null) return undefined;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(this.core.serializer, raw);
    } catch (error) {
      const emitter = this.core.emitter;
      if (emitter.has('error')) emitter.emit('error', { error, operation: 'deserialize', key, namespace: this.namespaceName });
      void this.core.l2?.del([this.entryKey(key)]);
      return undefined;
    }
    if (now >= staleUntilOf(envelope)) return undefined;
    // Only a sized L1 needs it (a seventh element would make V8 grow the parsed array).
    if (this.sized) envelope[SIZE] = raw.length;
    const tags = envelope[TAGS];
    if (tags === 0) return envelope;
    const createdAt = createdAtOf(envelope);
    const trusted = this.core.bus !== undefined && !this.core.busDown;
    if (trusted) {
      let allKnown = true;
      for (const tag of tags) {
        const known = this.tags.get(tag);
        if (known === undefined) allKnown = false;
        else if (known >= createdAt) return undefined;
      }
      if (allKnown) return envelope;
    }
    this.pendingEnvelope = envelope;
    return CHECK_TAGS;
  }

  private async checkTags(envelope: Envelope): Promise<Envelope | undefined> {
    return (await this.tagsValid(envelope[TAGS] as string[], createdAtOf(envelope))) ? envelope : undefined;
  }

  /**
   * True when no tag of an L2 entry was invalidated after `createdAt`. Tag times come from memory
   * (fed by the bus) while the bus is connected; tags never seen, or any tag while the bus is
   * down, are read from Redis in one MGET and remembered.
   */
  private async tagsValid(tags: readonly string[], createdAt: number): Promise<boolean> {
    const trusted = this.core.bus !== undefined && !this.core.busDown;
    let unknown: string[] | undefined;
    for (const tag of tags) {
      const known = trusted ? this.tags.get(tag) : undefined;
      if (known === undefined) (unknown ??= []).push(tag);
      else if (known >= createdAt) return false;
    }
    if (unknown === undefined) return true;
    const l2 = this.core.l2;
    if (l2 === undefined) return true;
    const times = await l2.mget(unknown.map((t) => this.tagKey(t)));
    if (times === FAIL) return false; // cannot verify: a miss, never a value that may be invalid
    let valid = true;
    for (let i = 0; i < unknown.length; i++) {
      const raw = times[i];
      const at = raw === null || raw === undefined ? 0 : Number(raw);
      this.tags.set(unknown[i] as string, Number.isFinite(at) ? at : 0);
      if (at >= createdAt) valid = false;
    }
    return valid;
  }

  // ---------------------------------------------------------------------------------------------
  // Public API (slow paths)

  /** {@inheritDoc Cache.get} */
  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      this.checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    let stale: Stale | undefined;
    const e = this.l1?.get(key);
    if (e !== undefined) {
      const state = this.check(key, e, Date.now());
      if (state === FRESH || state === REFRESH) {
        this.l1Hits++;
        if (this.emitter.has('hit')) this.emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l1' });
        return Promise.resolve(this.out(e.value) as T);
      }
      if (state === STALE) stale = e;
    }
    this.l1Misses++;
    const l2 = this.core.l2;
    if (l2 === undefined) {
      if (this.emitter.has('miss')) this.emitter.emit('miss', { key, namespace: this.namespaceName });
      return Promise.resolve(undefined);
    }
    let flight = this.reads.get(key);
    if (flight === undefined) {
      flight = new ReadFlight(this, key, stale);
      this.reads.set(key, flight);
      l2.read(flight, this.entryPrefix + key);
    } else {
      flight.callers++;
      flight.stale ??= stale;
    }
    return (this.clone ? flight.promise.then(structuredClone) : flight.promise) as Promise<T | undefined>;
  }

  /**
   * @internal the GET reply of a coalesced `get()` read (see {@link ReadFlight.onReply}): settles
   * it with the answer, synchronously unless tag times must be read first.
   */
  onRead(flight: ReadFlight, raw: string | null | Fail): void {
    // No identity check: a read is registered only while none is, and each read ends once.
    this.reads.delete(flight.key);
    const now = coarseNow();
    let read: ReturnType<KeySpace['decode']>;
    try {
      read = this.decode(flight.key, raw, now);
      if (read !== CHECK_TAGS) {
        flight.resolve(this.answerRead(flight, read, now));
        return;
      }
    } catch (error) {
      flight.reject(error);
      return;
    }
    flight.resolve(this.checkTags(this.pendingEnvelope as Envelope).then((checked) => this.answerRead(flight, checked, coarseNow())));
  }

  /** What the callers of a `get()` read get; counters and events count each caller. */
  private answerRead(flight: ReadFlight, read: Envelope | undefined | Fail, now: number): unknown {
    const { key, callers } = flight;
    const emitter = this.emitter;
    if (read === FAIL) {
      const stale = flight.stale;
      if (stale !== undefined) {
        this.staleServed += callers;
        if (emitter.has('stale')) for (let i = 0; i < callers; i++) emitter.emit('stale', { key, namespace: this.namespaceName, reason: 'l2-down' });
        return stale.value;
      }
    } else if (read !== undefined && now < read[EXPIRES]) {
      const value = this.l2Hit(key, read, this.defaults, flight, now);
      if (callers > 1) {
        this.l2Hits += callers - 1;
        if (emitter.has('hit')) for (let i = 1; i < callers; i++) emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l2' });
      }
      return value;
    } else {
      this.l2Misses += callers;
    }
    if (emitter.has('miss')) for (let i = 0; i < callers; i++) emitter.emit('miss', { key, namespace: this.namespaceName });
    return undefined;
  }

  /** {@inheritDoc Cache.has} */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** {@inheritDoc Cache.set} */
  async set<T>(key: string, value: T, options?: Duration | SetOptions): Promise<void> {
    this.checkKey(key);
    if (value === undefined) {
      throw new HeadroomError(ErrorCode.CACHE_INVALID_VALUE, `headroom cache: cannot store undefined under "${key}"; use delete()`, {
        status: 500,
      });
    }
    const o = options === undefined ? this.defaults : resolveCall(options, this.defaults, true);
    markDirty(this.inflight, key);
    markDirty(this.reads, key);
    await this.store(key, value, o.ttl, o.tags, o.grace, o.jitter, o.earlyRefresh, stamp(), undefined, true);
  }

  /** {@inheritDoc Cache.delete} */
  async delete(key: string): Promise<void> {
    await this.deleteMany([key]);
  }

  /** {@inheritDoc Cache.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<void> {
    if (!Array.isArray(keys)) throw invalidArgument('keys', 'an array of keys', keys);
    for (const key of keys) this.checkKey(key);
    if (keys.length === 0) return;
    this.dropLocal(keys);
    const l2 = this.core.l2;
    if (l2 === undefined) return;
    const message: BusMessage = { i: this.core.instanceId, o: 'd', n: this.nsField(), k: [...keys] };
    const deleted = await l2.del(
      keys.map((k) => this.entryKey(k)),
      () => void this.core.publish(message),
    );
    if (deleted !== FAIL) await this.core.publish(message);
  }

  /** Drops keys from L1 and marks their flights dirty (local effect of a set/delete message). */
  dropLocal(keys: readonly string[]): void {
    this.wakeLockWaiters(keys);
    for (const key of keys) {
      this.l1?.delete(key);
      markDirty(this.inflight, key);
      markDirty(this.reads, key);
    }
  }

  /** {@inheritDoc Cache.invalidateTags} */
  async invalidateTags(tags: string | readonly string[]): Promise<void> {
    this.checkOpen();
    const list = resolveTags(typeof tags === 'string' ? [tags] : tags, 'tags');
    if (list === undefined) return;
    const at = stamp();
    for (const tag of list) this.tags.set(tag, at);
    const l2 = this.core.l2;
    if (l2 === undefined) return;
    const message: BusMessage = { i: this.core.instanceId, o: 't', n: this.nsField(), k: [...list], at };
    const written = await l2.setMany(
      list.map((t) => this.tagKey(t)),
      String(at),
      this.core.tagRetention,
      () => void this.core.publish(message),
    );
    if (written !== FAIL) await this.core.publish(message);
  }

  /** Applies a tag invalidation received from the bus. */
  applyTags(tags: readonly string[], at: number): void {
    for (const tag of tags) this.tags.set(tag, at);
  }

  /** {@inheritDoc Cache.invalidatePattern} */
  async invalidatePattern(pattern: string): Promise<number> {
    this.checkOpen();
    if (typeof pattern !== 'string' || pattern.length === 0) throw invalidArgument('pattern', 'a non-empty glob string', pattern);
    this.dropPattern(pattern);
    const l2 = this.core.l2;
    if (l2 === undefined) return 0;
    const deleted = await l2.scanDelete(`${escapeGlob(this.entryBase())}${pattern}`);
    await this.core.publish({ i: this.core.instanceId, o: 'p', n: this.nsField(), p: pattern });
    if (deleted === FAIL) {
      const emitter = this.core.emitter;
      if (emitter.has('error')) {
        emitter.emit('error', { error: new Error('SCAN/UNLINK failed; some keys may remain'), operation: 'invalidate-pattern', key: pattern, namespace: this.namespaceName });
      }
      return 0;
    }
    return deleted;
  }

  /** Drops L1 keys matching a glob, and marks matching flights dirty. */
  dropPattern(pattern: string): void {
    const re = globToRegExp(pattern);
    if (this.l1 !== undefined) {
      for (const key of [...this.l1.keys()]) if (re.test(key)) this.l1.delete(key);
    }
    for (const [key, flight] of this.inflight) if (re.test(key)) flight.dirty = true;
    for (const [key, flight] of this.reads) if (re.test(key)) flight.dirty = true;
  }

  /** Empties L1 and marks every flight dirty. */
  dropAll(): void {
    this.l1?.clear();
    for (const flight of this.inflight.values()) flight.dirty = true;
    for (const flight of this.reads.values()) flight.dirty = true;
  }

  /** {@inheritDoc Cache.clear} */
  async clear(): Promise<void> {
    this.checkOpen();
    const root = this.namespaceName === undefined;
    if (root) this.core.dropEverything();
    else this.dropAll();
    const l2 = this.core.l2;
    if (l2 === undefined) return;
    const match = `${escapeGlob(root ? this.core.prefix : this.base)}*`;
    const deleted = await l2.scanDelete(match);
    await this.core.publish({ i: this.core.instanceId, o: 'c', n: root ? null : this.nsField() });
    if (deleted === FAIL && this.core.emitter.has('error')) {
      this.core.emitter.emit('error', { error: new Error('SCAN/UNLINK failed; some keys may remain'), operation: 'clear', key: undefined, namespace: this.namespaceName });
    }
  }

  /** {@inheritDoc Cache.warm} */
  async warm(source: WarmSource): Promise<number> {
    this.checkOpen();
    let entries: Iterable<WarmEntry> | AsyncIterable<WarmEntry>;
    if (typeof source === 'function') entries = await source();
    else entries = source;
    if (entries === null || typeof entries !== 'object' || (!(Symbol.iterator in entries) && !(Symbol.asyncIterator in entries))) {
      throw invalidArgument('source', 'an iterable of { key, value, options? } or a function returning one', entries);
    }
    let count = 0;
    let batch: Promise<void>[] = [];
    for await (const entry of entries as AsyncIterable<WarmEntry>) {
      if (entry === null || typeof entry !== 'object') throw invalidArgument('entry', 'an object { key, value, options? }', entry);
      batch.push(this.set(entry.key, entry.value, entry.options));
      count++;
      if (batch.length >= WARM_BATCH) {
        await Promise.all(batch);
        batch = [];
      }
    }
    await Promise.all(batch);
    return count;
  }

  /** {@inheritDoc Cache.stats} */
  stats(): CacheStats {
    return this.core.stats(this.namespaceName === undefined ? undefined : this);
  }

  /** {@inheritDoc Cache.on} */
  on<K extends keyof CacheEvents>(event: K, listener: Listener<CacheEvents[K]>): Disposer {
    return this.core.emitter.on(event, listener);
  }

  /** {@inheritDoc Cache.namespace} */
  namespace(name: string): Cache {
    if (this.namespaceName !== undefined) {
      throw invalidArgument('name', 'called on the root cache (namespaces are flat)', `namespace ${this.namespaceName}`);
    }
    return this.core.namespace(name);
  }

  /** {@inheritDoc Cache.close} */
  close(): Promise<void> {
    return this.core.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private checkOpen(): void {
    if (this.core.closed) throw new HeadroomError(ErrorCode.CLOSED, 'headroom cache: the cache is closed', { status: 503 });
  }

  private checkKey(key: unknown): asserts key is string {
    this.checkOpen();
    if (typeof key !== 'string' || key.length === 0 || key.length > this.core.maxKeyLength) {
      throw new HeadroomError(
        ErrorCode.CACHE_KEY_INVALID,
        `headroom cache: a key must be a non-empty string of at most ${this.core.maxKeyLength} characters; got ${
          typeof key === 'string' ? `a string of ${key.length}` : typeof key
        }`,
        { status: 400 },
      );
    }
  }

  private nsField(): string | null {
    return this.namespaceName ?? null;
  }

  private entryBase(): string {
    return this.entryPrefix;
  }

  /** Redis key of an entry. */
  entryKey(key: string): string {
    return this.entryPrefix + key;
  }

  /** Redis key of a tag's invalidation time. */
  tagKey(tag: string): string {
    return `${this.base}t:${tag}`;
  }

  /** Redis key of an entry's stampede lock. */
  lockKey(key: string): string {
    return `${this.base}l:${key}`;
  }
}
