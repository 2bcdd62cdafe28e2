import { clockOption, integerOption, objectArgument, performanceClock, type Clock } from '../core/index.js';
import { KeyGenerations } from './key-generations.js';
import { asPeeks, gcraStep, type RateLimitPolicy, type StoreReply } from './policy.js';
import type { RateLimitCheck, RateLimitStore } from './store.js';

/**
 * The rate limiter's clock: core's `Clock` (milliseconds that never go backwards; any origin).
 *
 * @deprecated Use `Clock`, the one clock type every headroom module takes.
 */
export type RateLimitClock = Clock;

/** Options for {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * The most keys kept per limit name (a whole number >= 2), so memory stays bounded whatever the
   * number of distinct clients. Keys that have not been checked for a while are forgotten (their
   * budget is whole again): a key is kept at least until `maxKeys / 2` other keys were added after
   * it was last checked. Size it at twice the number of keys active within one window or more;
   * `stats().evictions` climbing says it is too small. Default `100_000` (about 12 MB for keys of
   * 20 characters).
   */
  maxKeys?: number;
  /** The clock, in milliseconds. Default `performance.now()` (monotonic). Inject one in tests. */
  clock?: Clock;
}

/** Figures of a {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreStats {
  /** Keys held now, every limit name together. */
  keys: number;
  /** The configured `maxKeys` (per limit name). */
  maxKeys: number;
  /** Limit names with keys in the store. */
  names: number;
  /** Keys forgotten to stay within `maxKeys`. */
  evictions: number;
}

/**
 * A {@link RateLimitStore} in this process: one number per key, bounded by `maxKeys` per limit
 * name, every check synchronous (no promise, no timer, one map lookup for a known key). The default store of a {@link RateLimiter};
 * use {@link RedisRateLimitStore} to share limits between processes.
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore({ maxKeys: 50_000 });
 * const perIp = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m', store });
 * const perAccount = new RateLimiter({ name: 'per-account', limit: 1000, window: '1h', store });
 * ```
 */
/** A key's TAT, updated in place: a check of a known key is one map lookup and no allocation. */
interface Slot {
  tat: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly spaces = new Map<string, KeyGenerations<Slot>>();
  private readonly clock: Clock;
  private readonly maxKeys: number;
  /** The last name looked up and its keys: a store serving one limiter skips the map. */
  private lastName: string | undefined = undefined;
  private lastSpace: KeyGenerations<Slot> | undefined = undefined;

  /**
   * @param options - see {@link MemoryRateLimitStoreOptions}.
   */
  constructor(options: MemoryRateLimitStoreOptions = {}) {
    objectArgument(options, 'options');
    this.maxKeys = integerOption(options.maxKeys, 'maxKeys', 100_000, { min: 2, max: 2 ** 30 });
    this.clock = clockOption(options.clock, performanceClock);
  }

  /** {@inheritDoc RateLimitStore.take} */
  take(key: string, cost: number, policy: RateLimitPolicy): StoreReply {
    const now = this.clock.now();
    const space = this.space(policy.name);
    const slot = space.get(key);
    const reply = gcraStep(slot?.tat, now, cost, policy);
    if (reply >= 0 && cost > 0) write(space, key, slot, now + reply);
    return reply;
  }

  /** {@inheritDoc RateLimitStore.peek} */
  peek(key: string, cost: number, policy: RateLimitPolicy): StoreReply {
    const reply = gcraStep(this.space(policy.name).peek(key)?.tat, this.clock.now(), cost, policy);
    return reply < 0 ? reply : Math.max(0, reply - cost * policy.intervalMs);
  }

  /** {@inheritDoc RateLimitStore.takeAll} */
  takeAll(checks: readonly RateLimitCheck[]): StoreReply[] {
    const now = this.clock.now();
    const replies = new Array<StoreReply>(checks.length);
    // The TATs this batch would leave, so that a key checked twice sees its first check.
    const pending = new Map<KeyGenerations<Slot>, Map<string, number>>();
    let refused = false;
    for (let i = 0; i < checks.length; i++) {
      const { key, cost, policy } = checks[i] as RateLimitCheck;
      const space = this.space(policy.name);
      let tats = pending.get(space);
      if (tats === undefined) pending.set(space, (tats = new Map<string, number>()));
      const reply = gcraStep(tats.get(key) ?? space.get(key)?.tat, now, cost, policy);
      replies[i] = reply;
      if (reply < 0) refused = true;
      else if (cost > 0) tats.set(key, now + reply);
    }
    if (refused) return asPeeks(checks, replies);
    for (const [space, tats] of pending) for (const [key, tat] of tats) write(space, key, space.peek(key), tat);
    return replies;
  }

  /** {@inheritDoc RateLimitStore.refund} */
  refund(checks: readonly RateLimitCheck[]): void {
    const now = this.clock.now();
    for (const { key, cost, policy } of checks) {
      const space = this.space(policy.name);
      const slot = space.get(key);
      if (slot === undefined) continue;
      slot.tat -= cost * policy.intervalMs;
      if (slot.tat <= now) space.delete(key);
    }
  }

  /** {@inheritDoc RateLimitStore.reset} */
  reset(key: string, policy: RateLimitPolicy): void {
    this.spaces.get(policy.name)?.delete(key);
  }

  /**
   * Keys held, the bound, and how many keys were forgotten to respect it.
   *
   * @example
   * ```ts
   * const memory = new MemoryRateLimitStore({ maxKeys: 100_000 });
   * // later, from a periodic check:
   * if (memory.stats().evictions > 0) log.warn('rate limit store too small for the key space');
   * ```
   */
  stats(): MemoryRateLimitStoreStats {
    let keys = 0;
    let evictions = 0;
    for (const space of this.spaces.values()) {
      keys += space.size;
      evictions += space.evicted;
    }
    return { keys, maxKeys: this.maxKeys, names: this.spaces.size, evictions };
  }

  /** The keys of the limit named `name`. */
  private space(name: string): KeyGenerations<Slot> {
    if (name === this.lastName) return this.lastSpace as KeyGenerations<Slot>;
    let space = this.spaces.get(name);
    if (space === undefined) {
      space = new KeyGenerations<Slot>(Math.floor(this.maxKeys / 2));
      this.spaces.set(name, space);
    }
    this.lastName = name;
    this.lastSpace = space;
    return space;
  }
}

function write(space: KeyGenerations<Slot>, key: string, slot: Slot | undefined, tat: number): void {
  if (slot === undefined) space.add(key, { tat });
  else slot.tat = tat;
}
