import type { Clock, Duration, RedisPubSub, RedisScripting } from '../core/index.js';

/**
 * The Redis client the cache uses as its second level: an ioredis `Redis` or `Cluster`, of
 * ioredis 5 or 6, with either reply mapping. Written as the commands the cache sends rather than
 * as ioredis' classes, so a client from another ioredis copy than the one headroom was built
 * against (two majors in one project) is accepted too.
 *
 * @example
 * ```ts
 * import { Cluster, Redis } from 'ioredis';
 * const standalone: CacheRedis = new Redis(process.env.REDIS_URL!);
 * const cluster: CacheRedis = new Cluster([{ host: '127.0.0.1', port: 7000 }]);
 * ```
 */
export interface CacheRedis extends RedisScripting, RedisPubSub {
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** `SET key value PX milliseconds`. */
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number): Promise<'OK'>;
  /** `SET key value PX milliseconds NX`: `null` when the key exists. */
  set(key: string, value: string, millisecondsToken: 'PX', milliseconds: number, nx: 'NX'): Promise<'OK' | null>;
  /** `MGET key...` (standalone clients only). */
  mget(...keys: string[]): Promise<Array<string | null>>;
  /** `UNLINK key...`. */
  unlink(...keys: string[]): Promise<number>;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
}

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
 * import { deserialize, serialize } from 'node:v8'; // keeps Dates, Maps, BigInts
 * const structured: CacheSerializer = { serialize: (v) => serialize(v), deserialize: (d) => deserialize(Buffer.from(d)) };
 * const cache = createCache({ redis, serializer: structured });
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
  /**
   * Let L2 reads on a standalone client take the direct path: each `GET` goes to ioredis as a
   * command that hands its reply straight to the cache (no promise, no callback per read), and
   * the `GET`s of one tick leave in one socket write. It relies on internals of ioredis'
   * `Command` class, checked once when the cache is created; when they do not match (or on a
   * Cluster, or while something traces ioredis commands) reads go through `client.get`, and
   * `stats().l2.directReads` says which path is in use. `false` always uses `client.get`: a
   * way out should a future ioredis release break the path. Default `true`.
   */
  directReads?: boolean;
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
  /**
   * The clock entries' ttl, grace, early refresh and `busDownL1Ttl` are measured on, in milliseconds since the epoch (other processes' expiry times are compared
   * with it, so keep it on the epoch). For tests and simulations: pass an object whose `now()`
   * you move, as lru-cache's `perf`. A given clock is read on every L1 hit (the default reads a
   * cached `Date.now()` there). Timeouts (`l2Timeout`, `factoryTimeout`, `lock.wait`) and the
   * bus heartbeat run on real time. Default `Date.now()`.
   */
  clock?: Clock;
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
