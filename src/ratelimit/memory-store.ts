import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { integerOption, invalidArgument, objectArgument } from '../core/index.js';
import { gcraStep, type RateLimitPolicy, type StoreReply } from './policy.js';
import type { RateLimitCheck, RateLimitStore } from './store.js';

/** A source of milliseconds that never goes backwards: `performance` by default. */
export interface RateLimitClock {
  /** The current time in milliseconds. */
  now(): number;
}

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * The most keys kept; past it the least recently checked key is forgotten (its budget is whole
   * again), so memory stays bounded whatever the number of distinct clients. Size it above the
   * number of keys active within one window: `stats().evictions` climbing says it is too small.
   * Default `100_000` (about 12 MB).
   */
  maxKeys?: number;
  /** The clock, in milliseconds. Default `performance` (monotonic). Inject one in tests. */
  clock?: RateLimitClock;
}

/** Figures of a {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreStats {
  /** Keys held now. */
  keys: number;
  /** The configured `maxKeys`. */
  maxKeys: number;
  /** Keys forgotten to stay within `maxKeys`. */
  evictions: number;
}

/**
 * A {@link RateLimitStore} in this process: one number per key in an LRU bounded by `maxKeys`,
 * every check synchronous (no promise, no timer). The default store of a {@link RateLimiter};
 * use {@link RedisRateLimitStore} to share limits between processes.
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore({ maxKeys: 50_000 });
 * const perIp = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m', store });
 * const perAccount = new RateLimiter({ name: 'per-account', limit: 1000, window: '1h', store });
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly tats: LRUCache<string, number>;
  private readonly clock: RateLimitClock;
  private readonly maxKeys: number;
  private evictions = 0;

  /**
   * @param options - see {@link MemoryRateLimitStoreOptions}.
   */
  constructor(options: MemoryRateLimitStoreOptions = {}) {
    objectArgument(options, 'options');
    this.maxKeys = integerOption(options.maxKeys, 'maxKeys', 100_000, { min: 1, max: 2 ** 30 });
    const clock = options.clock ?? performance;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') {
      throw invalidArgument('clock', 'an object with a now() method', clock);
    }
    this.clock = clock;
    this.tats = new LRUCache<string, number>({
      max: this.maxKeys,
      noDisposeOnSet: true,
      dispose: (_tat, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  /** {@inheritDoc RateLimitStore.take} */
  take(key: string, cost: number, policy: RateLimitPolicy): StoreReply {
    const now = this.clock.now();
    const reply = gcraStep(this.tats.get(key), now, cost, policy);
    if (reply >= 0 && cost > 0) this.tats.set(key, now + reply);
    return reply;
  }

  /** {@inheritDoc RateLimitStore.peek} */
  peek(key: string, cost: number, policy: RateLimitPolicy): StoreReply {
    const reply = gcraStep(this.tats.peek(key), this.clock.now(), cost, policy);
    return reply < 0 ? reply : Math.max(0, reply - cost * policy.intervalMs);
  }

  /** {@inheritDoc RateLimitStore.takeAll} */
  takeAll(checks: readonly RateLimitCheck[]): StoreReply[] {
    const now = this.clock.now();
    const replies = new Array<StoreReply>(checks.length);
    // The TATs this batch would leave, so that a key checked twice sees its first check.
    const pending = new Map<string, number>();
    let refused = false;
    for (let i = 0; i < checks.length; i++) {
      const { key, cost, policy } = checks[i] as RateLimitCheck;
      const reply = gcraStep(pending.get(key) ?? this.tats.get(key), now, cost, policy);
      replies[i] = reply;
      if (reply < 0) refused = true;
      else if (cost > 0) pending.set(key, now + reply);
    }
    if (refused) return asPeeks(checks, replies);
    for (const [key, tat] of pending) this.tats.set(key, tat);
    return replies;
  }

  /** {@inheritDoc RateLimitStore.refund} */
  refund(checks: readonly RateLimitCheck[]): void {
    const now = this.clock.now();
    for (const { key, cost, policy } of checks) {
      const tat = this.tats.get(key);
      if (tat === undefined) continue;
      const after = tat - cost * policy.intervalMs;
      if (after > now) this.tats.set(key, after);
      else this.tats.delete(key);
    }
  }

  /** {@inheritDoc RateLimitStore.reset} */
  reset(key: string): void {
    this.tats.delete(key);
  }

  /**
   * Keys held, the bound, and how many keys were forgotten to respect it.
   *
   * @example
   * ```ts
   * if (store.stats().evictions > 0) log.warn('rate limit store too small for the key space');
   * ```
   */
  stats(): MemoryRateLimitStoreStats {
    return { keys: this.tats.size, maxKeys: this.maxKeys, evictions: this.evictions };
  }
}

/**
 * The replies of a refused batch, as peeks: a check that was allowed within the batch took
 * nothing, so its debt is what it was before its own cost.
 *
 * @internal
 */
export function asPeeks(checks: readonly RateLimitCheck[], replies: StoreReply[]): StoreReply[] {
  for (let i = 0; i < replies.length; i++) {
    const reply = replies[i] as number;
    if (reply < 0) continue;
    const { cost, policy } = checks[i] as RateLimitCheck;
    replies[i] = Math.max(0, reply - cost * policy.intervalMs);
  }
  return replies;
}
