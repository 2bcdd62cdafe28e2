import type { PrometheusFamily, PrometheusSample } from '../core/index.js';
import type { CacheStats } from '../cache/index.js';
import type { HealthReport } from '../health/index.js';
import type { IdempotencyStats } from '../idempotency/index.js';
import type { TaskQueueStats } from '../queue/index.js';
import { readBreaker, readLimiter, type LimiterCounters, type QueueSource, type ResolvedSources } from './sources.js';

/** What one scrape read from the sources (health is read first, asynchronously). @internal */
export interface ScrapeInput {
  sources: ResolvedSources;
  health: HealthReport | undefined;
}

type Type = PrometheusFamily['type'];

/** Collects families in order, each named once. */
class Families {
  readonly list: PrometheusFamily[] = [];

  add(name: string, type: Type, help: string, samples: PrometheusSample[]): void {
    this.list.push({ name, type, help, samples });
  }

  /** A family of one unlabelled sample. */
  one(name: string, type: Type, help: string, value: number): void {
    this.add(name, type, help, [{ value }]);
  }

  /** One family over named items (queues, breakers...), one sample per item. */
  each<T>(name: string, type: Type, help: string, label: string, items: ReadonlyArray<readonly [string, T]>, value: (item: T) => number | undefined): void {
    const samples: PrometheusSample[] = [];
    for (const [itemName, item] of items) {
      const v = value(item);
      if (v !== undefined) samples.push({ labels: { [label]: itemName }, value: v });
    }
    if (samples.length > 0) this.add(name, type, help, samples);
  }
}

