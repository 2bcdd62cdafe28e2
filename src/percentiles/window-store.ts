import type { BucketLayout } from './bucket-layout.js';
import { OVERFLOW_KEY } from './events.js';
import { NO_COUNTS, Series } from './series.js';
import { Accumulator, type PercentileStats } from './stats.js';
import type { Level } from './tracker-options.js';

/** Dense arrays of idle keys kept for reuse, so a key that comes back allocates nothing. */
const POOL_SIZE = 32;

/**
 * The sliding windows of every key: the series by key (bounded by `maxKeys`, the excess folded
 * into {@link OVERFLOW_KEY}), the epoch that decides which interval is live, a pool of dense
 * arrays, and the reads that merge a window's intervals.
 *
 * Time moves only through {@link WindowStore.advance}: on a new interval of the smallest window
 * it closes every live interval, frees idle keys' dense arrays and drops keys with nothing left.
 *
 * @internal
 */
export class WindowStore {
  readonly series = new Map<string, Series>();
  /** Scratch space of the reads; reads are synchronous, so one is enough. */
  readonly acc: Accumulator;
  /** Current epoch, in intervals of the smallest window. */
  epoch: number;
  /** The latest clock reading, in ms; it never goes back. */
  now: number;
  private readonly startedAt: number;
  private readonly baseMs: number;
  private readonly pool: Uint16Array[] = [];
  private overflowed = false;

  constructor(
    readonly levels: readonly Level[],
    readonly layout: BucketLayout,
    readonly maxKeys: number,
    now: number,
    /** Called once, with the first key that did not fit. */
    private readonly onOverflow: (key: string) => void,
  ) {
    this.acc = new Accumulator(layout);
    this.baseMs = (levels[0] as Level).intervalMs;
    this.startedAt = now;
    this.now = now;
    this.epoch = Math.floor(now / this.baseMs);
  }

  /** Length of one interval of the smallest window, in ms: the step by which every window slides. */
  get intervalMs(): number {
    return this.baseMs;
  }

  /** The series of a key not tracked yet (validated by the caller): a new one, or the overflow one. */
  add(key: string): Series {
    if (this.series.size >= this.maxKeys) {
      let overflow = this.series.get(OVERFLOW_KEY);
      if (overflow === undefined) {
        overflow = new Series(OVERFLOW_KEY, this.levels);
        this.series.set(OVERFLOW_KEY, overflow);
      }
      if (!this.overflowed) {
        this.overflowed = true;
        this.onOverflow(key);
      }
      return overflow;
    }
    const series = new Series(key, this.levels);
    this.series.set(key, series);
    return series;
  }

  /** Makes the current epoch the live interval of `series`, closing the one it had. */
  openInterval(series: Series): void {
    if (series.holdsData()) series.closeInterval(this.levels, this.layout);
    if (series.counts === NO_COUNTS) series.counts = this.pool.pop() ?? new Uint16Array(this.layout.length);
    series.hotEpoch = this.epoch;
  }

  /** Forgets a key; false when it was not tracked. */
  delete(key: string): boolean {
    const series = this.series.get(key);
    if (series === undefined) return false;
    this.release(series);
    return this.series.delete(key);
  }

  /** Moves the clock to `now`; true when a new interval of the smallest window began. */
  advance(now: number): boolean {
    if (now > this.now) this.now = now;
    const epoch = Math.floor(this.now / this.baseMs);
    if (epoch <= this.epoch) return false;
    this.epoch = epoch;
    for (const [key, series] of this.series) {
      if (series.holdsData()) series.closeInterval(this.levels, this.layout);
      else if (series.counts !== NO_COUNTS) this.release(series);
      if (!series.dropExpired(this.levels, epoch)) this.series.delete(key);
    }
    return true;
  }

  /** Adds the intervals of `series` inside `level`'s window to {@link WindowStore.acc}. */
  gather(series: Series, level: Level): void {
    series.gather(this.acc, this.levels.indexOf(level), level, this.epoch);
  }

  /** The stats of `series` over `level`'s window. */
  read(series: Series, level: Level): PercentileStats {
    this.gather(series, level);
    return this.acc.finish(this.spanOf(level));
  }

  /** The time `level`'s window covers now (ms): its full intervals plus the current one's elapsed part. */
  spanOf(level: Level): number {
    const currentStart = Math.floor(this.epoch / level.factor) * level.factor * this.baseMs;
    const span = (level.slots - 1) * level.intervalMs + Math.max(0, this.now - currentStart);
    return Math.max(1, Math.min(span, this.now - this.startedAt));
  }

  /** A (conservatively high) estimate of the bytes held. */
  get footprint(): number {
    let bytes = this.layout.length * 8 + this.pool.length * this.layout.length * 2;
    for (const series of this.series.values()) bytes += series.footprint;
    return bytes;
  }

  /** Closes the live interval of an idle `series` and puts its dense array back in the pool. */
  private release(series: Series): void {
    if (series.counts !== NO_COUNTS) {
      if (series.holdsData()) series.closeInterval(this.levels, this.layout);
      if (this.pool.length < POOL_SIZE) this.pool.push(series.counts);
      series.counts = NO_COUNTS;
    }
    series.hotEpoch = -1;
  }
}
