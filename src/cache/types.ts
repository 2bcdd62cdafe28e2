import type { Cluster, Redis } from 'ioredis';
import type { Disposer, Duration, Listener } from '../core/index.js';

/** The Redis client the cache uses as its second level: an ioredis `Redis` or `Cluster`. */
export type CacheRedis = Redis | Cluster;

/**
 * Turns values into the bytes or text stored in Redis, and back. The default is JSON.
 *
 * `serialize` may return a string (stored as is) or bytes (stored base64-encoded); `deserialize`
 * receives what `serialize` returned: the same string, or a `Uint8Array` with the same bytes.
 * A value `serialize` cannot encode must throw: the cache turns it into `CACHE_INVALID_VALUE`
 * and stores nothing. A payload `deserialize` cannot read must throw: the cache treats it as a
 * miss and deletes it.
 *
 * @example
 * ```ts
 * import { pack, unpack } from 'msgpackr';
 * const msgpack: CacheSerializer = { serialize: (v) => pack(v), deserialize: (d) => unpack(d as Uint8Array) };
 * const cache = createCache({ redis, serializer: msgpack });
 * ```
 */
export interface CacheSerializer {
  /** Encodes `value`; throws when it cannot. */
  serialize(value: unknown): string | Uint8Array;
  /** Decodes what {@link CacheSerializer.serialize} produced; throws when it cannot. */
  deserialize(data: string | Uint8Array): unknown;
}

/** How the first level (in-process, lru-cache) is sized. */
export interface L1Options {
  /** Most entries kept per key space (the root and each namespace have their own L1). */
  maxEntries: number;
  /**
   * Most bytes kept per key space, counting each entry as the length of its serialized payload
   * (computed with the serializer when the value is set, so it costs one serialization per write
   * when Redis is not used). Default: no byte bound.
   */
  maxBytes?: number;
}

/** Deadlines for the factory of {@link Cache.getOrSet}. */
export interface FactoryTimeoutOptions {
  /**
   * Past this, a stale value (within `grace`, from L1 or L2) is returned if there is one, and the
   * factory goes on in the background to refresh the entry. Without a stale value the caller keeps
   * waiting. Default: none.
   */
  soft?: Duration;
  /**
   * Past this, the call fails with a `TimeoutError` (`OPERATION_TIMEOUT`), or serves a stale value
   * when there is one, and the factory's `signal` is aborted. Default: none.
   */
  hard?: Duration;
}

/** Cross-process stampede lock options (see {@link CacheOptions.lock}). */
export interface LockOptions {
  /** How long the Redis lock lives if its holder dies. Default `'10s'`. */
  ttl?: Duration;
  /**
   * How long another process waits for the holder's value before running the factory itself.
   * Default `'5s'`.
   */
  wait?: Duration;
}

/** The L2 circuit breaker's settings (see {@link CacheOptions.breaker}). */
export interface BreakerOptions {
  /** Consecutive L2 failures (errors or timeouts) that open the breaker. Default `5`. */
  threshold?: number;
  /** How long L2 is skipped once the breaker opens, before one probe call is let through. Default `'5s'`. */
  cooldown?: Duration;
}

/** Defaults for the entries of one key space: the root cache or a namespace. */
export interface EntryDefaults {
  /** How long an entry is fresh. Default `'5m'`. */
  ttl?: Duration;
  /**
   * Fraction of `ttl` (0..1) removed at random from each entry's ttl, so that entries written
   * together do not all expire together. `0.1` turns a 5 min ttl into 4.5 to 5 min. Default `0`.
   */
  jitter?: number;
  /**
   * How long past its ttl an entry may still be served when the factory fails (or passes
   * `factoryTimeout.soft`), or, for `get()`, when L2 is unreachable. `0` serves nothing stale.
   * The entry stays in Redis for `ttl + grace`. Default `0`.
   */
  grace?: Duration;
  /**
   * Fraction of the ttl (strictly between 0 and 1) after which a hit returns the value and
   * refreshes it in the background, once. `0` turns it off. Default `0`.
   */
  earlyRefresh?: number;
  /** Deadlines for the factory. Default: none. */
  factoryTimeout?: FactoryTimeoutOptions;
  /**
   * Cross-process stampede protection: before running the factory, take a short Redis lock
   * (`SET NX PX`); processes that do not get it wait for the holder's value (at most `wait`;
   * woken by a bus message when the holder is done, polling L2 meanwhile), then run the factory
   * themselves. Needs `redis`. Default `false`.
   */
  lock?: boolean | LockOptions;
  /** The first level of this key space (`false`: none). Default: the root's `l1`. */
  l1?: L1Options | false;
}

