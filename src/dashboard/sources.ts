import { functionArgument, invalidArgument, objectArgument } from '../core/index.js';
import type { CacheStats } from '../cache/index.js';
import type { HealthReport } from '../health/index.js';
import type { IdempotencyStats } from '../idempotency/index.js';
import type { PercentileTracker } from '../percentiles/index.js';
import type { TaskQueueStats } from '../queue/index.js';

/** A cache as the dashboard reads it; the cache from `createCache()` is one. */
export interface CacheSource {
  /** The cache's counters. */
  stats(): CacheStats;
}

/** A queue as the dashboard reads it; a `TaskQueue` is one. */
export interface QueueSource {
  /** The queue's counters. */
  stats(): TaskQueueStats;
  /** How many tasks run at once. */
  readonly concurrency: number;
  /** How many tasks may wait. */
  readonly maxSize: number;
}

/** An idempotency instance as the dashboard reads it; an `Idempotency` is one. */
export interface IdempotencySource {
  /** Its counters. */
  stats(): IdempotencyStats;
}

/** A health checker as the dashboard reads it; a `HealthChecker` is one. */
export interface HealthSource {
  /** Runs (or reuses, within `cacheFor`) the checks. */
  check(): Promise<HealthReport>;
}

/**
 * Counters a circuit breaker may report, each optional: only those present are shown and
 * exported. Counts since the breaker was made. The names are those of `headroom/resilience`'s
 * `CircuitBreaker.stats()`.
 */
export interface BreakerCounters {
  /** Times the breaker opened. */
  opened?: number;
  /** Calls refused while it was open. */
  rejected?: number;
  /** Calls that succeeded through it. */
  successes?: number;
  /** Calls that failed through it. */
  failures?: number;
}

/**
 * A circuit breaker as the dashboard reads it. `headroom/resilience`'s `CircuitBreaker` is one,
 * as it is (`breakers: { payments: breaker }`); a breaker of another library plugs in through a
 * few lines that give it a `state` (and, if it keeps counters, `stats()`).
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from 'headroom/resilience';
 * import { dashboardHandler } from 'headroom/dashboard';
 * import { toNode, type HttpExchange } from 'headroom/http';
 *
 * const payments = new CircuitBreaker({ name: 'payments', cooldown: '10s' });
 * const authorize = (exchange: HttpExchange) => exchange.header('x-authenticated-role') === 'ops';
 * app.get('/dashboard', toNode(dashboardHandler({ breakers: { payments }, authorize })));
 * ```
 */
export interface BreakerSource {
  /**
   * `'closed'`, `'open'`, `'half-open'` or `'isolated'` (held open by hand); another name is
   * shown as it is.
   */
  readonly state: string;
  /** Its counters, when it keeps any; read on every frame and scrape, so keep it cheap. */
  stats?(): BreakerCounters;
}

/**
 * Counters a rate limiter may report, each optional: only those present are shown and
 * exported. Counts since the limiter was made. The names are those of `headroom/ratelimit`'s
 * `RateLimiter.stats()`.
 */
export interface LimiterCounters {
  /** Checks allowed. */
  allowed?: number;
  /** Checks refused as over the limit. */
  limited?: number;
  /** Checks answered by the limiter's fallback (`onStoreError: 'allow'` or `'local'`) instead of its store. */
  degraded?: number;
  /** Checks refused as unavailable (503) because the store failed (`onStoreError: 'deny'`). */
  unavailable?: number;
  /** Store calls that failed, timeouts included. */
  storeErrors?: number;
  /** Store calls that passed the limiter's store timeout. */
  storeTimeouts?: number;
}

/**
 * A rate limiter as the dashboard reads it. `headroom/ratelimit`'s `RateLimiter` is one, as it is
 * (`limiters: { 'per-ip': perIp }`); a limiter of another library plugs in through a `stats()`
 * that returns the counters it keeps.
 *
 * @example
 * ```ts
 * import { RateLimiter } from 'headroom/ratelimit';
 * import { metricsHandler } from 'headroom/dashboard';
 * import { toNode } from 'headroom/http';
 *
 * const perIp = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m' });
 * app.get('/metrics', toNode(metricsHandler({ limiters: { 'per-ip': perIp } })));
 * ```
 */
export interface LimiterSource {
  /** Its counters; read on every frame and scrape, so keep it cheap. */
  stats(): LimiterCounters;
}

/**
 * What {@link dashboardHandler} and {@link metricsHandler} read, each optional: pass what the
 * service has. Queues, breakers and limiters are named by their key in the object.
 */
