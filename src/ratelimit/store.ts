import type { RateLimitPolicy, StoreReply } from './policy.js';

/** One check of a batch given to {@link RateLimitStore.takeAll} or {@link RateLimitStore.refund}. */
export interface RateLimitCheck {
  /** The caller's key (the store keeps each `policy.name`'s keys apart). */
  readonly key: string;
  /** Units to take (a whole number from 0 to `policy.burst`). */
  readonly cost: number;
  /** The limit the key is checked against. */
  readonly policy: RateLimitPolicy;
}

/**
 * Where limiters keep one GCRA timestamp per key. {@link MemoryRateLimitStore} and
 * {@link RedisRateLimitStore} implement it; a store of your own can too.
 *
 * Rules every implementation keeps:
 * - Keys are kept per limit name (`policy.name`): the same key under two names is two budgets.
 * - Each check is atomic: two concurrent checks of one key never both spend the same budget.
 * - {@link RateLimitStore.takeAll} is all or nothing: when one check is refused, nothing is taken
 *   by any (its replies then answer as peeks would).
 * - The time is the store's own (one clock for every process sharing it), read inside the check.
 * - Arguments arrive validated (keys non-empty and bounded, costs whole and within the burst).
 * - A store may answer synchronously (a value, or a throw for a failure) or with a promise; the
 *   limiter bounds promises with `storeTimeout`.
 *
 * Replies are {@link StoreReply} numbers: the key's debt after an allowed check, or minus the
 * wait of a refused one, in milliseconds.
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ limit: 100, window: '1m', store: new MemoryRateLimitStore({ maxKeys: 50_000 }) });
 * ```
 */
export interface RateLimitStore {
  /**
   * Checks `cost` units of `key` against `policy`, and takes them when allowed.
   *
   * @example
   * ```ts
   * const reply = await store.take('10.0.0.7', 1, policy); // >= 0: allowed
   * ```
   */
  take(key: string, cost: number, policy: RateLimitPolicy): StoreReply | Promise<StoreReply>;
  /**
   * Says whether {@link RateLimitStore.take} would allow `cost` units, and takes nothing: when it
   * would, the reply is the key's debt now (not counting `cost`); when not, minus the wait.
   *
   * @example
   * ```ts
   * const reply = await store.peek('10.0.0.7', 1, policy);
   * ```
   */
  peek(key: string, cost: number, policy: RateLimitPolicy): StoreReply | Promise<StoreReply>;
  /**
   * Checks every check and takes them all, or takes none when one is refused. One reply per
   * check, in order. A key may appear more than once; its checks then apply one after another.
   *
   * @example
   * ```ts
   * const [ipReply, accountReply] = await store.takeAll([
   *   { key: '10.0.0.7', cost: 1, policy: perIp.policy },
   *   { key: 'acct-42', cost: 1, policy: perAccount.policy },
   * ]);
   * ```
   */
  takeAll(checks: readonly RateLimitCheck[]): readonly StoreReply[] | Promise<readonly StoreReply[]>;
  /**
   * Gives back what an allowed {@link RateLimitStore.takeAll} of these checks took (used when
   * another store refused the same request). A key's debt never goes below zero.
   *
   * @example
   * ```ts
   * await store.refund([{ key: '10.0.0.7', cost: 1, policy }]);
   * ```
   */
  refund(checks: readonly RateLimitCheck[]): void | Promise<void>;
  /**
   * Forgets `key` of the limit named `policy.name`: its whole budget is available again.
   *
   * @example
   * ```ts
   * await store.reset('10.0.0.7', policy);
   * ```
   */
  reset(key: string, policy: RateLimitPolicy): void | Promise<void>;
}
