import type { BucketLayout } from './bucket-layout.js';
import { type HotInterval, type Moments, MomentFields, type Snapshot } from './snapshot.js';

/**
 * What a key did over one window. Durations are in milliseconds (fractions keep sub-millisecond
 * precision). An empty window reports zeros everywhere, never `NaN`.
 *
 * The durations, percentiles, `count`, `errors` and `throughputPerSec` describe the requests the
 * handler answered (outcomes `served` and `error`, see {@link RequestOutcome}). Answers given in
 * the handler's place are counted apart in `shed`, `timedOut` and `clientGone` and never enter the
 * percentiles, so a flood of fast 503s cannot make a route look fast.
 */
export interface PercentileStats {
  /** Values recorded in the window (outcomes `served` and `error`). */
  count: number;
  /** Smallest value (exact). */
  min: number;
  /** Largest value (exact, or `highest` for a clamped value). */
  max: number;
  /** Arithmetic mean (exact, from the running sum). */
  mean: number;
  /** Population standard deviation (exact, from the running sums). */
  stddev: number;
  /** Median, within the histogram's precision (0.1% at 3 significant digits). */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 95th percentile. */
  p95: number;
  /** 99th percentile. */
  p99: number;
  /** 99.9th percentile. */
  p999: number;
  /** Values recorded with `{ error: true }` (or 5xx answers, through the middleware). */
  errors: number;
  /** `errors / count`, 0 when empty. */
  errorRate: number;
  /** Values above `highest`, counted as `highest`. */
  clamped: number;
  /** `count` divided by the seconds the window covers (less while the tracker is younger than the window). */
  throughputPerSec: number;
  /** Requests refused before the handler ran (outcome `shed`: a full queue, a closed queue, a 503 `SERVICE_UNAVAILABLE`). Not in `count`. */
  shed: number;
  /** Requests answered with a timeout in the handler's place (outcome `timed_out`: a 504 `OPERATION_TIMEOUT`). Not in `count`. */
  timedOut: number;
  /** Requests whose client went away before the answer was complete (outcome `client_gone`). Not in `count`. */
  clientGone: number;
}

/**
 * What happened to one request, as {@link PercentileTracker.record} takes it (`outcome`) and the
 * Prometheus export labels it (`outcome="shed"`):
 *
 * | outcome | meaning | in the percentiles |
 * | --- | --- | --- |
 * | `served` | the handler answered (any status below 500) | yes, in `count` |
 * | `error` | the handler answered with a 5xx, or failed | yes, in `count` and `errors` |
 * | `shed` | refused before the handler ran: 503 `QUEUE_FULL`, `QUEUE_CLOSED`, `SERVICE_UNAVAILABLE` | no, in `shed` |
 * | `timed_out` | a timeout answered (504 `OPERATION_TIMEOUT`) in the handler's place | no, in `timedOut` |
 * | `client_gone` | the client disconnected before the answer was complete | no, in `clientGone` |
 *
 * @example
 * ```ts
 * tracker.record('GET /report', 0.3, { outcome: 'shed' });
 * const { count, p99, shed, timedOut, clientGone } = tracker.stats('GET /report');
 * ```
 */
export type RequestOutcome = 'served' | 'error' | 'shed' | 'timed_out' | 'client_gone';

/** The percentiles reported, as fractions, in the order of {@link PercentileStats}. @internal */
export const QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999] as const;

/** A {@link PercentileStats} of an empty window. */
export function emptyStats(): PercentileStats {
  return {
    count: 0,
    min: 0,
    max: 0,
    mean: 0,
    stddev: 0,
    p50: 0,
    p90: 0,
    p95: 0,
    p99: 0,
    p999: 0,
    errors: 0,
    errorRate: 0,
    clamped: 0,
    throughputPerSec: 0,
    shed: 0,
    timedOut: 0,
    clientGone: 0,
  };
}

