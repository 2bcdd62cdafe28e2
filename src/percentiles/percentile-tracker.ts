import { type Disposer, type Duration, Emitter, functionArgument, invalidArgument, objectArgument, parseDuration } from '../core/index.js';
import { BucketLayout } from './bucket-layout.js';
import { type Budget, type BudgetViolation, type Ceiling, resolveBudgets } from './budgets.js';
import { ENCODING_FORMAT, type EncodedKey, type EncodedPayload, encodeAccumulator, mergeEncoded } from './encoding.js';
import { OVERFLOW_KEY, type PercentileTrackerEvents } from './events.js';
import { type PrometheusEntry, type PrometheusOptions, isFreeLabelName, writePrometheus } from './prometheus.js';
import { type HotInterval, type Snapshot, mergeSnapshots, takeSnapshot } from './snapshot.js';
import { Accumulator, type PercentileStats, type RequestOutcome, emptyStats } from './stats.js';
import { type Level, type PercentileTrackerOptions, resolveOptions } from './tracker-options.js';

/** Options of {@link PercentileTracker.record}. */
export interface RecordOptions {
  /** Count this value as an error (it is still part of the percentiles). Default `false`. Same as `outcome: 'error'`. */
  error?: boolean;
  /**
   * What happened to the request (see {@link RequestOutcome}). `served` (the default) and `error`
   * are recorded in the percentiles; `shed`, `timed_out` and `client_gone` are only counted, in
   * the stats' `shed`, `timedOut` and `clientGone` and in the Prometheus `_outcomes_total`
   * counter, because their duration says nothing about how fast the handler is.
   */
  outcome?: RequestOutcome;
}

/** Options of the reads ({@link PercentileTracker.stats}, `summary`, `checkBudgets`, ...). */
export interface WindowOptions {
  /** One of the configured windows. Default: the smallest. */
  window?: Duration;
}

/** Options of {@link PercentileTracker.slowest}. */
export interface SlowestOptions extends WindowOptions {
  /** The figure to rank by. Default `'p95'`. */
  by?: 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'mean' | 'max' | 'errorRate' | 'count' | 'throughputPerSec';
}

/** Options of {@link PercentileTracker.encode}. */
export interface EncodeOptions extends WindowOptions {}

/** A key's stats plus the key, as {@link PercentileTracker.slowest} returns them. */
export interface KeyedStats extends PercentileStats {
  /** The key. */
  key: string;
}

/** The shape of {@link PercentileTracker.toJSON}. */
export interface PercentileTrackerJSON {
  /** The configured windows, e.g. `['1m', '1h']`. */
  windows: string[];
  /** For each key, its stats in each window. */
  keys: Record<string, Record<string, PercentileStats>>;
}

/** One configured window, as {@link PercentileTracker.windows} describes it. */
export interface WindowInfo {
  /** The window's label, as configured (`'1m'`). */
  window: string;
  /** The window, in ms. */
  windowMs: number;
  /** Length of one interval, in ms: the step by which the window slides (its resolution). */
  intervalMs: number;
  /** Intervals in the window's ring. */
  intervals: number;
}

/** A stop function from {@link PercentileTracker.startTimer}. */
export type StopTimer = (options?: RecordOptions) => number;

const MAX_KEY_LENGTH = 256;
const HOT_POOL_SIZE = 32;
const ERROR: RecordOptions = Object.freeze({ error: true });

/** A ring of closed intervals for one window. */
interface Ring {
  epochs: Float64Array;
  snaps: (Snapshot | null)[];
}

/** Everything tracked for one key: its live interval (dense) and its rings (sparse). */
class Series implements HotInterval {
  counts: Uint16Array;
  carry: Map<number, number> | null = null;
  /** Epoch (in smallest-window intervals) of the live interval, or -1 when there is none. */
  hotEpoch = -1;
  count = 0;
  sum = 0;
  sumSq = 0;
  min = Infinity;
  max = 0;
  errors = 0;
  clamped = 0;
  shed = 0;
  timedOut = 0;
  clientGone = 0;
  /** Epoch of the last interval that held data. */
  lastEpoch = -1;
  totalCount = 0;
  totalSum = 0;
  totalErrors = 0;
  totalShed = 0;
  totalTimedOut = 0;
  totalClientGone = 0;
  lastSlowAt = -Infinity;
  slowSuppressed = 0;
  readonly rings: Ring[];