/** Per-namespace defaults, by namespace name (see {@link CacheOptions.namespaces}). */
export type NamespaceOptions = EntryDefaults;

/** Options of {@link createCache}. Every field is optional. */
export interface CacheOptions extends EntryDefaults {
  /** Prefix of every key the cache writes in Redis. Default `'hr:'`. */
  prefix?: string;
  /** The first level: an in-process lru-cache, or `false` for none. Default `{ maxEntries: 10_000 }`. */
  l1?: L1Options | false;
  /**
   * An ioredis `Redis` or `Cluster`: enables L2 and the invalidation bus. The bus uses a second
   * connection made with `redis.duplicate()`, which {@link Cache.close} quits; the client you pass
   * is never closed by the cache. Enabling `enableAutoPipelining` on it makes L2 reads faster
   * under concurrency. A client with ioredis' `keyPrefix` is refused (use `prefix`).
   * Default: none (L1 only).
   */
  redis?: CacheRedis;
  /**
   * The most an L2 call may take. A slower call is abandoned and the cache fails open: it serves
   * L1, a stale value, or calls the factory, and never throws because of Redis. Default `'1s'`.
   */
  l2Timeout?: Duration;
  /** The L2 circuit breaker. Default `{ threshold: 5, cooldown: '5s' }`. */
  breaker?: BreakerOptions;
  /**
   * Use the invalidation bus (Redis pub/sub on a `duplicate()` connection) to keep every
   * instance's L1 coherent. Default `true` when `redis` is given.
   */
  bus?: boolean;
  /**
   * While the bus is down (its connection closed, or it went silent: see `busHeartbeat`), L1
   * entries stored longer ago than this are not trusted (they are read again from L2), because
   * invalidations may have been missed. If L2 cannot be reached either, entries still within
   * their ttl are served (nobody can publish through a Redis that is down). When the bus comes
   * back, what was missed is read from the catch-up log (`busLog`) and only those entries are
   * dropped. Default `'5s'`.
   */
  busDownL1Ttl?: Duration;
  /**
   * How often the bus checks that it still hears: a heartbeat goes out through `redis` and must
   * come back on the subscriber connection. When nothing came back for three heartbeats, the bus
   * is down (`bus-down` with reason `'silent'`) and, if Redis itself answers, the subscriber
   * connection is replaced. So a connection that goes silent without closing (a NAT or load
   * balancer idle drop, a half-open TCP connection, a hung Cluster node) is noticed within
   * four heartbeats: 2 s by default. Costs one small command per heartbeat, nothing per read.
   * Default `'500ms'`.
   */
  busHeartbeat?: Duration;
  /**
   * How many invalidations the catch-up log keeps: a capped Redis stream (`{<prefix>}bus-log`,
   * one key, so one Cluster slot) that every invalidation is appended to, in the same script
   * that publishes it (no extra round trip). An instance whose bus was down reads from where it
   * stopped and drops only what was invalidated meanwhile; if it fell further behind than the
   * log reaches, it empties its L1. `false`: no log; then an instance empties its L1 whenever
   * its bus comes back. Default `10_000`.
   */
  busLog?: number | false;
  /** Encodes values for Redis (and for `l1.maxBytes`). Default: JSON. */
  serializer?: CacheSerializer;
  /**
   * Payloads longer than this many bytes (characters for string payloads) are deflated with
   * node:zlib before they go to Redis. `false` turns compression off. Default `false`.
   */
  compressAbove?: number | false;
  /** Per-namespace defaults, e.g. `{ session: { ttl: '24h' }, kpi: { ttl: '1m' } }`. Default `{}`. */
  namespaces?: Record<string, NamespaceOptions>;
  /** Return a `structuredClone` of L1 values instead of the stored object. Default `false`. */
  clone?: boolean;
  /** Longest accepted key, in characters. Default `1024`. */
  maxKeyLength?: number;
  /**
   * How long a tag invalidation is remembered in Redis. Entries that carry tags never live in
   * Redis longer than this, so a forgotten invalidation cannot bring an old entry back.
   * Default `'7d'`.
   */
  tagRetention?: Duration;
  /** Most tag invalidation times kept in memory per instance. Default `10_000`. */
  maxTrackedTags?: number;
}

