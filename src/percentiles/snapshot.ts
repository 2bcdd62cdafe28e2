/**
 * Snapshot indexes: 2 bytes each while the layout has at most 65,536 slots (3 digits up to
 * about 30 hours), else 4.
 *
 * @internal
 */
export type SnapshotIndexes = Uint16Array | Int32Array;

/**
 * Snapshot counts, as narrow as the largest count allows: most buckets of a 5 s interval hold
 * under 256 values, of a 5 min one under 65,536. Float64 past 2^32 so day-long merges never wrap.
 *
 * @internal
 */
export type SnapshotCounts = Uint8Array | Uint16Array | Uint32Array | Float64Array;

function indexArray(n: number, highestIndex: number): SnapshotIndexes {
  return highestIndex <= 0xffff ? new Uint16Array(n) : new Int32Array(n);
}

function countArray(n: number, largest: number): SnapshotCounts {
  if (largest <= 0xff) return new Uint8Array(n);
  if (largest <= 0xffff) return new Uint16Array(n);
  if (largest <= 0xffffffff) return new Uint32Array(n);
  return new Float64Array(n);
}

/**
 * The exact figures kept beside the histogram counts of an interval (or of a merge of them).
 * Durations in µs. `shed`, `timedOut` and `clientGone` count answers that did not come from the
 * handler ({@link RequestOutcome}): they are not in `count` nor in the histogram.
 *
 * @internal
 */
export interface Moments {
  /** Values recorded in the histogram (outcomes `served` and `error`). */
  count: number;
  /** Sum of the values, in µs. */
  sum: number;
  /** Sum of the squared values, in µs². */
  sumSq: number;
  /** Smallest value, in µs (`Infinity` while `count` is 0). */
  min: number;
  /** Largest value, in µs. */
  max: number;
  /** Values recorded as errors. */
  errors: number;
  /** Values above `highest`, recorded as `highest`. */
  clamped: number;
  /** Answers recorded with outcome `shed`. */
  shed: number;
  /** Answers recorded with outcome `timed_out`. */
  timedOut: number;
  /** Requests recorded with outcome `client_gone`. */
  clientGone: number;
}

/**
 * The moments as plain fields, starting empty: the base of what adds values up (a key's live
 * interval, the reads' accumulator).
 *
 * @internal
 */
export class MomentFields implements Moments {
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

  /** Empties the moments: every count and sum back to 0, `min` back to `Infinity`. */
  protected clearMoments(): void {
    this.count = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.min = Infinity;
    this.max = 0;
    this.errors = 0;
    this.clamped = 0;
    this.shed = 0;
    this.timedOut = 0;
    this.clientGone = 0;
  }
}

/**
 * One closed interval of one key, stored sparse: only the non-zero counts of the HdrHistogram
 * layout, in index order, plus exact moments. Immutable once built, so the same snapshot can sit
 * in several rings at once.
 *
 * @internal
 */
export class Snapshot implements Moments {
  readonly count: number;
  readonly sum: number;
  readonly sumSq: number;
  readonly min: number;
  readonly max: number;
  readonly errors: number;
  readonly clamped: number;
  readonly shed: number;
  readonly timedOut: number;
  readonly clientGone: number;

  constructor(
    /** Non-zero count indexes, ascending. */
    readonly indexes: SnapshotIndexes,
    /** The count at each of `indexes`, in the narrowest array that holds the largest one. */
    readonly counts: SnapshotCounts,
    moments: Moments,
  ) {
    this.count = moments.count;
    this.sum = moments.sum;
    this.sumSq = moments.sumSq;
    this.min = moments.min;
    this.max = moments.max;
    this.errors = moments.errors;
    this.clamped = moments.clamped;
    this.shed = moments.shed;
    this.timedOut = moments.timedOut;
    this.clientGone = moments.clientGone;
  }

  /** Approximate bytes held. */
  get footprint(): number {
    // Object header and fields, plus two typed-array headers and their backing stores.
    return this.indexes.byteLength + this.counts.byteLength + 120 + 2 * 72;
  }
}

/** The live, dense interval a key is recording into. @internal */
export interface HotInterval extends Moments {
  /** Dense counts, 16 bits each; a slot that reaches 65,536 wraps to 0 and moves 65,536 to `carry`. */
  counts: Uint16Array;
  /** Whole multiples of 65,536 per slot that wrapped in `counts` this interval, or `null` (the usual case). */
  carry: Map<number, number> | null;
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
  const carry = hot.carry;
  let nonZero = 0;
  let largest = 0;
  for (let i = fromIndex; i <= toIndex; i++) {
    let c = dense[i] as number;
    if (carry !== null) c += carry.get(i) ?? 0;
    if (c !== 0) {
      nonZero++;
      if (c > largest) largest = c;
    }
  }
  const indexes = indexArray(nonZero, toIndex);
  const counts = countArray(nonZero, largest);
  let j = 0;
  for (let i = fromIndex; i <= toIndex; i++) {
    let c = dense[i] as number;
    if (carry !== null) c += carry.get(i) ?? 0;
    if (c !== 0) {
      indexes[j] = i;
      counts[j] = c;
      j++;
      dense[i] = 0;
    }
  }
  hot.carry = null;
  return new Snapshot(indexes, counts, hot);
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
  let largest = 0;
  while (x < ai.length && y < bi.length) {
    const p = ai[x] as number;
    const q = bi[y] as number;
    let c = 0;
    if (p <= q) c += ac[x++] as number;
    if (q <= p) c += bc[y++] as number;
    if (c > largest) largest = c;
    n++;
  }
  n += ai.length - x + (bi.length - y);
  for (; x < ai.length; x++) if ((ac[x] as number) > largest) largest = ac[x] as number;
  for (; y < bi.length; y++) if ((bc[y] as number) > largest) largest = bc[y] as number;
  const highestIndex = Math.max(ai.length > 0 ? (ai[ai.length - 1] as number) : 0, bi.length > 0 ? (bi[bi.length - 1] as number) : 0);
  const indexes = indexArray(n, highestIndex);
  const counts = countArray(n, largest);
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
  return new Snapshot(indexes, counts, {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    sumSq: a.sumSq + b.sumSq,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    errors: a.errors + b.errors,
    clamped: a.clamped + b.clamped,
    shed: a.shed + b.shed,
    timedOut: a.timedOut + b.timedOut,
    clientGone: a.clientGone + b.clientGone,
  });
}
