import type { CheckStatus, HealthStatus } from '../health/index.js';
import type { IdempotencyStats } from '../idempotency/index.js';
import type { WindowOptions } from '../percentiles/index.js';
import type { Alert } from './alert-types.js';
import { routeOutcomes } from './route-outcomes.js';
import { readBreaker, readLimiter, type BreakerCounters, type LimiterCounters, type ResolvedSources } from './sources.js';

/** One route (a tracker key) in a {@link DashboardFrame}. Durations in milliseconds. */
export interface RouteFrame {
  /** The tracker key, e.g. `'GET /users/:id'`. */
  key: string;
  /** Requests per second, averaged over the window. */
  requestsPerSec: number;
  /** Requests recorded in the window. */
  count: number;
  /** Median over the window. */
  p50: number;
  /** 95th percentile over the window. */
  p95: number;
  /** 99th percentile over the window. */
  p99: number;
  /** Answers counted as errors in the window. */
  errors: number;
  /** `errors / count`. */
  errorRatio: number;
  /** Requests shed in the window; `null` while the tracker counts them among `errors`. */
  shed: number | null;
  /** Requests timed out in the window; `null` while the tracker counts them among `errors`. */
  timedOut: number | null;
}

/** One health check in a {@link DashboardFrame}. */
export interface HealthCheckFrame {
  /** The name it was registered under. */
  name: string;
  /** `pass`, `warn` or `fail`. */
  status: CheckStatus;
  /** How long its last run took, in ms. */
  durationMs: number;
  /** Why it warned or failed, when it said; `null` otherwise. */
  output: string | null;
  /** Whether its failing makes the service unhealthy. */
  critical: boolean;
}

/** The health part of a {@link DashboardFrame}. */
export interface HealthFrame {
  /** `healthy`, `degraded` or `unhealthy`. */
  status: HealthStatus;
  /** One line naming the checks at fault. */
  message: string;
  /** Each check, in registration order. */
  checks: HealthCheckFrame[];
}

/** The cache part of a {@link DashboardFrame}. Ratios cover the last 10 seconds of the feed. */
export interface CacheFrame {
  /** L1 hits / L1 lookups over the last 10 s; `null` without lookups. */
  l1HitRatio: number | null;
  /** L2 hits / L2 lookups over the last 10 s; `null` without L2 lookups. */
  l2HitRatio: number | null;
  /** Factory runs since the cache was made. */
  factoryRuns: number;
  /** Factory runs saved by stampede protection: calls that joined a run in flight or waited for another process's. */
  factoryRunsSaved: number;
  /** Stale values served since the cache was made. */
  staleServed: number;
  /** The L2 circuit breaker: `closed`, `open` or `half-open`. */
  breaker: string;
  /** Whether the invalidation bus is connected; `null` for a cache without one (no Redis, or `bus: false`). */
  busConnected: boolean | null;
  /** Entries in L1 now. */
  l1Entries: number;
}

/** One queue in a {@link DashboardFrame}. */
export interface QueueFrame {
  /** Its name (the key in `queues`). */
  name: string;
  /** Tasks waiting for a slot. */
  waiting: number;
  /** Tasks holding a slot. */
  running: number;
  /** Slots. */
  concurrency: number;
  /** How many may wait; `null` for no bound. */
  maxSize: number | null;
  /** Tasks refused since the queue was made. */
  rejected: number;
  /** Tasks refused per second over the last 10 s. */
  rejectedPerSec: number;
  /** Average wait for a slot of the tasks started over the last 10 s, in ms; `null` when none started. */
  avgWaitMs: number | null;
}

/** One circuit breaker in a {@link DashboardFrame}. */
export interface BreakerFrame {
  /** Its name (the key in `breakers`). */
  name: string;
  /** Its state. */
  state: string;
  /** The counters it reports. */
  counters: BreakerCounters;
}

/** One rate limiter in a {@link DashboardFrame}. */
export interface LimiterFrame {
  /** Its name (the key in `limiters`). */
  name: string;
  /** The counters it reports. */
  counters: LimiterCounters;
}

/**
 * One event of the dashboard's feed: everything the page shows, as JSON. A part whose source
 * was not given is `null` (or an empty list).
 *
 * @example
 * ```ts
 * const source = new EventSource('/dashboard?events');
 * source.onmessage = (e) => {
 *   const frame: DashboardFrame = JSON.parse(e.data);
 *   console.log(frame.routes.map((r) => `${r.key} p99 ${r.p99} ms`));
 * };
 * ```
 */
export interface DashboardFrame {
  /** The format's version: `1`. */
  version: 1;
  /** When the frame was made (ms since the epoch). */
  time: number;
  /** Time between frames, in ms. */
  intervalMs: number;
  /** The tracker window route figures cover (`'1m'`), `null` without a tracker. */
  window: string | null;
  /** Routes with requests in the window, by key. */
  routes: RouteFrame[];
  /** Health, or `null` without a checker. */
  health: HealthFrame | null;
  /** Cache, or `null` without one. */
  cache: CacheFrame | null;
  /** Queues, by name. */
  queues: QueueFrame[];
  /** Idempotency counters, or `null` without an instance. */
  idempotency: IdempotencyStats | null;
  /** Circuit breakers. */
  breakers: BreakerFrame[];
  /** Rate limiters. */
  limiters: LimiterFrame[];
  /** Alerts firing now. */
  alerts: Alert[];
}

/** What the dashboard needs to know about alerts; `alertRules()` gives one. */
export interface AlertSource {
  /** The alerts firing now. */
  active(): Alert[];
}

/** Counters sampled each frame, for rates and ratios over the last seconds. */
interface Sample {
  at: number;
  l1Hits: number;
  l1Lookups: number;
  l2Hits: number;
  l2Lookups: number;
  queues: Map<string, { rejected: number; started: number; waitMs: number }>;
}

