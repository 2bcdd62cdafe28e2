import type { LRUCache } from 'lru-cache';
import { invalidArgument, type Disposer, type Duration, type Emitter, type Listener } from '../core/index.js';
import type { SpacePublisher } from './bus-message.js';
import type { Cache, Factory, WarmSource } from './cache.js';
import { cacheClosed, invalidKey, undefinedValue } from './cache-errors.js';
import type { CacheEvents } from './cache-events.js';
import type { GetOrSetOptions, L1Options, SetOptions } from './cache-options.js';
import type { CacheStats } from './cache-stats.js';
import { coarseNow, stamp, type CacheTime } from './clock.js';
import { SpaceCounters, type SpaceFigures } from './counters.js';
import { EntryReader } from './entry-reader.js';
import { resolveCall, resolveTags, type EntrySettings } from './entry-settings.js';
import { EntryWriter } from './entry-writer.js';
import { FactoryRunner } from './factory-runner.js';
import { Flights } from './flights.js';
import { globToRegExp } from './glob.js';
import { Invalidation } from './invalidation.js';
import { FRESH, L1Layer, REFRESH, STALE, type L1Entry } from './l1-layer.js';
import { RedisLock } from './redis-lock.js';
import type { CacheState, SpaceContext } from './space-context.js';
import { SpaceEvents } from './space-events.js';
import { SpaceKeys } from './space-keys.js';
import { TagCheck } from './tag-check.js';
import type { TagTimes } from './tag-times.js';
import { TwoTierHandler } from './two-tier-handler.js';
import { warm } from './warm.js';

/** What a key space is made from (see {@link KeySpace}). */
export interface KeySpaceSetup {
  context: SpaceContext;
  /** `undefined` for the root. */
  namespace: string | undefined;
  defaults: EntrySettings;
  l1: L1Options | false;
}

/**
 * One key space: the root cache or a namespace, as users call it ({@link Cache}). It checks the
 * arguments, answers L1 hits, and hands the rest to its parts: the L1 layer, the two-tier
 * handler (L2, request sharing, lock, factory), the entry writer, and the invalidation. It
 * shares L2, the bus, the events and the cache-wide counters with the other key spaces through
 * a {@link SpaceContext}.
 */
export class KeySpace implements Cache, SpaceFigures {
  readonly namespaceName: string | undefined;
  readonly counters = new SpaceCounters();
  readonly defaults: EntrySettings;

  /**
   * True when an L1 hit can be answered on the hot path: there is an L1, values are not cloned,
   * the cache is open and L1 is trusted (the bus is up, or there is no bus). Kept up to date by
   * {@link KeySpace.trustChanged}.
   */
  private hotPath = false;
  /** The L1 layer's lru-cache, read directly by the hot path. */
  private readonly lru: LRUCache<string, L1Entry> | undefined;
  /** This key space's tag times, whose `epoch` the hot path compares. */
  private readonly tagTimes: TagTimes;
  private readonly emitter: Emitter<CacheEvents>;

  private readonly context: SpaceContext;
  private readonly state: CacheState;
  private readonly clone: boolean;
  private readonly maxKeyLength: number;
  /** The cache's clock; the hot path reads `coarseNow()` itself, and is off with a given clock. */
  private readonly time: CacheTime;
  private readonly keys: SpaceKeys;
  private readonly events: SpaceEvents;
  private readonly l1: L1Layer | undefined;
  private readonly flights = new Flights();
  private readonly handler: TwoTierHandler;
  private readonly writer: EntryWriter;
  /** Without Redis: none. */
  private readonly lock: RedisLock | undefined;
  /** Without Redis: none. */
  private readonly invalidation: Invalidation | undefined;

  constructor(setup: KeySpaceSetup) {
    const { context, namespace } = setup;
    const { settings, state, l2 } = context;
    this.context = context;
    this.state = state;
    this.namespaceName = namespace;
    this.defaults = setup.defaults;
    this.emitter = context.emitter;
    this.clone = settings.clone;
    this.maxKeyLength = settings.maxKeyLength;
    const time = (this.time = settings.time);

    const keys = (this.keys = new SpaceKeys(settings.prefix, namespace));
    const events = (this.events = new SpaceEvents(context.emitter, namespace));
    const publisher: SpacePublisher = {
      instanceId: context.instanceId,
      namespace: namespace ?? null,
      publish: (message) => context.publish(message),
    };
    const tags = new TagCheck({ maxTrackedTags: settings.maxTrackedTags, state, l2, keys });
    this.tagTimes = tags.times;
    const l1 =
      setup.l1 === false
        ? undefined
        : new L1Layer({ options: setup.l1, tagTimes: tags.times, state, busDownL1Ttl: settings.busDownL1Ttl, clone: settings.clone });
    this.l1 = l1;
    this.lru = l1?.lru;
    const reader = new EntryReader({ l2, serializer: settings.codec.serializer, keys, tags, events, sizes: l1?.countsBytes === true, time });
    const writer = new EntryWriter({ l1, l2, codec: settings.codec, keys, publisher, tagRetention: settings.tagRetention, clone: settings.clone, time });
    this.writer = writer;
    if (l2 !== undefined) {
      this.lock = new RedisLock({ l2, keys, reader, counters: context.counters, state, publisher, time });
      this.invalidation = new Invalidation({ l2, keys, publisher, events, tagRetention: settings.tagRetention });
    }
    this.handler = new TwoTierHandler({
      l1,
      l2,
      keys,
      flights: this.flights,
      reader,
      tags,
      lock: this.lock,
      runner: new FactoryRunner({ counters: this.counters, events, running: context.factories, writer }),
      counters: this.counters,
      events,
      defaults: this.defaults,
      clone: settings.clone,
      time,
    });
    this.trustChanged();
  }