/** hdr-histogram-js's rank rule: round the fractional count up, minus one ulp of float noise. */
function rankOf(quantile: number, total: number): number {
  const fp = quantile * total;
  const ulp = fp === 0 ? 0 : 2 ** (Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}

/**
 * Merges snapshots and live intervals into one dense scratch array (touching only the index
 * range they use) and reads the percentiles off it the way hdr-histogram-js does, in one pass.
 * One per tracker; reads are synchronous, so it is never shared by two reads at once.
 *
 * @internal
 */
export class Accumulator extends MomentFields {
  private readonly dense: Float64Array;
  private lo = Infinity;
  private hi = -1;

  constructor(readonly layout: BucketLayout) {
    super();
    this.dense = new Float64Array(layout.length);
  }

  /** Adds a closed interval. */
  addSnapshot(s: Snapshot): void {
    const n = s.indexes.length;
    this.addMoments(s);
    if (n === 0) return;
    const dense = this.dense;
    const indexes = s.indexes;
    const counts = s.counts;
    for (let i = 0; i < n; i++) dense[indexes[i] as number]! += counts[i] as number;
    if ((indexes[0] as number) < this.lo) this.lo = indexes[0] as number;
    if ((indexes[n - 1] as number) > this.hi) this.hi = indexes[n - 1] as number;
  }

  /** Adds the live interval of a key. */
  addHot(hot: HotInterval): void {
    this.addMoments(hot);
    if (hot.count === 0) return;
    const from = this.layout.index(hot.min);
    const to = this.layout.index(hot.max);
    const dense = this.dense;
    const src = hot.counts;
    for (let i = from; i <= to; i++) dense[i]! += src[i] as number;
    if (hot.carry !== null) for (const [i, c] of hot.carry) dense[i]! += c;
    if (from < this.lo) this.lo = from;
    if (to > this.hi) this.hi = to;
  }

  /** Adds `count` values at hdr value `valueUs` (for decoded histograms). */
  addValue(valueUs: number, count: number): void {
    const index = this.layout.index(Math.min(valueUs, this.layout.highestUs));
    this.dense[index]! += count;
    if (index < this.lo) this.lo = index;
    if (index > this.hi) this.hi = index;
  }

  /** Adds exact moments (also for decoded histograms, whose counts arrive through {@link addValue}). */
  addMoments(m: Moments): void {
    this.count += m.count;
    this.sum += m.sum;
    this.sumSq += m.sumSq;
    if (m.min < this.min) this.min = m.min;
    if (m.max > this.max) this.max = m.max;
    this.errors += m.errors;
    this.clamped += m.clamped;
    this.shed += m.shed;
    this.timedOut += m.timedOut;
    this.clientGone += m.clientGone;
  }

  /**
   * Visits the non-zero counts (index, count) in order, without clearing. Used to build an hdr
   * histogram for encoding.
   */
  forEachCount(visit: (index: number, count: number) => void): void {
    const dense = this.dense;
    for (let i = this.lo; i <= this.hi; i++) {
      const c = dense[i] as number;
      if (c !== 0) visit(i, c);
    }
  }

  /** The exact moments gathered so far (µs). */
  moments(): Moments {
    return {
      count: this.count,
      sum: this.sum,
      sumSq: this.sumSq,
      min: this.count === 0 ? 0 : this.min,
      max: this.max,
      errors: this.errors,
      clamped: this.clamped,
      shed: this.shed,
      timedOut: this.timedOut,
      clientGone: this.clientGone,
    };
  }

  /**
   * The stats of everything added, with throughput over `spanMs`; clears the accumulator.
   */
  finish(spanMs: number): PercentileStats {
    const stats = emptyStats();
    const total = this.count;
    if (total > 0) {
      const layout = this.layout;
      const values = [0, 0, 0, 0, 0];
      const ranks = QUANTILES.map((q) => rankOf(q, total));
      let next = 0;
      let seen = 0;
      const dense = this.dense;
      for (let i = this.lo; i <= this.hi && next < ranks.length; i++) {
        const c = dense[i] as number;
        if (c === 0) continue;
        seen += c;
        while (next < ranks.length && seen >= (ranks[next] as number)) {
          // hdr reports the highest value equivalent to the bucket; the exact min/max bound it.
          values[next] = Math.min(Math.max(layout.highestValueAt(i), this.min), this.max);
          next++;
        }
      }
      const mean = this.sum / total;
      const variance = Math.max(0, this.sumSq / total - mean * mean);
      stats.count = total;
      stats.min = this.min / 1000;
      stats.max = this.max / 1000;
      stats.mean = mean / 1000;
      stats.stddev = Math.sqrt(variance) / 1000;
      stats.p50 = (values[0] as number) / 1000;
      stats.p90 = (values[1] as number) / 1000;
      stats.p95 = (values[2] as number) / 1000;
      stats.p99 = (values[3] as number) / 1000;
      stats.p999 = (values[4] as number) / 1000;
      stats.errors = this.errors;
      stats.errorRate = this.errors / total;
      stats.clamped = this.clamped;
      stats.throughputPerSec = spanMs > 0 ? total / (spanMs / 1000) : 0;
    }
    stats.shed = this.shed;
    stats.timedOut = this.timedOut;
    stats.clientGone = this.clientGone;
    this.clear();
    return stats;
  }

  /** Empties the accumulator, zeroing only the range it touched. */
  clear(): void {
    if (this.hi >= this.lo) this.dense.fill(0, this.lo, this.hi + 1);
    this.lo = Infinity;
    this.hi = -1;
    this.clearMoments();
  }
}