/** Options of one {@link Cache.getOrSet} call; unset fields use the key space's defaults. */
export interface GetOrSetOptions {
  /** How long the entry is fresh. */
  ttl?: Duration;
  /** Tags to attach to the entry, for {@link Cache.invalidateTags}. */
  tags?: readonly string[];
  /** How long past its ttl the entry may be served when the factory fails. */
  grace?: Duration;
  /** Fraction of the ttl after which a hit refreshes the entry in the background, once. */
  earlyRefresh?: number;
  /** Deadlines for the factory. */
  factoryTimeout?: FactoryTimeoutOptions;
  /** Cross-process stampede lock for this call. */
  lock?: boolean | LockOptions;
  /** Fraction of ttl removed at random. */
  jitter?: number;
}

/** Options of {@link Cache.set}. */
export interface SetOptions {
  /** How long the entry is fresh. */
  ttl?: Duration;
  /** Tags to attach to the entry. */
  tags?: readonly string[];
  /** How long past its ttl the entry may be served when the factory fails. */
  grace?: Duration;
  /** Fraction of ttl removed at random. */
  jitter?: number;
}

/** What a factory receives: its key, a signal, the stale value, and ways to adapt the entry. */
export interface FactoryContext<T> {
  /** The key being computed (without prefix or namespace). */
  readonly key: string;
  /**
   * Aborted when the factory passes `factoryTimeout.hard` or the cache is closed. Pass it to the
   * work (pg, fetch...) so that it really stops.
   */
  readonly signal: AbortSignal;
  /** The previous value, when an expired one is still within grace; else `undefined`. */
  readonly stale: T | undefined;
  /** Sets this entry's ttl. */
  setTtl(ttl: Duration): void;
  /** Sets this entry's tags (replaces those given in the options). */
  setTags(tags: readonly string[]): void;
  /**
   * Returns the factory's result to the caller without caching it. Returns its argument, so that
   * `return ctx.skip(value)` reads naturally.
   */
  skip<V>(value: V): V;
  /** Same as `skip(undefined)`. */
  skip(): undefined;
}

/** A factory: computes the value of a missing or expired entry. */
export type Factory<T> = (ctx: FactoryContext<T>) => T | Promise<T>;

/** One entry for {@link Cache.warm}. */
export interface WarmEntry<T = unknown> {
  /** The key. */
  key: string;
  /** The value (not `undefined`). */
  value: T;
  /** Its ttl, tags, grace. */
  options?: Duration | SetOptions;
}

/** What {@link Cache.warm} accepts: entries, or a function that loads them. */
export type WarmSource =
  | Iterable<WarmEntry>
  | AsyncIterable<WarmEntry>
  | (() => Iterable<WarmEntry> | AsyncIterable<WarmEntry> | Promise<Iterable<WarmEntry>>);

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

/**
 * A multi-level cache (see {@link createCache}). The root cache and each namespace view share
 * one set of connections; each has its own key space.
 */
export interface Cache {
  /** The namespace of this view, `undefined` for the root cache. */
  readonly namespaceName: string | undefined;

  /**
   * Returns the fresh value of `key`, from L1, then L2, else runs `factory` once per process
   * (concurrent callers share the run), stores its result and returns it.
   *
   * `options` is a ttl (`'10m'`) or {@link GetOrSetOptions}. A factory returning `undefined`, or
   * calling `ctx.skip()`, returns its result without caching it. Values are returned by reference
   * from L1 (set `clone: true` for copies). Redis failures never reach the caller; factory errors
   * do, unless a stale value within grace can be served.
   *
   * A computed value is returned as soon as it is in L1: its L2 write finishes in the background
   * (a failure there is counted in `stats().l2` and reported by the `error` event), so a cold call
   * waits for at most one `l2Timeout` (the read) plus the factory, even with Redis stalled.
   *
   * @example
   * ```ts
   * const user = await cache.getOrSet(`user:${id}`, ({ signal }) => db.users.find(id, { signal }), {
   *   ttl: '10m',
   *   tags: [`user:${id}`],
   * });
   * ```
   */
  getOrSet<T>(key: string, factory: Factory<T>, options?: Duration | GetOrSetOptions): Promise<T>;

  /**
   * Returns the fresh value of `key` from L1 or L2, or `undefined`. When L2 is unreachable, a
   * stale L1 value within grace is returned.
   *
   * @example
   * ```ts
   * const session = await cache.get<Session>(`session:${sid}`);
   * ```
   */
  get<T = unknown>(key: string): Promise<T | undefined>;

