/**
 * One closed interval of one key, stored sparse: only the non-zero counts of the HdrHistogram
 * layout, in index order, plus exact moments. Immutable once built, so the same snapshot can sit
 * in several rings at once.
 *
 * @internal
 */
export class Snapshot {
  constructor(
    /** Non-zero count indexes, ascending. */
    readonly indexes: Int32Array,
    /** The count at each of `indexes`. Float64 so that day-long merges never overflow. */
    readonly counts: Float64Array,
    /** Values recorded. */
    readonly count: number,
    /** Sum of the values, in µs. */
    readonly sum: number,
    /** Sum of the squared values, in µs². */
    readonly sumSq: number,
    /** Smallest value, in µs. */
    readonly min: number,
    /** Largest value, in µs. */
    readonly max: number,
    /** Values recorded as errors. */
    readonly errors: number,
    /** Values above `highest`, recorded as `highest`. */
    readonly clamped: number,
  ) {}

  /** Approximate bytes held. */
  get footprint(): number {
    return this.indexes.byteLength + this.counts.byteLength + 96;
  }
}

/** The live, dense interval a key is recording into. @internal */
export interface HotInterval {
  counts: Int32Array;
  count: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
  errors: number;
  clamped: number;
}

/**
 * Copies the non-zero counts of `hot` between `fromIndex` and `toIndex` (inclusive) into a
 * {@link Snapshot} and zeroes them, so the dense array is clean for its next interval without a
 * full fill.
 *
 * @internal
 */
export function takeSnapshot(hot: HotInterval, fromIndex: number, toIndex: number): Snapshot {
  const dense = hot.counts;
  let nonZero = 0;
  for (let i = fromIndex; i <= toIndex; i++) if (dense[i] !== 0) nonZero++;
  const indexes = new Int32Array(nonZero);
  const counts = new Float64Array(nonZero);
  let j = 0;
  for (let i = fromIndex; i <= toIndex; i++) {
    const c = dense[i] as number;
    if (c !== 0) {
      indexes[j] = i;
      counts[j] = c;
      j++;
      dense[i] = 0;
    }
  }
  return new Snapshot(indexes, counts, hot.count, hot.sum, hot.sumSq, hot.min, hot.max, hot.errors, hot.clamped);
}

/** A new snapshot holding both `a` and `b` (a sorted merge). @internal */
export function mergeSnapshots(a: Snapshot, b: Snapshot): Snapshot {
  const ai = a.indexes;
  const bi = b.indexes;
  const ac = a.counts;
  const bc = b.counts;
  let x = 0;
  let y = 0;
  let n = 0;
  while (x < ai.length && y < bi.length) {
    const p = ai[x] as number;
    const q = bi[y] as number;
    if (p <= q) x++;
    if (q <= p) y++;
    n++;
  }
  n += ai.length - x + (bi.length - y);
  const indexes = new Int32Array(n);
  const counts = new Float64Array(n);
  x = 0;
  y = 0;
  let k = 0;
  while (x < ai.length || y < bi.length) {
    const p = x < ai.length ? (ai[x] as number) : Infinity;
    const q = y < bi.length ? (bi[y] as number) : Infinity;
    if (p < q) {
      indexes[k] = p;
      counts[k] = ac[x++] as number;
    } else if (q < p) {
      indexes[k] = q;
      counts[k] = bc[y++] as number;
    } else {
      indexes[k] = p;
      counts[k] = (ac[x++] as number) + (bc[y++] as number);
    }
    k++;
  }
  return new Snapshot(
    indexes,
    counts,
    a.count + b.count,
    a.sum + b.sum,
    a.sumSq + b.sumSq,
    Math.min(a.min, b.min),
    Math.max(a.max, b.max),
    a.errors + b.errors,
    a.clamped + b.clamped,
  );
}