/** How far back rates and ratios look. */
const RATE_SPAN_MS = 10_000;

/** Options of {@link FrameBuilder}. @internal */
export interface FrameBuilderOptions {
  sources: ResolvedSources;
  alerts: AlertSource | undefined;
  window: WindowOptions;
  windowLabel: string | null;
  intervalMs: number;
  maxRoutes: number;
}

/**
 * Builds frames from the sources. Keeps the counters of the last 10 seconds of frames (a few
 * small objects) to turn lifetime counters into rates; nothing else.
 *
 * @internal
 */
export class FrameBuilder {
  private samples: Sample[] = [];

  constructor(private readonly options: FrameBuilderOptions) {}

  /** Forgets the samples (the feed stopped; rates start over when it restarts). */
  reset(): void {
    this.samples = [];
  }

  async build(): Promise<DashboardFrame> {
    const { sources, alerts, windowLabel, intervalMs } = this.options;
    // First: the only step that may wait (a health run, bounded by the checks' timeouts).
    const health = sources.health === undefined ? null : await readHealth(sources.health);
    const now = Date.now();
    const cacheStats = sources.cache?.stats();
    const queueStats = sources.queues.map(([name, queue]) => [name, queue, queue.stats()] as const);
    const sample: Sample = {
      at: now,
      l1Hits: cacheStats?.l1.hits ?? 0,
      l1Lookups: cacheStats === undefined ? 0 : cacheStats.l1.hits + cacheStats.l1.misses,
      l2Hits: cacheStats?.l2.hits ?? 0,
      l2Lookups: cacheStats === undefined ? 0 : cacheStats.l2.hits + cacheStats.l2.misses,
      queues: new Map(queueStats.map(([name, , s]) => [name, { rejected: s.rejected, started: s.started, waitMs: s.totalWaitMs }])),
    };
    const base = this.remember(sample);

    return {
      version: 1,
      time: now,
      intervalMs,
      window: windowLabel,
      routes: this.routes(),
      health,
      cache:
        cacheStats === undefined
          ? null
          : {
              l1HitRatio: ratio(sample.l1Hits - base.l1Hits, sample.l1Lookups - base.l1Lookups),
              l2HitRatio: ratio(sample.l2Hits - base.l2Hits, sample.l2Lookups - base.l2Lookups),
              factoryRuns: cacheStats.factory.calls,
              factoryRunsSaved: cacheStats.factory.coalesced + cacheStats.lock.waited,
              staleServed: cacheStats.staleServed,
              breaker: cacheStats.breaker.state,
              busConnected: cacheStats.bus.enabled ? cacheStats.bus.connected : null,
              l1Entries: cacheStats.l1.size,
            },
      queues: queueStats.map(([name, queue, s]) => {
        const before = base.queues.get(name) ?? { rejected: 0, started: 0, waitMs: 0 };
        const seconds = Math.max(now - base.at, 1) / 1000;
        const started = s.started - before.started;
        return {
          name,
          waiting: s.size,
          running: s.pending,
          concurrency: queue.concurrency,
          maxSize: Number.isFinite(queue.maxSize) ? queue.maxSize : null,
          rejected: s.rejected,
          rejectedPerSec: base === sample ? 0 : (s.rejected - before.rejected) / seconds,
          avgWaitMs: started > 0 ? (s.totalWaitMs - before.waitMs) / started : null,
        };
      }),
      idempotency: sources.idempotency?.stats() ?? null,
      breakers: sources.breakers.map(([name, breaker]) => ({ name, ...readBreaker(breaker) })),
      limiters: sources.limiters.map(([name, limiter]) => ({ name, counters: readLimiter(limiter) })),
      alerts: alerts === undefined ? [] : alerts.active(),
    };
  }

  /** Adds `sample` and returns the oldest one within the rate span (`sample` itself when alone). */
  private remember(sample: Sample): Sample {
    const samples = this.samples;
    samples.push(sample);
    while (samples.length > 2 && sample.at - (samples[1] as Sample).at >= RATE_SPAN_MS) samples.shift();
    return samples[0] as Sample;
  }

  private routes(): RouteFrame[] {
    const tracker = this.options.sources.percentiles;
    if (tracker === undefined) return [];
    const window = this.options.window;
    let entries = Object.entries(tracker.summary(window)).filter(([, s]) => s.count > 0);
    if (entries.length > this.options.maxRoutes) entries = entries.sort((a, b) => b[1].count - a[1].count).slice(0, this.options.maxRoutes);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return entries.map(([key, s]) => {
      const outcomes = routeOutcomes(tracker, key, s, window);
      return {
        key,
        requestsPerSec: s.throughputPerSec,
        count: s.count,
        p50: s.p50,
        p95: s.p95,
        p99: s.p99,
        errors: outcomes.errors,
        errorRatio: s.count === 0 ? 0 : outcomes.errors / s.count,
        shed: outcomes.shed,
        timedOut: outcomes.timedOut,
      };
    });
  }
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

async function readHealth(health: { check(): Promise<import('../health/index.js').HealthReport> }): Promise<HealthFrame> {
  try {
    const report = await health.check();
    return {
      status: report.status,
      message: report.message,
      checks: Object.entries(report.checks).map(([name, c]) => ({
        name,
        status: c.status,
        durationMs: c.durationMs,
        output: c.output ?? null,
        critical: c.critical,
      })),
    };
  } catch (err) {
    // A closed checker (or a custom source that failed) shows as such instead of stopping the feed.
    return { status: 'unhealthy', message: err instanceof Error ? err.message : String(err), checks: [] };
  }
}
