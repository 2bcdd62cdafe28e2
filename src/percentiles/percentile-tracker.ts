// The public class only: validation, the record() hot path and the reads, each member with its
// TSDoc and @example (about 200 of these lines). Over ~400 lines for that documentation; the
// machinery is elsewhere: window-store.ts (keys, epochs, the sliding windows), series.ts (one
// key's live interval and rings), budget-watch.ts and cooldown.ts (events), prometheus.ts and
// encoding.ts (the output formats).
import { type Disposer, Emitter, functionArgument, invalidArgument, objectArgument, parseDuration } from '../core/index.js';
import { BucketLayout } from './bucket-layout.js';
import { BudgetWatch } from './budget-watch.js';
import type { Budget, BudgetViolation } from './budgets.js';
import { Cooldown } from './cooldown.js';
import { encodeWindow, mergeEncoded } from './encoding.js';
import type { PercentileTrackerEvents } from './events.js';
import { type PrometheusEntry, type PrometheusOptions, prometheusEntry, prometheusNames, writePrometheus } from './prometheus.js';
import type { Series } from './series.js';
import { type PercentileStats, emptyStats } from './stats.js';
import { type Level, type PercentileTrackerOptions, resolveOptions } from './tracker-options.js';
import type { EncodeOptions, KeyedStats, PercentileTrackerJSON, RecordOptions, SlowestOptions, StopTimer, WindowInfo, WindowOptions } from './tracker-types.js';
import { WindowStore } from './window-store.js';

const MAX_KEY_LENGTH = 256;
const ERROR: RecordOptions = Object.freeze({ error: true });
/** The figures {@link PercentileTracker.slowest} ranks by. */
const RANKABLE: readonly string[] = ['p50', 'p90', 'p95', 'p99', 'p999', 'mean', 'max', 'errorRate', 'count', 'throughputPerSec'];

/**
 * Per-key latency percentiles (p50 to p99.9) over sliding windows, on HdrHistogram.
 *
 * Each window is a ring of intervals (12 by default: a `'1m'` window slides in 5 s steps, `'1h'`
 * in 5 min steps). A record goes into the key's live interval only: a dense HdrHistogram counts
 * array, indexed without `Math.log2`, so `record()` costs about what a bare hdr `recordValue`
 * does. When the interval closes, its counts are stored sparse in the smallest window's ring and
 * added once into each larger window's current interval. Reads merge the intervals inside the
 * window. Values are kept in microseconds; percentiles are within 0.1% at 3 significant digits.
 *
 * @example
 * ```ts
 * import { PercentileTracker } from 'headroom/percentiles';
 *
 * const tracker = new PercentileTracker({ windows: ['1m', '1h'], slowThreshold: '500ms' });
 * tracker.on('slow', ({ key, durationMs }) => log.warn({ key, durationMs }, 'slow'));
 *
 * const stop = tracker.startTimer('GET /users/:id');
 * await db.users.find(id);
 * stop();
 *
 * await tracker.time('db.query', () => db.query(sql));
 * tracker.stats('GET /users/:id', { window: '1m' }); // { count, p50, p95, p99, errorRate, ... }
 * ```
 */
export class PercentileTracker {
  private readonly store: WindowStore;
  private readonly budgets: BudgetWatch;
  private readonly events = new Emitter<PercentileTrackerEvents>();
  private readonly highestUs: number;
  private readonly slowThresholdMs: number;
  private readonly cooldownMs: number;
  /** The clock every call reads, when the user gave one (or after close()). */
  private clock: (() => number) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Validates `options` once; throws `INVALID_ARGUMENT` naming a bad option.
   *
   * @example
   * ```ts
   * const tracker = new PercentileTracker({ windows: ['1m', '5m', '1h'], maxKeys: 500, highest: '30s' });
   * ```
   */
  constructor(options?: PercentileTrackerOptions) {
    const resolved = resolveOptions(options);
    this.highestUs = Math.round(resolved.highestMs * 1000);
    this.slowThresholdMs = resolved.slowThresholdMs;
    this.cooldownMs = resolved.eventCooldownMs;
    this.clock = resolved.clock;
    const layout = new BucketLayout(this.highestUs, resolved.significantDigits);
    this.store = new WindowStore(resolved.levels, layout, resolved.maxKeys, this.readClock(), (key) => {
      if (this.events.has('overflow')) this.events.emit('overflow', { key, maxKeys: resolved.maxKeys });
    });
    this.budgets = new BudgetWatch(this.events, this.cooldownMs);
    if (this.clock === undefined) {
      // record() reads the store's epoch instead of the clock (Date.now() costs as much as a
      // record); this timer moves it on. It only keeps a number current, so it never holds the process.
      const tick = Math.min(1000, Math.max(10, this.store.intervalMs / 10));
      this.timer = setInterval(() => this.advance(Date.now()), tick);
      this.timer.unref();
    }
  }