export interface DashboardSources {
  /** Per-route latency, throughput and errors. */
  percentiles?: PercentileTracker;
  /** The cache: hit ratios, factory runs saved, stale values served, L2 breaker, bus. */
  cache?: CacheSource;
  /** Queues by name: waiting, running, refused, wait times. */
  queues?: Readonly<Record<string, QueueSource>>;
  /** The health checker: overall status and each check. */
  health?: HealthSource;
  /** Idempotency: executions, replays, 409s. */
  idempotency?: IdempotencySource;
  /** Circuit breakers by name (see {@link BreakerSource}). */
  breakers?: Readonly<Record<string, BreakerSource>>;
  /** Rate limiters by name (see {@link LimiterSource}). */
  limiters?: Readonly<Record<string, LimiterSource>>;
}

/** The sources, checked, with the named ones as lists. @internal */
export interface ResolvedSources {
  percentiles: PercentileTracker | undefined;
  cache: CacheSource | undefined;
  queues: [string, QueueSource][];
  health: HealthSource | undefined;
  idempotency: IdempotencySource | undefined;
  breakers: [string, BreakerSource][];
  limiters: [string, LimiterSource][];
}

function hasMethod(value: unknown, method: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

function optionalSource<T>(value: unknown, name: string, method: string, expected: string): T | undefined {
  if (value === undefined) return undefined;
  if (!hasMethod(value, method)) throw invalidArgument(name, expected, value);
  return value as T;
}

/**
 * The named sources of `value` (`queues`, `breakers`, `limiters`), each checked by `check`, which
 * throws `INVALID_ARGUMENT` naming the item (`breakers.payments`) or its member at fault.
 */
function named<T>(value: unknown, name: string, check: (item: unknown, itemName: string) => void): [string, T][] {
  if (value === undefined) return [];
  objectArgument(value, name);
  const out: [string, T][] = [];
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key.length === 0) throw invalidArgument(name, 'an object whose keys are non-empty names', value);
    check(item, `${name}.${key}`);
    out.push([key, item as T]);
  }
  return out;
}

function checkQueue(queue: unknown, name: string): void {
  if (!hasMethod(queue, 'stats')) throw invalidArgument(name, 'a TaskQueue (with stats())', queue);
}

function checkBreaker(breaker: unknown, name: string): void {
  if (typeof breaker !== 'object' || breaker === null || typeof (breaker as BreakerSource).state !== 'string') {
    throw invalidArgument(name, 'a circuit breaker with a string `state`', breaker);
  }
  // eslint-disable-next-line @typescript-eslint/unbound-method -- only checked here; called on the breaker
  const stats = (breaker as BreakerSource).stats;
  if (stats !== undefined) functionArgument(stats, `${name}.stats`);
}

function checkLimiter(limiter: unknown, name: string): void {
  if (typeof limiter !== 'object' || limiter === null) throw invalidArgument(name, 'a rate limiter with stats()', limiter);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- only checked here; called on the limiter
  functionArgument((limiter as LimiterSource).stats, `${name}.stats`);
}

/** Checks every source once, naming the option at fault. @internal */
export function resolveSources(options: DashboardSources): ResolvedSources {
  return {
    percentiles: optionalSource(options.percentiles, 'percentiles', 'summary', 'a PercentileTracker'),
    cache: optionalSource(options.cache, 'cache', 'stats', 'a cache (with stats())'),
    queues: named(options.queues, 'queues', checkQueue),
    health: optionalSource(options.health, 'health', 'check', 'a HealthChecker'),
    idempotency: optionalSource(options.idempotency, 'idempotency', 'stats', 'an Idempotency (with stats())'),
    breakers: named(options.breakers, 'breakers', checkBreaker),
    limiters: named(options.limiters, 'limiters', checkLimiter),
  };
}

/** The counters of a breaker or limiter that are present and finite. */
function presentCounters<K extends string>(counters: Partial<Record<K, unknown>> | undefined, names: readonly K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  if (counters === undefined || counters === null) return out;
  for (const name of names) {
    const value = counters[name];
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  }
  return out;
}

/** The breaker counters the dashboard shows and exports. @internal */
export const BREAKER_COUNTERS = ['opened', 'rejected', 'successes', 'failures'] as const;
/** The limiter counters the dashboard shows and exports. @internal */
export const LIMITER_COUNTERS = ['allowed', 'limited', 'degraded', 'unavailable', 'storeErrors', 'storeTimeouts'] as const;

/** What one breaker reports: its state and the counters it keeps. @internal */
export function readBreaker(breaker: BreakerSource): { state: string; counters: BreakerCounters } {
  return { state: breaker.state, counters: presentCounters(breaker.stats?.(), BREAKER_COUNTERS) };
}

/** What one limiter reports: the counters it keeps. @internal */
export function readLimiter(limiter: LimiterSource): LimiterCounters {
  return presentCounters(limiter.stats(), LIMITER_COUNTERS);
}