  constructor(
    readonly key: string,
    levels: Level[],
    counts: Uint16Array,
  ) {
    this.counts = counts;
    this.rings = levels.map((l) => ({ epochs: new Float64Array(l.slots).fill(-1), snaps: new Array<Snapshot | null>(l.slots).fill(null) }));
  }
}

const EMPTY = new Uint16Array(0);
/** A 16-bit dense slot wraps here; the excess goes to {@link HotInterval.carry}. */
const WRAP = 0x10000;

/** Whether the live interval of `s` holds anything (a value, or an outcome counted apart). */
function holdsData(s: Series): boolean {
  return s.count > 0 || s.shed > 0 || s.timedOut > 0 || s.clientGone > 0;
}

/** Counts an outcome that stays out of the percentiles; false for `served`/`error`. */
function countApart(s: Series, outcome: RequestOutcome): boolean {
  switch (outcome) {
    case 'served':
    case 'error':
      return false;
    case 'shed':
      s.shed++;
      return true;
    case 'timed_out':
      s.timedOut++;
      return true;
    case 'client_gone':
      s.clientGone++;
      return true;
    default:
      throw invalidArgument('options.outcome', "one of 'served', 'error', 'shed', 'timed_out', 'client_gone'", outcome);
  }
}

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
 * await loadUser(id);
 * stop();
 *
 * await tracker.time('db.query', () => db.query(sql));
 * tracker.stats('GET /users/:id', { window: '1m' }); // { count, p50, p95, p99, errorRate, ... }
 * ```
 */
export class PercentileTracker {
  private readonly levels: Level[];
  private readonly layout: BucketLayout;
  private readonly acc: Accumulator;
  private readonly series = new Map<string, Series>();
  private readonly pool: Uint16Array[] = [];
  private readonly events = new Emitter<PercentileTrackerEvents>();
  private readonly maxKeys: number;
  private readonly highestUs: number;
  private readonly slowThresholdMs: number;
  private readonly cooldownMs: number;
  private readonly baseMs: number;
  private readonly startedAt: number;
  /** The clock every call reads, when the user gave one (or after close()). */
  private clock: (() => number) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  /** Current epoch, in intervals of the smallest window. */
  private epoch: number;
  private now: number;
  private overflowed = false;
  private budgets = new Map<string, Ceiling[]>();
  private readonly budgetState = new Map<string, { at: number; suppressed: number }>();

  /**
   * Validates `options` once; throws `INVALID_ARGUMENT` naming a bad option.
   *
   * @example
   * ```ts
   * const tracker = new PercentileTracker({ windows: ['1m', '5m', '1h'], maxKeys: 500, highest: '30s' });
   * ```
   */
  constructor(options?: PercentileTrackerOptions) {
    const o = resolveOptions(options);
    this.levels = o.levels;
    this.highestUs = Math.round(o.highestMs * 1000);
    this.layout = new BucketLayout(this.highestUs, o.significantDigits);
    this.acc = new Accumulator(this.layout);
    this.maxKeys = o.maxKeys;
    this.slowThresholdMs = o.slowThresholdMs;
    this.cooldownMs = o.eventCooldownMs;
    this.baseMs = (this.levels[0] as Level).intervalMs;
    this.clock = o.clock;
    const now = this.readClock();
    this.startedAt = now;
    this.now = now;
    this.epoch = Math.floor(now / this.baseMs);
    if (this.clock === undefined) {
      // record() reads this.epoch instead of the clock (Date.now() costs as much as a record);
      // this timer moves it on. It only keeps a number current, so it never holds the process.
      const tick = Math.min(1000, Math.max(10, this.baseMs / 10));
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
    return this.levels.map((l) => ({ window: l.label, windowMs: l.windowMs, intervalMs: l.intervalMs, intervals: l.slots }));
  }

  /** Number of keys tracked (at most `maxKeys + 1`, counting {@link OVERFLOW_KEY}). */
  get size(): number {
    return this.series.size;
  }

  /** The keys tracked, in insertion order. */
  keys(): string[] {
    return [...this.series.keys()];
  }

  /**
   * A (conservatively high) estimate of the bytes the tracker holds: live dense intervals plus
   * sparse closed ones.
   */
  get estimatedFootprintBytes(): number {
    let bytes = this.layout.length * 8 + this.pool.length * this.layout.length * 2;
    for (const s of this.series.values()) {
      bytes += 256 + s.counts.byteLength + (s.carry === null ? 0 : 64 + s.carry.size * 32);
      for (const ring of s.rings) {
        bytes += ring.epochs.byteLength + ring.snaps.length * 8;
        for (const snap of ring.snaps) if (snap !== null) bytes += snap.footprint;
      }
    }
    return bytes;
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
    const s = this.series.get(key) ?? this.addSeries(key);
    let error = false;
    if (options !== undefined) {
      const outcome = options.outcome;
      if (outcome !== undefined) {
        if (s.hotEpoch !== this.epoch) this.openInterval(s);
        if (countApart(s, outcome)) return;
        error = outcome === 'error';
      }
      if (options.error === true) error = true;
    }
    let us = Math.round(durationMs * 1000);
    if (us > this.highestUs) {
      us = this.highestUs;
      s.clamped++;
    }
    if (s.hotEpoch !== this.epoch) this.openInterval(s);
    const i = this.layout.index(us);
    const c = (s.counts[i] as number) + 1;
    s.counts[i] = c;
    if (c === WRAP) this.carryOver(s, i);
    s.count++;
    s.sum += us;
    s.sumSq += us * us;
    if (us < s.min) s.min = us;
    if (us > s.max) s.max = us;
    if (error) s.errors++;
    if (durationMs > this.slowThresholdMs && this.events.has('slow')) this.onSlow(s, durationMs);
  }

  /**
   * Starts timing one operation of `key`; the returned function records the elapsed time (once)
   * and returns it in ms. Pass `{ error: true }` to it to count a failure.
   *
   * @example
   * ```ts
   * const stop = tracker.startTimer('GET /users/:id');
   * try { await handle(); stop(); } catch (err) { stop({ error: true }); throw err; }
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
    const s = this.series.get(key);
    if (s === undefined) return emptyStats();
    return this.read(s, level);
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
    for (const s of this.series.values()) out.push([s.key, this.read(s, level)]);
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
    if (!['p50', 'p90', 'p95', 'p99', 'p999', 'mean', 'max', 'errorRate', 'count', 'throughputPerSec'].includes(by)) {
      throw invalidArgument('options.by', 'a figure of PercentileStats such as "p95"', by);
    }
    const level = this.levelOf(options);
    this.advance(this.readClock());
    const all: KeyedStats[] = [];
    for (const s of this.series.values()) {
      const stats = this.read(s, level);
      if (stats.count > 0) all.push({ key: s.key, ...stats });
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
    this.budgets = resolveBudgets(budgets);
    this.budgetState.clear();
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
    return this.judgeBudgets(level);
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
    const name = options?.name ?? 'headroom_duration_seconds';
    if (typeof name !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
      throw invalidArgument('options.name', 'a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)', name);
    }
    const label = options?.label ?? 'key';
    if (!isFreeLabelName(label)) {
      throw invalidArgument('options.label', 'a Prometheus label name, not reserved (__name__, le, any __ prefix) nor used here (quantile, outcome)', label);
    }
    const level = this.levelOf(options);
    const help = options?.help ?? `Durations in seconds; quantiles over the last ${level.label}, sum and count since start.`;
    if (typeof help !== 'string') throw invalidArgument('options.help', 'a string', help);
    this.advance(this.readClock());
    const entries: PrometheusEntry[] = [];
    for (const s of this.series.values()) {
      entries.push({
        key: s.key,
        window: this.read(s, level),
        totalCount: s.totalCount + s.count,
        totalSumMs: (s.totalSum + s.sum) / 1000,
        totalErrors: s.totalErrors + s.errors,
        totalShed: s.totalShed + s.shed,
        totalTimedOut: s.totalTimedOut + s.timedOut,
        totalClientGone: s.totalClientGone + s.clientGone,
      });
    }
    return writePrometheus(entries, name, help, label, level.label);
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
    const keys: Record<string, Record<string, PercentileStats>> = Object.create(null);
    for (const s of this.series.values()) {
      const perWindow: Record<string, PercentileStats> = {};
      for (const level of this.levels) perWindow[level.label] = this.read(s, level);
      keys[s.key] = perWindow;
    }
    return { windows: this.levels.map((l) => l.label), keys };
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
    const keys: EncodedKey[] = [];
    const list = key === undefined ? [...this.series.values()] : [this.series.get(key)].filter((s) => s !== undefined);
    for (const s of list) {
      this.gather(s, level);
      const m = this.acc.moments();
      keys.push({ key: s.key, histogram: encodeAccumulator(this.acc), ...m });
      this.acc.clear();
    }
    const payload: EncodedPayload = {
      format: ENCODING_FORMAT,
      significantDigits: this.layout.significantDigits,
      highestUs: this.highestUs,
      window: level.label,
      spanMs: this.spanOf(level),
      keys,
    };
    return JSON.stringify(payload);
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
    const s = this.series.get(key);
    if (s === undefined) return false;
    this.release(s);
    return this.series.delete(key);
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
    const window = options?.window;
    if (window === undefined) return this.levels[0] as Level;
    const ms = parseDuration(window, 'options.window');
    for (const level of this.levels) if (level.windowMs === ms) return level;
    throw invalidArgument('options.window', `one of the configured windows (${this.levels.map((l) => l.label).join(', ')})`, window);
  }

  private addSeries(key: string): Series {
    this.checkKey(key);
    if (this.series.size >= this.maxKeys) {
      let overflow = this.series.get(OVERFLOW_KEY);
      if (overflow === undefined) {
        overflow = new Series(OVERFLOW_KEY, this.levels, EMPTY);
        this.series.set(OVERFLOW_KEY, overflow);
      }
      if (!this.overflowed) {
        this.overflowed = true;
        if (this.events.has('overflow')) this.events.emit('overflow', { key, maxKeys: this.maxKeys });
      }
      return overflow;
    }
    const s = new Series(key, this.levels, EMPTY);
    this.series.set(key, s);
    return s;
  }

  private openInterval(s: Series): void {
    if (holdsData(s)) this.flush(s);
    if (s.counts === EMPTY) s.counts = this.pool.pop() ?? new Uint16Array(this.layout.length);
    s.hotEpoch = this.epoch;
  }

  /** Closes the live interval of `s` into its rings: sparse, and once per window. */
  private flush(s: Series): void {
    const epoch = s.hotEpoch;
    const snap = s.count > 0 ? takeSnapshot(s, this.layout.index(s.min), this.layout.index(s.max)) : takeSnapshot(s, 0, -1);
    for (let l = 0; l < this.levels.length; l++) {
      const level = this.levels[l] as Level;
      const ring = s.rings[l] as Ring;
      const e = Math.floor(epoch / level.factor);
      const slot = e % level.slots;
      const existing = ring.snaps[slot];
      if (ring.epochs[slot] === e && existing !== null && existing !== undefined) {
        ring.snaps[slot] = mergeSnapshots(existing, snap);
      } else {
        ring.epochs[slot] = e;
        ring.snaps[slot] = snap;
      }
    }
    s.totalCount += s.count;
    s.totalSum += s.sum;
    s.totalErrors += s.errors;
    s.totalShed += s.shed;
    s.totalTimedOut += s.timedOut;
    s.totalClientGone += s.clientGone;
    s.lastEpoch = epoch;
    s.count = 0;
    s.sum = 0;
    s.sumSq = 0;
    s.min = Infinity;
    s.max = 0;
    s.errors = 0;
    s.clamped = 0;
    s.shed = 0;
    s.timedOut = 0;
    s.clientGone = 0;
    s.hotEpoch = -1;
  }

  /** Slot `i` of `s` just wrapped from 65,535 to 0: keep the 65,536 values aside. */
  private carryOver(s: Series, i: number): void {
    s.carry ??= new Map();
    s.carry.set(i, (s.carry.get(i) ?? 0) + WRAP);
  }

  private release(s: Series): void {
    if (s.counts !== EMPTY) {
      if (holdsData(s)) this.flush(s);
      if (this.pool.length < HOT_POOL_SIZE) this.pool.push(s.counts);
      s.counts = EMPTY;
    }
    s.hotEpoch = -1;
  }

  /**
   * Moves the clock to `now`. On a new interval of the smallest window, closes every live
   * interval, frees idle keys' dense arrays, drops keys with nothing left in any window, and
   * runs the automatic budget check.
   */
  private advance(now: number): void {
    if (now > this.now) this.now = now;
    const epoch = Math.floor(this.now / this.baseMs);
    if (epoch <= this.epoch) return;
    this.epoch = epoch;
    for (const [key, s] of this.series) {
      if (holdsData(s)) this.flush(s);
      else if (s.counts !== EMPTY) this.release(s);
      let live = false;
      for (let l = 0; l < this.levels.length; l++) {
        const level = this.levels[l] as Level;
        const ring = s.rings[l] as Ring;
        const oldest = Math.floor(epoch / level.factor) - level.slots;
        for (let i = 0; i < level.slots; i++) {
          if (ring.snaps[i] === null) continue;
          if ((ring.epochs[i] as number) <= oldest) ring.snaps[i] = null;
          else live = true;
        }
      }
      if (!live) this.series.delete(key);
    }
    if (this.budgets.size > 0 && this.events.has('budget')) this.judgeBudgets(this.levels[0] as Level);
  }

  /** Adds the intervals of `s` that fall in `level`'s window into the accumulator. */
  private gather(s: Series, level: Level): void {
    const l = this.levels.indexOf(level);
    const ring = s.rings[l] as Ring;
    const current = Math.floor(this.epoch / level.factor);
    const oldest = current - level.slots;
    for (let i = 0; i < level.slots; i++) {
      const snap = ring.snaps[i];
      const e = ring.epochs[i] as number;
      if (snap !== null && snap !== undefined && e > oldest && e <= current) this.acc.addSnapshot(snap);
    }
    if (holdsData(s)) this.acc.addHot(s);
  }

  /** The time `level`'s window covers now (ms): its full intervals plus the current one's elapsed part. */
  private spanOf(level: Level): number {
    const currentStart = Math.floor(this.epoch / level.factor) * level.factor * this.baseMs;
    const span = (level.slots - 1) * level.intervalMs + Math.max(0, this.now - currentStart);
    return Math.max(1, Math.min(span, this.now - this.startedAt));
  }

  private read(s: Series, level: Level): PercentileStats {
    this.gather(s, level);
    return this.acc.finish(this.spanOf(level));
  }

  private judgeBudgets(level: Level): BudgetViolation[] {
    const violations: BudgetViolation[] = [];
    for (const [key, ceilings] of this.budgets) {
      const s = this.series.get(key);
      if (s === undefined) continue;
      const stats = this.read(s, level);
      if (stats.count === 0) continue;
      for (const { metric, limit } of ceilings) {
        const actual = stats[metric];
        if (actual > limit) {
          const violation: BudgetViolation = { key, metric, limit, actual, window: level.label, count: stats.count };
          violations.push(violation);
          this.emitBudget(violation);
        }
      }
    }
    return violations;
  }

  private emitBudget(violation: BudgetViolation): void {
    if (!this.events.has('budget')) return;
    const id = `${violation.metric} ${violation.key}`;
    let state = this.budgetState.get(id);
    if (state === undefined) {
      state = { at: -Infinity, suppressed: 0 };
      this.budgetState.set(id, state);
    }
    if (this.now - state.at < this.cooldownMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state.suppressed;
    state.at = this.now;
    state.suppressed = 0;
    this.events.emit('budget', { ...violation, suppressed });
  }

  private onSlow(s: Series, durationMs: number): void {
    const now = this.clock === undefined ? Date.now() : this.now;
    if (now - s.lastSlowAt < this.cooldownMs) {
      s.slowSuppressed++;
      return;
    }
    const suppressed = s.slowSuppressed;
    s.lastSlowAt = now;
    s.slowSuppressed = 0;
    this.events.emit('slow', { key: s.key, durationMs, thresholdMs: this.slowThresholdMs, suppressed });
  }
}