  // ---------------------------------------------------------------------------------------------
  // Hot path

  /** {@inheritDoc Cache.getOrSet} */
  getOrSet<T>(key: string, factory: Factory<T>, options?: Duration | GetOrSetOptions): Promise<T> {
    if (this.hotPath) {
      const entry = (this.lru as LRUCache<string, L1Entry>).get(key);
      if (entry !== undefined && coarseNow() < entry.refreshAt && (entry.tags === undefined || entry.tagEpoch === this.tagTimes.epoch)) {
        this.counters.l1Hits++;
        if (this.emitter.has('hit')) this.emitter.emit('hit', { key, namespace: this.namespaceName, layer: 'l1' });
        return entry.promise as Promise<T>;
      }
    }
    return this.getOrSetPastHotPath(key, factory as Factory<unknown>, options) as Promise<T>;
  }

  /** The rest of getOrSet: checks, then L1 by the full rules, then the two-tier handler. */
  private getOrSetPastHotPath(key: string, factory: Factory<unknown>, options: Duration | GetOrSetOptions | undefined): Promise<unknown> {
    let settings: EntrySettings;
    try {
      this.checkKey(key);
      if (typeof factory !== 'function') throw invalidArgument('factory', 'a function', factory);
      settings = options === undefined ? this.defaults : resolveCall(options, this.defaults, false);
    } catch (error) {
      return Promise.reject(error);
    }
    let stale: L1Entry | undefined;
    const l1 = this.l1;
    const entry = l1?.lru.get(key);
    if (l1 !== undefined && entry !== undefined) {
      const state = l1.classify(key, entry, this.time.now());
      if (state === FRESH || state === REFRESH) {
        this.countL1Hit(key);
        if (state === REFRESH) {
          entry.refreshAt = entry.expiresAt; // refresh once
          this.handler.refresh(key, factory, settings, entry);
        }
        return Promise.resolve(this.out(entry.value));
      }
      if (state === STALE) stale = entry;
    }
    this.counters.l1Misses++;
    return this.handler.getOrSet(key, factory, settings, stale);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads and writes

  /** {@inheritDoc Cache.get} */
  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      this.checkKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    let stale: L1Entry | undefined;
    const l1 = this.l1;
    const entry = l1?.lru.get(key);
    if (l1 !== undefined && entry !== undefined) {
      const state = l1.classify(key, entry, this.time.now());
      if (state === FRESH || state === REFRESH) {
        this.countL1Hit(key);
        return Promise.resolve(this.out(entry.value) as T);
      }
      if (state === STALE) stale = entry;
    }
    this.counters.l1Misses++;
    return this.handler.get(key, stale) as Promise<T | undefined>;
  }

  /** {@inheritDoc Cache.has} */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  /** {@inheritDoc Cache.set} */
  async set<T>(key: string, value: T, options?: Duration | SetOptions): Promise<void> {
    this.checkKey(key);
    if (value === undefined) throw undefinedValue(key);
    const settings = options === undefined ? this.defaults : resolveCall(options, this.defaults, true);
    this.flights.markDirty(key);
    await this.writer.write({
      key,
      value,
      ttl: settings.ttl,
      grace: settings.grace,
      jitter: settings.jitter,
      earlyRefresh: settings.earlyRefresh,
      tags: settings.tags,
      createdAt: stamp(),
      announce: true,
    });
  }

  /** {@inheritDoc Cache.warm} */
  async warm(source: WarmSource): Promise<number> {
    this.checkOpen();
    return warm(source, (key, value, options) => this.set(key, value, options));
  }

  // ---------------------------------------------------------------------------------------------
  // Invalidation

  /** {@inheritDoc Cache.delete} */
  async delete(key: string): Promise<void> {
    await this.deleteMany([key]);
  }

