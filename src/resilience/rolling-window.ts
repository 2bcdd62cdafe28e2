/** How many buckets a window is cut into: counts leave the window a tenth of it at a time. */
const BUCKETS = 10;

/**
 * Two counts (`a` and `b`: first attempts and retries, or successes and failures) over a sliding
 * window, kept in {@link BUCKETS} buckets of `windowMs / BUCKETS` each, with running totals, so
 * adding and reading are O(1) and allocate nothing. A count leaves the totals when its bucket
 * falls out of the window; the window is therefore between 90% and 100% of `windowMs` long.
 *
 * The caller passes the time (its own clock's reading), so this class reads no clock itself.
 *
 * @internal
 */
export class RollingWindow {
  private readonly a = new Float64Array(BUCKETS);
  private readonly b = new Float64Array(BUCKETS);
  private readonly bucketMs: number;
  /** The bucket number (time / bucketMs, floored) of the newest bucket. */
  private head = -Infinity;
  /** Totals over the window. */
  totalA = 0;
  totalB = 0;

  constructor(windowMs: number) {
    this.bucketMs = windowMs / BUCKETS;
  }

  /** Adds `n` to count `a` at time `now`. */
  addA(now: number, n = 1): void {
    const i = this.advance(now);
    this.a[i] = (this.a[i] as number) + n;
    this.totalA += n;
  }

  /** Adds `n` to count `b` at time `now`. */
  addB(now: number, n = 1): void {
    const i = this.advance(now);
    this.b[i] = (this.b[i] as number) + n;
    this.totalB += n;
  }

  /** Drops what fell out of the window by `now`; call before reading the totals. */
  refresh(now: number): void {
    this.advance(now);
  }

  /** Empties the window. */
  clear(): void {
    this.a.fill(0);
    this.b.fill(0);
    this.totalA = 0;
    this.totalB = 0;
  }

  /** Moves the head to `now`'s bucket, emptying the buckets it passes; returns its slot. */
  private advance(now: number): number {
    const bucket = Math.floor(now / this.bucketMs);
    let head = this.head;
    if (bucket > head) {
      if (bucket - head >= BUCKETS) {
        this.clear();
      } else {
        while (head < bucket) {
          head++;
          const slot = ((head % BUCKETS) + BUCKETS) % BUCKETS;
          this.totalA -= this.a[slot] as number;
          this.totalB -= this.b[slot] as number;
          this.a[slot] = 0;
          this.b[slot] = 0;
        }
      }
      this.head = bucket;
    }
    // A clock that steps back (a test's, or a wall clock) counts into the newest bucket.
    return ((this.head % BUCKETS) + BUCKETS) % BUCKETS;
  }
}