  /**
   * The windows, their interval length (the resolution of the sliding edge) and ring size.
   *
   * @example
   * ```ts
   * new PercentileTracker().windows; // [{ window: '1m', windowMs: 60000, intervalMs: 5000, intervals: 12 }, ...]
   * ```
   */
  get windows(): WindowInfo[] {
    return this.store.levels.map((level) => ({ window: level.label, windowMs: level.windowMs, intervalMs: level.intervalMs, intervals: level.slots }));
  }

  /** Number of keys tracked (at most `maxKeys + 1`, counting {@link OVERFLOW_KEY}). */
  get size(): number {
    return this.store.series.size;
  }

  /** The keys tracked, in insertion order. */
  keys(): string[] {
    return [...this.store.series.keys()];
  }

  /**
   * A (conservatively high) estimate of the bytes the tracker holds: live dense intervals plus
   * sparse closed ones.
   */
  get estimatedFootprintBytes(): number {
    return this.store.footprint;
  }

  /**
   * Listens to `slow`, `budget` or `overflow`; returns a function that removes the listener.
   * Events cost nothing while nobody listens.
   *
   * @example
   * ```ts
   * const off = tracker.on('budget', (v) => alert(`${v.key} ${v.metric} ${v.actual} > ${v.limit}`));
   * ```
   */
  on<K extends keyof PercentileTrackerEvents>(event: K, listener: (payload: PercentileTrackerEvents[K]) => void): Disposer {
    return this.events.on(event, listener);
  }

  /**
   * Records one duration, in milliseconds (fractions kept to the microsecond), under `key`.
   * O(1): one map lookup and one counter increment. A value above `highest` is recorded as
   * `highest` and counted in `clamped`. With `outcome` `shed`, `timed_out` or `client_gone` the
   * request is only counted (see {@link RecordOptions.outcome}).
   *
   * @throws `INVALID_ARGUMENT` when `durationMs` is not a finite number >= 0, `key` is not a
   * non-empty string of at most 256 characters, or `outcome` is not a {@link RequestOutcome}.
   * Nothing is recorded then.
   * @example
   * ```ts
   * tracker.record('GET /users/:id', 12.5);
   * tracker.record('POST /orders', 830, { error: true });
   * tracker.record('GET /report', 0.3, { outcome: 'shed' }); // counted in stats().shed only
   * ```
   */
  record(key: string, durationMs: number, options?: RecordOptions): void {
    if (typeof durationMs !== 'number' || !(durationMs >= 0) || durationMs === Infinity) {
      throw invalidArgument('durationMs', 'a finite number of milliseconds >= 0', durationMs);
    }
    if (this.clock !== undefined) this.advance(this.clock());
    const store = this.store;
    const series = store.series.get(key) ?? this.addSeries(key);
    let error = false;
    if (options !== undefined) {
      const outcome = options.outcome;
      if (outcome !== undefined) {
        if (series.hotEpoch !== store.epoch) store.openInterval(series);
        if (series.countApart(outcome)) return;
        error = outcome === 'error';
      }
      if (options.error === true) error = true;
    }
    let us = Math.round(durationMs * 1000);
    if (us > this.highestUs) {
      us = this.highestUs;
      series.clamped++;
    }
    if (series.hotEpoch !== store.epoch) store.openInterval(series);
    series.add(store.layout.index(us), us, error);
    if (durationMs > this.slowThresholdMs && this.events.has('slow')) this.onSlow(series, durationMs);
  }

  /**
   * Starts timing one operation of `key`; the returned function records the elapsed time (once)
   * and returns it in ms. Pass `{ error: true }` to it to count a failure.
   *
   * @example
   * ```ts
   * const stop = tracker.startTimer('GET /users/:id');
   * try { await slowReport(); stop(); } catch (err) { stop({ error: true }); throw err; }
   * ```
   */
  startTimer(key: string): StopTimer {
    this.checkKey(key);
    const start = performance.now();
    let elapsed = -1;
    return (options?: RecordOptions) => {
      if (elapsed < 0) {
        elapsed = performance.now() - start;
        this.record(key, elapsed, options);
      }
      return elapsed;
    };
  }