  /** {@inheritDoc Cache.deleteMany} */
  async deleteMany(keys: readonly string[]): Promise<void> {
    if (!Array.isArray(keys)) throw invalidArgument('keys', 'an array of keys', keys);
    for (const key of keys) this.checkKey(key);
    if (keys.length === 0) return;
    this.dropKeys(keys);
    await this.invalidation?.deleteKeys(keys);
  }

  /** {@inheritDoc Cache.invalidateTags} */
  async invalidateTags(tags: string | readonly string[]): Promise<void> {
    this.checkOpen();
    const list = resolveTags(typeof tags === 'string' ? [tags] : tags, 'tags');
    if (list === undefined) return;
    const at = stamp();
    this.applyTags(list, at);
    await this.invalidation?.invalidateTags(list, at);
  }

  /** {@inheritDoc Cache.invalidatePattern} */
  async invalidatePattern(pattern: string): Promise<number> {
    this.checkOpen();
    if (typeof pattern !== 'string' || pattern.length === 0) throw invalidArgument('pattern', 'a non-empty glob string', pattern);
    this.dropPattern(pattern);
    return this.invalidation === undefined ? 0 : this.invalidation.deletePattern(pattern);
  }

  /** {@inheritDoc Cache.clear} */
  async clear(): Promise<void> {
    this.checkOpen();
    const root = this.namespaceName === undefined;
    if (root) this.context.dropEverything();
    else this.dropAll();
    await this.invalidation?.clear(root ? this.keys.cacheGlob() : this.keys.spaceGlob());
  }

  // ---------------------------------------------------------------------------------------------
  // The rest of the public API

  /** {@inheritDoc Cache.stats} */
  stats(): CacheStats {
    return this.context.stats(this.namespaceName === undefined ? undefined : this);
  }

  /** {@inheritDoc Cache.on} */
  on<K extends keyof CacheEvents>(event: K, listener: Listener<CacheEvents[K]>): Disposer {
    return this.emitter.on(event, listener);
  }

  /** {@inheritDoc Cache.namespace} */
  namespace(name: string): Cache {
    if (this.namespaceName !== undefined) {
      throw invalidArgument('name', 'called on the root cache (namespaces are flat)', `namespace ${this.namespaceName}`);
    }
    return this.context.namespace(name);
  }

  /** {@inheritDoc Cache.close} */
  close(): Promise<void> {
    return this.context.close();
  }

  // ---------------------------------------------------------------------------------------------
  // What the core applies: this instance's own invalidations and the bus's

  /** @internal Entries in L1 now (for `stats()`). */
  get l1Size(): number {
    return this.lru?.size ?? 0;
  }

  /** @internal Keys were set or deleted: drop their L1 copies, mark their flights dirty, wake their lock waiters. */
  dropKeys(keys: readonly string[]): void {
    this.lock?.wake(keys);
    for (const key of keys) {
      this.lru?.delete(key);
      this.flights.markDirty(key);
    }
  }

  /** @internal Tags were invalidated at `at` (a µs stamp). */
  applyTags(tags: readonly string[], at: number): void {
    for (const tag of tags) this.tagTimes.set(tag, at);
  }

  /** @internal Keys matching the glob `pattern` were deleted. */
  dropPattern(pattern: string): void {
    const re = globToRegExp(pattern);
    this.l1?.deleteMatching(re);
    this.flights.markMatching(re);
  }

  /** @internal The key space was cleared: empty L1, mark every flight dirty. */
  dropAll(): void {
    this.lru?.clear();
    this.flights.markAll();
  }

  /** @internal A lock holder finished `keys`: wake this process's waiters. */
  wakeLockWaiters(keys: readonly string[]): void {
    this.lock?.wake(keys);
  }

  /** @internal The bus could not tell what was missed: forget every remembered tag time. */
  forgetTagTimes(): void {
    this.tagTimes.clear();
  }

  /** @internal The bus went up or down, or the cache closed: recompute whether the hot path may answer. */
  trustChanged(): void {
    this.hotPath = this.lru !== undefined && this.time.system && !this.clone && !this.state.busDown && !this.state.closed;
  }

  /** @internal The cache closed: let go of L1's entries. */
  releaseL1(): void {
    this.lru?.clear();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  /** Counts an L1 hit past the hot path. */
  private countL1Hit(key: string): void {
    this.counters.l1Hits++;
    this.events.hit(key, 'l1');
  }

  /** What a caller gets of a value held in L1: the value, or a copy with `clone`. */
  private out(value: unknown): unknown {
    return this.clone ? structuredClone(value) : value;
  }

  private checkOpen(): void {
    if (this.state.closed) throw cacheClosed();
  }

  private checkKey(key: unknown): asserts key is string {
    this.checkOpen();
    if (typeof key !== 'string' || key.length === 0 || key.length > this.maxKeyLength) throw invalidKey(key, this.maxKeyLength);
  }
}
