import { Int32Histogram } from 'hdr-histogram-js';

/**
 * The HdrHistogram bucket layout of one tracker (lowest discernible value 1 µs), with a fast
 * index function.
 *
 * hdr-histogram-js computes a count index with `Math.log2`/`Math.pow`; for values below 2^32
 * (about 71 minutes in microseconds) the same index falls out of `Math.clz32` and a shift, which
 * is what keeps `record()` cheaper than a plain `recordValue`. The layout is hdr's own (a template
 * histogram provides it), so counts recorded here can be handed to hdr-histogram-js as they are.
 *
 * @internal
 */
export class BucketLayout {
  /** Length of a dense counts array. */
  readonly length: number;
  /** log2 of the sub-bucket half count. */
  private readonly halfMagnitude: number;
  /** True when every value fits in 32 bits, so the index comes from `Math.clz32` and a shift. */
  private readonly fitsIn32Bits: boolean;
  /** hdr's own histogram, used for its index and value-equivalence arithmetic. */
  readonly template: Int32Histogram;

  constructor(
    readonly highestUs: number,
    readonly significantDigits: number,
  ) {
    this.template = new Int32Histogram(1, highestUs, significantDigits);
    this.length = this.template.countsArrayLength;
    this.halfMagnitude = this.template.subBucketHalfCountMagnitude;
    this.fitsIn32Bits = highestUs < 2 ** 32;
  }

  /** Index of the counts slot for `us`, an integer from 0 to `highestUs`. */
  index(us: number): number {
    if (this.fitsIn32Bits) {
      let bucket = 31 - Math.clz32(us) - this.halfMagnitude;
      if (bucket < 0) bucket = 0;
      return (bucket << this.halfMagnitude) + (us >>> bucket);
    }
    return this.template.countsArrayIndex(us);
  }

  /** The highest value (µs) counted in slot `index`: what hdr reports for a percentile there. */
  highestValueAt(index: number): number {
    return this.template.highestEquivalentValue(this.template.valueFromIndex(index));
  }

  /** The value (µs) hdr would record for slot `index` (its lowest equivalent value). */
  valueAt(index: number): number {
    return this.template.valueFromIndex(index);
  }
}