  /**
   * Runs `fn` and records how long it took, as an error when it throws or rejects (the error is
   * passed on). A promise is timed until it settles.
   *
   * @example
   * ```ts
   * const rows = await tracker.time('db.users.find', () => db.query('select ...'));
   * ```
   */
  time<T>(key: string, fn: () => T): T {
    this.checkKey(key);
    functionArgument(fn, 'fn');
    const start = performance.now();
    let result: T;
    try {
      result = fn();
    } catch (err) {
      this.record(key, performance.now() - start, ERROR);
      throw err;
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      return (result as unknown as PromiseLike<unknown>).then(
        (value) => {
          this.record(key, performance.now() - start);
          return value;
        },
        (err: unknown) => {
          this.record(key, performance.now() - start, ERROR);
          throw err;
        },
      ) as T;
    }
    this.record(key, performance.now() - start);
    return result;
  }

  /**
   * The stats of `key` over a window (default: the smallest). An unknown key, or a window with
   * nothing in it, reports zeros.
   *
   * @example
   * ```ts
   * const { p95, errorRate, throughputPerSec } = tracker.stats('GET /users/:id', { window: '1h' });
   * ```
   */
  stats(key: string, options?: WindowOptions): PercentileStats {
    this.checkKey(key);
    const level = this.levelOf(options);
    this.advance(this.readClock());
    const series = this.store.series.get(key);
    if (series === undefined) return emptyStats();
    return this.store.read(series, level);
  }

  /**
   * The stats of every key over a window, by key.
   *
   * @example
   * ```ts
   * for (const [key, s] of Object.entries(tracker.summary({ window: '5m' }))) console.log(key, s.p99);
   * ```
   */
  summary(options?: WindowOptions): Record<string, PercentileStats> {
    const level = this.levelOf(options);
    this.advance(this.readClock());
    const out: [string, PercentileStats][] = [];
    for (const series of this.store.series.values()) out.push([series.key, this.store.read(series, level)]);
    return Object.fromEntries(out);
  }

  /**
   * The `n` keys with the highest figure `by` (default `p95`) over a window, highest first. Keys
   * with nothing in the window are left out.
   *
   * @example
   * ```ts
   * tracker.slowest(5, { by: 'p99', window: '1h' }); // [{ key: 'GET /report', p99: 2300, ... }, ...]
   * ```
   */
  slowest(n: number, options?: SlowestOptions): KeyedStats[] {
    if (!Number.isInteger(n) || n < 0) throw invalidArgument('n', 'a whole number >= 0', n);
    objectArgument(options, 'options');
    const by = options?.by ?? 'p95';
    if (!RANKABLE.includes(by)) {
      throw invalidArgument('options.by', 'a figure of PercentileStats such as "p95"', by);
    }
    const level = this.levelOf(options);
    this.advance(this.readClock());
    const all: KeyedStats[] = [];
    for (const series of this.store.series.values()) {
      const stats = this.store.read(series, level);
      if (stats.count > 0) all.push({ key: series.key, ...stats });
    }
    all.sort((a, b) => b[by] - a[by]);
    return all.slice(0, n);
  }

  /**
   * Replaces the performance budgets: per key, ceilings of percentiles, mean, max (durations) and
   * `errorRate` (a fraction). Checked by {@link PercentileTracker.checkBudgets}, and automatically
   * at each interval of the smallest window while a `budget` listener is attached.
   *
   * @example
   * ```ts
   * tracker.setBudgets({ 'GET /api/scenarios': { p95: 200, errorRate: 0.01 } });
   * ```
   */
  setBudgets(budgets: Record<string, Budget>): void {
    this.budgets.set(budgets);
  }

  /**
   * The budget metrics each key exceeds over a window (default: the smallest); keys with nothing
   * in the window are not judged. Emits `budget` for each (rate-limited).
   *
   * @example
   * ```ts
   * for (const v of tracker.checkBudgets({ window: '5m' })) console.warn(`${v.key}: ${v.metric} ${v.actual} > ${v.limit}`);
   * ```
   */
  checkBudgets(options?: WindowOptions): BudgetViolation[] {
    const level = this.levelOf(options);
    this.advance(this.readClock());
    return this.budgets.judge(this.store, level);
  }

  /**
   * The Prometheus text exposition (format 0.0.4) of every key: a `summary` family whose quantile
   * samples (0.5 to 0.999, in seconds) cover one window, with lifetime `_sum` and `_count`
   * (counter semantics, like prom-client's windowed Summary), a `..._errors_total` counter, and
   * a `..._outcomes_total` counter with an `outcome` label (`served`, `error`, `shed`,
   * `timed_out`, `client_gone`; only the first two are in the summary). Keys go in the `key`
   * label, escaped. Empty windows report 0.
   *
   * @example
   * ```ts
   * res.setHeader('content-type', 'text/plain; version=0.0.4'); res.end(tracker.toPrometheus());
   * // headroom_duration_seconds{key="GET /users/:id",quantile="0.99"} 0.0123
   * // headroom_duration_outcomes_total{key="GET /users/:id",outcome="shed"} 25432
   * ```
   */
  toPrometheus(options?: PrometheusOptions): string {
    objectArgument(options, 'options');
    const level = this.levelOf(options);
    const names = prometheusNames(options, level.label);
    this.advance(this.readClock());
    const store = this.store;
    const entries: PrometheusEntry[] = [];
    for (const series of store.series.values()) entries.push(prometheusEntry(series, store.read(series, level)));
    return writePrometheus(entries, names, level.label);
  }

