import { invalidArgument, type Disposer, type Listener } from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import { storeUnavailable } from './errors.js';
import { LimiterCore } from './limiter-core.js';
import type { RateLimitPolicy, StoreReply } from './policy.js';
import { resultOf, type RateLimitAllResult, type RateLimitResult } from './result.js';
import { answerFailure, boundedStoreCall, StoreCall } from './store-call.js';
import { takeAllEntries, type Entry } from './take-all.js';
import type { RateLimiterEvents, RateLimiterOptions, RateLimiterStats, TakeOptions } from './types.js';

/** One check of {@link RateLimiter.takeAll}. */
export interface TakeAllCheck {
  /** The limiter to check against. */
  limiter: RateLimiter;
  /** The key within that limiter. */
  key: string;
  /** Units to spend. Default `1`. */
  cost?: number;
}

/**
 * A rate limit: `limit` units per `window` for each key, spent up to `burst` at once, checked
 * with GCRA (one timestamp per key, exact, smooth: no window edges to game). The store decides
 * where the timestamps live: this process ({@link MemoryRateLimitStore}, the default) or Redis
 * ({@link RedisRateLimitStore}, shared by every process). Every store call is bounded by
 * `storeTimeout`; when the store fails, `onStoreError` answers (never "rate limited").
 *
 * @example
 * ```ts
 * const limiter = new RateLimiter({ name: 'login', limit: 5, window: '1m', burst: 5 });
 * fastify.post<{ Body: { email: string } }>('/login', async (request, reply) => {
 *   const result = await limiter.take(`login:${request.body.email}`);
 *   if (!result.allowed) return reply.code(429).header('retry-after', Math.ceil(result.retryAfterMs / 1000)).send();
 *   return { ok: true };
 * });
 * ```
 */
export class RateLimiter {
  private readonly core: LimiterCore;

  /**
   * @param options - see {@link RateLimiterOptions}; `limit` and `window` are required.
   */
  constructor(options: RateLimiterOptions) {
    this.core = new LimiterCore(options);
  }

  /** The limiter's name (store keys, `RateLimit-Policy`, events, stats). */
  get name(): string {
    return this.core.name;
  }

  /** The limit's figures: `limit`, `windowMs`, `burst` and the GCRA interval and tolerance. */
  get policy(): RateLimitPolicy {
    return this.core.policy;
  }

  /**
   * Spends `cost` units of `key`'s budget if it has them. Resolves with the answer (`allowed`,
   * `remaining`, `retryAfterMs`...); a refusal is an answer, not an error. Rejects with
   * `INVALID_ARGUMENT` for an empty or too long key or a cost that is not a whole number from 0
   * to `burst` (nothing is stored), and with `SERVICE_UNAVAILABLE` when the store fails under
   * `onStoreError: 'deny'`.
   *
   * @example
   * ```ts
   * const { allowed, remaining, retryAfterMs } = await limiter.take(`ip:${ip}`);
   * const upload = await limiter.take(`bytes:${account.id}`, { cost: Math.ceil(Number(req.header('content-length') ?? 0) / 1024) });
   * ```
   */
  take(key: string, options?: TakeOptions): Promise<RateLimitResult> {
    return this.check(key, options, true);
  }

  /**
   * Says whether {@link RateLimiter.take} would allow `cost` units now, without spending
   * anything: `remaining` is what the key has left now, `retryAfterMs` the wait when it would be
   * refused.
   *
   * @example
   * ```ts
   * const { remaining } = await limiter.peek(`ip:${ip}`);
   * ```
   */
  peek(key: string, options?: TakeOptions): Promise<RateLimitResult> {
    return this.check(key, options, false);
  }

  /**
   * Forgets `key`: its whole budget is available again (in the store and in the `'local'`
   * fallback). Rejects with `SERVICE_UNAVAILABLE` when the store fails or passes `storeTimeout`.
   *
   * @example
   * ```ts
   * await limiter.reset(`login:${email}`); // after a successful login
   * ```
   */
  async reset(key: string): Promise<void> {
    const core = this.core;
    core.checkKey(key);
    core.local?.store.reset(key, core.local.policy);
    try {
      await boundedStoreCall(() => core.store.reset(key, core.policy), core.storeTimeoutMs, 'reset');
    } catch (error) {
      core.storeFailed('reset', error, error instanceof TimeoutError);
      throw storeUnavailable(core.name, error);
    }
  }

