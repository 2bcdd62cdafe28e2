import type { Disposer, Duration, Listener } from '../core/index.js';
import type { CacheEvents } from './cache-events.js';
import type { GetOrSetOptions, SetOptions } from './cache-options.js';
import type { CacheStats } from './cache-stats.js';

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
export type WarmSource = Iterable<WarmEntry> | AsyncIterable<WarmEntry> | (() => Iterable<WarmEntry> | AsyncIterable<WarmEntry> | Promise<Iterable<WarmEntry>>);

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
   * const user = await cache.getOrSet(`user:${id}`, ({ signal }) => users.find(id, { signal }), {
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
   * const session = await cache.get<{ userId: string }>(`session:${id}`);
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
   * await cache.set('config', { maintenance: false }, { ttl: '1h', tags: ['config'] });
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
   * await db.query('UPDATE users SET name = $2 WHERE id = $1', [id, 'Ada']);
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
   * await cache.warm(async () => (await db.query('SELECT * FROM product LIMIT 100')).map((p) => ({ key: `product:${p.id}`, value: p })));
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