/** A state set: one sample per state, 1 for the current one (OpenMetrics' convention for enums). */
function stateSet(label: string, states: readonly string[], current: string, extra: Record<string, string> = {}): PrometheusSample[] {
  const all = states.includes(current) ? states : [...states, current];
  return all.map((state) => ({ labels: { ...extra, [label]: state }, value: state === current ? 1 : 0 }));
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
/** A breaker's states: the cache's L2 breaker's, and `isolated` (held open by hand). */
const CIRCUIT_STATES = [...BREAKER_STATES, 'isolated'] as const;

function cacheFamilies(f: Families, c: CacheStats): void {
  const layers = (l1: number, l2: number): PrometheusSample[] => [
    { labels: { layer: 'l1' }, value: l1 },
    { labels: { layer: 'l2' }, value: l2 },
  ];
  f.add('headroom_cache_hits_total', 'counter', 'Cache lookups answered from each layer.', layers(c.l1.hits, c.l2.hits));
  f.add('headroom_cache_misses_total', 'counter', 'Cache lookups each layer had no fresh value for.', layers(c.l1.misses, c.l2.misses));
  f.one('headroom_cache_l1_entries', 'gauge', 'Entries held in the in-process cache layer.', c.l1.size);
  f.one('headroom_cache_l2_errors_total', 'counter', 'Redis (L2) calls that failed.', c.l2.errors);
  f.one('headroom_cache_l2_timeouts_total', 'counter', 'Redis (L2) calls abandoned after l2Timeout.', c.l2.timeouts);
  f.one('headroom_cache_stale_served_total', 'counter', 'Stale values served (factory failed or slow, or L2 down).', c.staleServed);
  f.one('headroom_cache_factory_runs_total', 'counter', 'Cache factory runs.', c.factory.calls);
  f.one('headroom_cache_factory_errors_total', 'counter', 'Cache factory runs that threw.', c.factory.errors);
  f.one('headroom_cache_factory_timeouts_total', 'counter', 'Cache factory runs past factoryTimeout.hard.', c.factory.timeouts);
  f.one(
    'headroom_cache_coalesced_total',
    'counter',
    'getOrSet calls that joined a run already in flight (factory runs saved by stampede protection).',
    c.factory.coalesced,
  );
  f.one('headroom_cache_refreshes_total', 'counter', 'Background refreshes started.', c.refreshes);
  f.add(
    'headroom_cache_breaker_state',
    'gauge',
    'State of the L2 circuit breaker (1 for the current state).',
    stateSet('state', BREAKER_STATES, c.breaker.state),
  );
  f.one('headroom_cache_breaker_opened_total', 'counter', 'Times the L2 circuit breaker opened.', c.breaker.opened);
  if (c.bus.enabled) f.one('headroom_cache_bus_connected', 'gauge', 'Whether the invalidation bus is connected (1) or not (0).', c.bus.connected ? 1 : 0);
  f.one('headroom_cache_bus_messages_received_total', 'counter', 'Invalidation messages received from other instances.', c.bus.messagesIn);
  f.one('headroom_cache_bus_messages_published_total', 'counter', 'Invalidation messages published by this instance.', c.bus.messagesOut);
  f.one('headroom_cache_lock_acquired_total', 'counter', 'Cross-process stampede locks taken.', c.lock.acquired);
  f.one('headroom_cache_lock_waits_total', 'counter', "Times this instance waited for another holder's value.", c.lock.waited);
  f.one('headroom_cache_lock_wait_timeouts_total', 'counter', 'Lock waits that gave up and ran the factory.', c.lock.timedOut);
}

function queueFamilies(f: Families, queues: [string, QueueSource][]): void {
  const stats: [string, { s: TaskQueueStats; q: QueueSource }][] = queues.map(([name, q]) => [name, { s: q.stats(), q }]);
  const each = (name: string, type: Type, help: string, value: (x: { s: TaskQueueStats; q: QueueSource }) => number): void =>
    f.each(name, type, help, 'queue', stats, value);
  each('headroom_queue_waiting', 'gauge', 'Tasks waiting for a slot.', (x) => x.s.size);
  each('headroom_queue_running', 'gauge', 'Tasks holding a slot.', (x) => x.s.pending);
  each('headroom_queue_concurrency', 'gauge', 'Slots: tasks that may run at once.', (x) => x.q.concurrency);
  each('headroom_queue_max_waiting', 'gauge', 'Tasks that may wait (maxSize).', (x) => x.q.maxSize);
  each('headroom_queue_added_total', 'counter', 'Tasks accepted.', (x) => x.s.added);
  each('headroom_queue_started_total', 'counter', 'Tasks that got a slot.', (x) => x.s.started);
  each('headroom_queue_completed_total', 'counter', 'Tasks that resolved.', (x) => x.s.completed);
  each('headroom_queue_failed_total', 'counter', 'Tasks that rejected with their own error.', (x) => x.s.failed);
  each('headroom_queue_rejected_total', 'counter', 'Tasks refused: the queue was full or closed.', (x) => x.s.rejected);
  each('headroom_queue_cancelled_total', 'counter', 'Tasks whose signal aborted.', (x) => x.s.cancelled);
  each('headroom_queue_timeouts_total', 'counter', 'Tasks that ran past their timeout.', (x) => x.s.timedOut);
  each('headroom_queue_overrunning', 'gauge', 'Tasks still holding a slot after their caller was answered.', (x) => x.s.overrunning);
  each('headroom_queue_wait_seconds_total', 'counter', 'Time from add() to start, summed over started tasks.', (x) => x.s.totalWaitMs / 1000);
}

function idempotencyFamilies(f: Families, s: IdempotencyStats): void {
  f.one('headroom_idempotency_executions_total', 'counter', 'Idempotent operations run (first calls of a key).', s.executions);
  f.one('headroom_idempotency_replays_total', 'counter', 'Duplicates answered with the stored outcome.', s.replays);
  f.one('headroom_idempotency_conflicts_total', 'counter', 'Duplicates refused with 409 while the first call still ran.', s.conflicts);
  f.one('headroom_idempotency_key_reused_total', 'counter', 'Calls refused with 422: same key, another payload.', s.keyReused);
  f.one('headroom_idempotency_store_unavailable_total', 'counter', 'Calls refused with 503: the store could not be reached.', s.storeUnavailable);
  f.one('headroom_idempotency_running', 'gauge', 'Idempotent operations running now under a lease of this instance.', s.running);
  f.one('headroom_idempotency_completion_retries_total', 'counter', 'Tries of storing a result after one failed or timed out.', s.completionRetries);
  f.one('headroom_idempotency_not_stored_total', 'counter', 'Results that could not be stored before their lease would lapse.', s.notStored);
  f.one(
    'headroom_idempotency_compensating_releases_total',
    'counter',
    'Releases sent after a failed or timed-out acquire, so that a late acquire leaves no orphan lease.',
    s.compensatingReleases,
  );
}

function healthFamilies(f: Families, report: HealthReport): void {
  f.add(
    'headroom_health_status',
    'gauge',
    'Service health (1 for the current status).',
    stateSet('status', ['healthy', 'degraded', 'unhealthy'], report.status),
  );
  const checks = Object.entries(report.checks);
  if (checks.length === 0) return;
  const status: PrometheusSample[] = [];
  for (const [name, c] of checks) status.push(...stateSet('status', ['pass', 'warn', 'fail'], c.status, { check: name }));
  f.add('headroom_health_check_status', 'gauge', 'Each health check (1 for its current status).', status);
  f.add(
    'headroom_health_check_duration_seconds',
    'gauge',
    "Each health check's last run time.",
    checks.map(([name, c]) => ({ labels: { check: name }, value: c.durationMs / 1000 })),
  );
}

function breakerFamilies(f: Families, sources: ResolvedSources): void {
  const breakers = sources.breakers.map(([name, b]) => [name, readBreaker(b)] as const);
  if (breakers.length === 0) return;
  const state: PrometheusSample[] = [];
  for (const [name, b] of breakers) state.push(...stateSet('state', CIRCUIT_STATES, b.state, { breaker: name }));
  f.add('headroom_breaker_state', 'gauge', 'State of each circuit breaker (1 for the current state).', state);
  f.each('headroom_breaker_opened_total', 'counter', 'Times the breaker opened.', 'breaker', breakers, (b) => b.counters.opened);
  f.each('headroom_breaker_rejected_total', 'counter', 'Calls refused while the breaker was open.', 'breaker', breakers, (b) => b.counters.rejected);
  f.each('headroom_breaker_successes_total', 'counter', 'Calls that succeeded through the breaker.', 'breaker', breakers, (b) => b.counters.successes);
  f.each('headroom_breaker_failures_total', 'counter', 'Calls that failed through the breaker.', 'breaker', breakers, (b) => b.counters.failures);
}

function limiterFamilies(f: Families, sources: ResolvedSources): void {
  const limiters = sources.limiters.map(([name, l]) => [name, readLimiter(l)] as const);
  const each = (name: string, help: string, value: (l: LimiterCounters) => number | undefined): void =>
    f.each(name, 'counter', help, 'limiter', limiters, value);
  each('headroom_ratelimit_allowed_total', 'Checks the rate limiter allowed.', (l) => l.allowed);
  each('headroom_ratelimit_limited_total', 'Checks the rate limiter refused as over the limit.', (l) => l.limited);
  each('headroom_ratelimit_degraded_total', "Checks answered by the limiter's fallback because its store failed.", (l) => l.degraded);
  each('headroom_ratelimit_unavailable_total', 'Checks refused as unavailable (503) because the store failed.', (l) => l.unavailable);
  each('headroom_ratelimit_store_errors_total', "Calls to the rate limiter's store that failed, timeouts included.", (l) => l.storeErrors);
  each('headroom_ratelimit_store_timeouts_total', "Calls to the rate limiter's store that passed its timeout.", (l) => l.storeTimeouts);
}

/**
 * The counters and gauges of every source but the tracker (whose summaries the tracker writes
 * itself), in a fixed order: cache, queues, idempotency, health, breakers, limiters.
 *
 * @internal
 */
export function sourceFamilies({ sources, health }: ScrapeInput): PrometheusFamily[] {
  const f = new Families();
  const cache = sources.cache?.stats();
  if (cache !== undefined) cacheFamilies(f, cache);
  queueFamilies(f, sources.queues);
  const idempotency = sources.idempotency?.stats();
  if (idempotency !== undefined) idempotencyFamilies(f, idempotency);
  if (health !== undefined) healthFamilies(f, health);
  breakerFamilies(f, sources);
  limiterFamilies(f, sources);
  return f.list;
}