  /**
   * Checks several limits for one request, each with its own key, and spends on all of them or
   * none: when one refuses, nothing is taken from the others. Resolves with the strictest answer
   * (a refusal with the longest wait, else the fewest units left) and each limit's own in
   * `results`. Limits sharing a store are checked in one round trip (one script on Redis).
   *
   * On a Redis Cluster, keys in one hash slot are checked atomically by one script; keys in
   * several slots are taken at once (one round trip per slot, in parallel) and given back when one
   * refuses: meanwhile their units are held, so a concurrent request may be refused, never
   * wrongly allowed. Put a hash tag in the keys (`{acct:42}:ip:10.0.0.7` and `{acct:42}`) to make
   * them share a slot.
   *
   * @example
   * ```ts
   * const result = await RateLimiter.takeAll([
   *   { limiter: perIp, key: ip },
   *   { limiter: perAccount, key: account.id },
   * ]);
   * if (!result.allowed) throw new RateLimitedError({ retryAfterMs: result.retryAfterMs });
   * ```
   */
  static takeAll(checks: readonly TakeAllCheck[]): Promise<RateLimitAllResult> {
    let entries: Entry[];
    try {
      if (!Array.isArray(checks) || checks.length === 0) throw invalidArgument('checks', 'a non-empty array of { limiter, key, cost? }', checks);
      entries = checks.map((item: unknown, i) => {
        const { limiter, key, cost } = (item ?? {}) as Partial<TakeAllCheck>;
        if (!(limiter instanceof RateLimiter)) throw invalidArgument(`checks[${i}].limiter`, 'a RateLimiter', limiter);
        const core = limiter.core;
        const checked = core.checkKey(key);
        const units = core.costOf(cost);
        return { core, key: checked, cost: units, check: { key: checked, cost: units, policy: core.policy } };
      });
    } catch (error) {
      return Promise.reject(error);
    }
    return takeAllEntries(entries);
  }

  /**
   * Listens to `event` (`'limited'`, `'store-error'`); returns a function that removes the
   * listener. Nothing is built for an event nobody listens to.
   *
   * @example
   * ```ts
   * const off = limiter.on('store-error', ({ error, timedOut }) => log.warn({ error, timedOut }, 'rate limit store'));
   * ```
   */
  on<K extends keyof RateLimiterEvents>(event: K, listener: Listener<RateLimiterEvents[K]>): Disposer {
    return this.core.events.on(event, listener);
  }

  /**
   * Counters since the limiter was made: checks, allowed, limited, degraded answers, store
   * errors and timeouts. Cheap (no store call).
   *
   * @example
   * ```ts
   * const { limited, storeErrors } = limiter.stats();
   * ```
   */
  stats(): RateLimiterStats {
    return this.core.stats();
  }

  private check(key: string, options: TakeOptions | undefined, take: boolean): Promise<RateLimitResult> {
    const core = this.core;
    let cost: number;
    let reply: StoreReply | Promise<StoreReply>;
    try {
      core.checkKey(key);
      cost = options === undefined ? 1 : core.costOf(options.cost);
    } catch (error) {
      return Promise.reject(error);
    }
    try {
      reply = take ? core.store.take(key, cost, core.policy) : core.store.peek(key, cost, core.policy);
    } catch (error) {
      try {
        return Promise.resolve(answerFailure(core, key, cost, take, error, false));
      } catch (rejection) {
        return Promise.reject(rejection);
      }
    }
    if (typeof reply === 'number') {
      return Promise.resolve(take ? core.answered(key, cost, reply) : resultOf(core.policy, cost, reply, false));
    }
    return new StoreCall(core, key, cost, take, reply).promise;
  }
}