  /**
   * Every key's stats in every window, as a plain object (what `JSON.stringify` writes).
   *
   * @example
   * ```ts
   * app.get('/debug/latency', (req, res) => res.json(tracker));
   * ```
   */
  toJSON(): PercentileTrackerJSON {
    this.advance(this.readClock());
    const keys = Object.create(null) as Record<string, Record<string, PercentileStats>>;
    const levels = this.store.levels;
    for (const series of this.store.series.values()) {
      const perWindow: Record<string, PercentileStats> = {};
      for (const level of levels) perWindow[level.label] = this.store.read(series, level);
      keys[series.key] = perWindow;
    }
    return { windows: levels.map((level) => level.label), keys };
  }

  /**
   * Serialises one key (or every key) over a window as a string: each key's HdrHistogram in the
   * V2 compressed encoding (base64, microseconds; readable by any HdrHistogram library) plus its
   * exact count, sum, min, max and errors. Ship these from each instance and combine them with
   * {@link PercentileTracker.merge}.
   *
   * @example
   * ```ts
   * await redis.rpush('latency:1m', tracker.encode(undefined, { window: '1m' }));
   * ```
   */
  encode(key?: string, options?: EncodeOptions): string {
    if (key !== undefined) this.checkKey(key);
    const level = this.levelOf(options);
    this.advance(this.readClock());
    const series = key === undefined ? [...this.store.series.values()] : [this.store.series.get(key)].filter((found) => found !== undefined);
    return encodeWindow(this.store, level, series);
  }

  /**
   * Combines strings from {@link PercentileTracker.encode} (several instances, same window) into
   * stats per key. The histograms are added, so the percentiles are exactly those of all values
   * together, never averaged; throughput adds up across instances.
   *
   * @throws `INVALID_ARGUMENT` for a string that `encode()` did not produce, or histograms of
   * different `significantDigits`.
   * @example
   * ```ts
   * const merged = PercentileTracker.merge(await redis.lrange('latency:1m', 0, -1));
   * merged['GET /users/:id']?.p99;
   * ```
   */
  static merge(encoded: readonly string[]): Record<string, PercentileStats> {
    return mergeEncoded(encoded);
  }

  /**
   * Forgets one key (its stats restart from zero).
   *
   * @example
   * ```ts
   * tracker.delete('GET /legacy');
   * ```
   */
  delete(key: string): boolean {
    return this.store.delete(key);
  }

  /**
   * Stops the clock timer and removes every listener. The tracker still answers reads, and
   * `record()` still works (reading the clock on each call).
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => tracker.close());
   * ```
   */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clock ??= Date.now;
    this.events.clear();
  }

  private readClock(): number {
    return this.clock === undefined ? Date.now() : this.clock();
  }

  private checkKey(key: unknown): asserts key is string {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
      throw invalidArgument('key', `a non-empty string of at most ${MAX_KEY_LENGTH} characters`, key);
    }
  }

  private levelOf(options: WindowOptions | undefined): Level {
    objectArgument(options, 'options');
    const levels = this.store.levels;
    const window = options?.window;
    if (window === undefined) return levels[0] as Level;
    const ms = parseDuration(window, 'options.window');
    for (const level of levels) if (level.windowMs === ms) return level;
    throw invalidArgument('options.window', `one of the configured windows (${levels.map((level) => level.label).join(', ')})`, window);
  }

  private addSeries(key: string): Series {
    this.checkKey(key);
    return this.store.add(key);
  }

  /** Moves the clock to `now`; on a new interval, runs the automatic budget check if someone listens. */
  private advance(now: number): void {
    if (this.store.advance(now) && this.budgets.watched) this.budgets.judge(this.store, this.store.levels[0] as Level);
  }

  private onSlow(series: Series, durationMs: number): void {
    const now = this.clock === undefined ? Date.now() : this.store.now;
    series.slowCooldown ??= new Cooldown();
    const suppressed = series.slowCooldown.pass(now, this.cooldownMs);
    if (suppressed >= 0) this.events.emit('slow', { key: series.key, durationMs, thresholdMs: this.slowThresholdMs, suppressed });
  }
}
