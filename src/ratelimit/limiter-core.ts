import { Emitter, integerOption, invalidArgument, objectArgument, parseDuration } from '../core/index.js';
import { storeUnavailable } from './errors.js';
import { MemoryRateLimitStore } from './memory-store.js';
import { gcraPolicy, type RateLimitPolicy, type StoreReply } from './policy.js';
import { freshResult, resultOf, type RateLimitResult } from './result.js';
import type { RateLimitStore } from './store.js';
import type { RateLimiterEvents, RateLimiterOptions, RateLimiterStats, StoreErrorEvent, StoreErrorPolicy } from './types.js';

const NAME = /^[A-Za-z0-9._:~-]{1,64}$/;
const POLICIES: readonly StoreErrorPolicy[] = ['allow', 'deny', 'local'];
/** Intervals below 10 us would be within the stores' 1 us comparison slack. */
const MAX_UNITS_PER_MS = 100;

function defaultName(limit: number, windowMs: number): string {
  return `${limit}-per-${windowMs % 1000 === 0 ? `${windowMs / 1000}s` : `${windowMs}ms`}`;
}

/** The operations a failed store call can belong to. */
export type StoreOperation = StoreErrorEvent['operation'];

/**
 * What a {@link RateLimiter} is made of: its validated configuration, its counters and events,
 * and the two ways a check gets its answer (from the store, or from `onStoreError`). The public
 * class, the deadline-bound store calls and `takeAll` all work through it.
 *
 * @internal
 */
export class LimiterCore {
  readonly name: string;
  readonly policy: RateLimitPolicy;
  readonly store: RateLimitStore;
  readonly storeTimeoutMs: number;
  readonly onStoreError: StoreErrorPolicy;
  readonly maxKeyLength: number;
  readonly events = new Emitter<RateLimiterEvents>();
  /** The `'local'` fallback's store and share of the limit. */
  readonly local: { store: MemoryRateLimitStore; policy: RateLimitPolicy } | undefined;

  checks = 0;
  allowed = 0;
  limited = 0;
  degraded = 0;
  unavailable = 0;
  storeErrors = 0;
  storeTimeouts = 0;

  constructor(options: RateLimiterOptions) {
    objectArgument(options, 'options');
    if (options === undefined) throw invalidArgument('options', 'an options object with limit and window', options);
    if (options.limit === undefined) throw invalidArgument('limit', 'a whole number from 1 to 1000000000', undefined);
    const limit = integerOption(options.limit, 'limit', 1, { min: 1, max: 1e9 });
    const windowMs = parseDuration(options.window, 'window', { positive: true });
    if (limit > windowMs * MAX_UNITS_PER_MS) {
      throw invalidArgument('limit', `at most ${MAX_UNITS_PER_MS} per millisecond of window (${windowMs * MAX_UNITS_PER_MS} for this window)`, limit);
    }
    const burst = integerOption(options.burst, 'burst', limit, { min: 1, max: 1e9 });
    const name = options.name ?? defaultName(limit, windowMs);
    if (typeof name !== 'string' || !NAME.test(name)) throw invalidArgument('name', 'letters, digits and . _ : ~ - (1 to 64 characters)', name);
    this.name = name;
    this.policy = gcraPolicy(name, limit, windowMs, burst);
    this.storeTimeoutMs = options.storeTimeout === undefined ? 200 : parseDuration(options.storeTimeout, 'storeTimeout', { positive: true });
    const onStoreError = options.onStoreError ?? 'allow';
    if (!POLICIES.includes(onStoreError)) throw invalidArgument('onStoreError', "'allow', 'deny' or 'local'", onStoreError);
    this.onStoreError = onStoreError;
    const instances = integerOption(options.instances, 'instances', 1, { min: 1, max: 1e6 });
    this.maxKeyLength = integerOption(options.maxKeyLength, 'maxKeyLength', 512, { min: 1, max: 1e6 });
    const store = options.store ?? new MemoryRateLimitStore({ clock: options.clock });
    if (typeof store !== 'object' || store === null || typeof store.take !== 'function' || typeof store.takeAll !== 'function') {
      throw invalidArgument('store', 'a RateLimitStore (MemoryRateLimitStore, RedisRateLimitStore or your own)', store);
    }
    this.store = store;
    this.local =
      onStoreError === 'local'
        ? {
            store: new MemoryRateLimitStore({ clock: options.clock }),
            policy: gcraPolicy(name, limit / instances, windowMs, Math.max(1, Math.ceil(burst / instances))),
          }
        : undefined;
  }

  /** `key`, checked: a non-empty string within `maxKeyLength`, or throws `INVALID_ARGUMENT`. */
  checkKey(key: unknown): string {
    if (typeof key !== 'string' || key.length === 0 || key.length > this.maxKeyLength) {
      throw invalidArgument('key', `a non-empty string of at most ${this.maxKeyLength} characters`, key);
    }
    return key;
  }

  /** The cost of a check, or throws `INVALID_ARGUMENT`. */
  costOf(cost: unknown): number {
    if (cost === undefined) return 1;
    if (typeof cost !== 'number' || !Number.isInteger(cost) || cost < 0 || cost > this.policy.burst) {
      throw invalidArgument('cost', `a whole number from 0 to ${this.policy.burst} (the burst)`, cost);
    }
    return cost;
  }

  /** The answer of the store to a take: counted, and reported when refused. */
  answered(key: string, cost: number, reply: StoreReply): RateLimitResult {
    return this.counted(key, cost, resultOf(this.policy, cost, reply, false));
  }

  /** Counts a take's answer and emits `limited` for a refusal. */
  counted(key: string, cost: number, result: RateLimitResult): RateLimitResult {
    this.checks++;
    if (result.degraded) this.degraded++;
    if (result.allowed) {
      this.allowed++;
    } else {
      this.limited++;
      if (this.events.has('limited')) this.events.emit('limited', { name: this.name, key, cost, retryAfterMs: result.retryAfterMs });
    }
    return result;
  }

  /** Counts a failed store call and emits `store-error`. */
  storeFailed(operation: StoreOperation, error: unknown, timedOut: boolean): void {
    this.storeErrors++;
    if (timedOut) this.storeTimeouts++;
    if (this.events.has('store-error')) {
      this.events.emit('store-error', { name: this.name, error, operation, timedOut, fallback: this.onStoreError });
    }
  }

  /**
   * The answer `onStoreError` gives to a check whose store call failed: a degraded result, or a
   * throw of `SERVICE_UNAVAILABLE` (caused by `error`) for `'deny'`. `take` says whether the check takes (a take, or a
   * check of `takeAll`) or only looks (a peek).
   */
  fallback(key: string, cost: number, take: boolean, error: unknown): RateLimitResult {
    if (this.onStoreError === 'deny') {
      if (take) this.unavailable++;
      throw storeUnavailable(this.name, error);
    }
    const local = this.local;
    if (local === undefined) return freshResult(this.policy, take ? cost : 0);
    const reply = take ? local.store.take(key, cost, local.policy) : local.store.peek(key, cost, local.policy);
    return resultOf(local.policy, cost, reply, true);
  }

  /** The counters, for {@link RateLimiter.stats}. */
  stats(): RateLimiterStats {
    const { limit, windowMs, burst } = this.policy;
    return {
      name: this.name,
      limit,
      windowMs,
      burst,
      checks: this.checks,
      allowed: this.allowed,
      limited: this.limited,
      degraded: this.degraded,
      unavailable: this.unavailable,
      storeErrors: this.storeErrors,
      storeTimeouts: this.storeTimeouts,
    };
  }
}