  /**
   * Stores `value` in L1 and L2 and tells other instances to drop their L1 copy. `value` must not
   * be `undefined` and must be encodable by the serializer (else `CACHE_INVALID_VALUE`).
   *
   * Resolves once the L2 write and the bus message are done, so other instances see the value
   * when it resolves. When Redis fails or stalls it still resolves, without throwing, after at
   * most `l2Timeout` per call (the write; the message is not sent when the write failed), at once
   * while the breaker is open; the value is then in this instance's L1 only.
   *
   * @example
   * ```ts
   * await cache.set('config', config, { ttl: '1h', tags: ['config'] });
   * ```
   */
  set<T>(key: string, value: T, options?: Duration | SetOptions): Promise<void>;

  /**
   * True when `key` has a fresh value (same lookup as {@link Cache.get}).
   *
   * @example
   * ```ts
   * if (!(await cache.has('config'))) await reloadConfig();
   * ```
   */
  has(key: string): Promise<boolean>;

  /**
   * Removes `key` from L1 and L2 and from every other instance's L1.
   *
   * @example
   * ```ts
   * await cache.delete(`user:${id}`);
   * ```
   */
  delete(key: string): Promise<void>;

  /**
   * Removes several keys, like {@link Cache.delete}, with one bus message.
   *
   * @example
   * ```ts
   * await cache.deleteMany(['user:1', 'user:2']);
   * ```
   */
  deleteMany(keys: readonly string[]): Promise<void>;

  /**
   * Makes every entry carrying one of `tags` a miss, on every instance, without scanning keys:
   * the invalidation time of each tag is written to Redis and broadcast on the bus.
   *
   * @example
   * ```ts
   * await db.users.update(id, patch);
   * await cache.invalidateTags([`user:${id}`]);
   * ```
   */
  invalidateTags(tags: string | readonly string[]): Promise<void>;

  /**
   * Deletes every key of this key space matching the glob `pattern` (Redis `MATCH` syntax: `*`,
   * `?`, `[abc]`), in L2 with `SCAN` on every master (never `KEYS`), in L1, and in every other
   * instance's L1. Resolves with the number of L2 keys deleted.
   *
   * @example
   * ```ts
   * await cache.invalidatePattern('report:2024-*');
   * ```
   */
  invalidatePattern(pattern: string): Promise<number>;

  /**
   * Empties this key space (the root's `clear()` empties every namespace too), in L1, in L2
   * (`SCAN` + `UNLINK` by prefix on every master; never `FLUSHDB`) and on every other instance.
   *
   * @example
   * ```ts
   * await cache.namespace('kpi').clear();
   * ```
   */
  clear(): Promise<void>;

  /**
   * Stores many entries, e.g. at startup. Accepts entries or a function loading them; resolves
   * with how many were stored.
   *
   * @example
   * ```ts
   * await cache.warm(async () => (await db.products.top(100)).map((p) => ({ key: `product:${p.id}`, value: p })));
   * ```
   */
  warm(source: WarmSource): Promise<number>;

  /**
   * Returns the counters. On the root they cover every namespace; on a namespace view, that
   * namespace only (L2, breaker, bus and lock figures are always cache-wide).
   *
   * @example
   * ```ts
   * const { hitRate, l2 } = cache.stats();
   * ```
   */
  stats(): CacheStats;

  /**
   * Listens to `event`; returns a function that removes the listener. Events are cache-wide (a
   * namespace view registers on the same emitter; payloads name the namespace). Events nobody
   * listens to cost nothing.
   *
   * @example
   * ```ts
   * const off = cache.on('l2-down', ({ error }) => log.warn({ error }, 'cache L2 down'));
   * ```
   */
  on<K extends keyof CacheEvents>(event: K, listener: Listener<CacheEvents[K]>): Disposer;

  /**
   * Returns the view of namespace `name`: its own key space (L1, Redis keys, tags, `clear()`)
   * and its own defaults from `options.namespaces[name]`. Namespaces are flat: call it on the
   * root. The same view is returned for the same name.
   *
   * @example
   * ```ts
   * const api = cache.namespace('api');
   * await api.getOrSet('pricing', loadPricing);
   * ```
   */
  namespace(name: string): Cache;

  /**
   * Stops the cache: sends the invalidations still waiting for Redis (bounded by `l2Timeout`),
   * quits the bus connection it made, clears its timers, aborts running factories' signals. The `redis` client you passed is left open. Further calls reject with
   * `CLOSED`. On a namespace view, closes the whole cache.
   *
   * @example
   * ```ts
   * await cache.close();
   * await redis.quit();
   * ```
   */
  close(): Promise<void>;
}
