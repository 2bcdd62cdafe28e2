import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { isHeadroomError } from '../../src/core/index.js';
import { ENCODING_FORMAT, PercentileTracker } from '../../src/percentiles/index.js';
import { exactQuantile, lognormal, pareto, relativeError } from './data.js';

const T0 = 1_700_000_000_000;

function instance(): PercentileTracker {
  return new PercentileTracker({ clock: () => T0, highest: '1h' });
}

describe('PercentileTracker.encode / merge', () => {
  it('merges instances into exactly the stats of one tracker that saw every value', () => {
    const all = instance();
    const parts = [instance(), instance(), instance()];
    // Each instance sees a different distribution: averaging their percentiles would be far off.
    const samples = [lognormal(20_000, 11, 5, 0.5), lognormal(5_000, 12, 80, 1), pareto(10_000, 13, 1, 1.5)];
    samples.forEach((values, i) => {
      for (const v of values) {
        parts[i]?.record('GET /x', v, { error: v > 500 });
        all.record('GET /x', v, { error: v > 500 });
      }
    });
    parts[0]?.record('GET /only-here', 3);
    const merged = PercentileTracker.merge(parts.map((p) => p.encode()));
    const expected = all.stats('GET /x');
    const got = merged['GET /x'];
    expect(got).toBeDefined();
    for (const field of ['count', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'p999', 'errors', 'errorRate', 'clamped'] as const) {
      expect(got?.[field], field).toBe(expected[field]);
    }
    expect(got?.mean).toBeCloseTo(expected.mean, 9);
    expect(got?.stddev).toBeCloseTo(expected.stddev, 6);
    expect(merged['GET /only-here']?.count).toBe(1);

    // And within 0.1% of an exact sort of all values.
    const sorted = samples.flat().sort((a, b) => a - b);
    for (const [field, q] of [
      ['p50', 0.5],
      ['p99', 0.99],
      ['p999', 0.999],
    ] as const) {
      expect(relativeError(got?.[field] ?? 0, exactQuantile(sorted, q))).toBeLessThanOrEqual(0.001);
    }
  });

  it('encodes one key as a standard HdrHistogram V2 histogram in microseconds', () => {
    const t = instance();
    for (let i = 1; i <= 1000; i++) t.record('k', i / 10);
    t.record('other', 1);
    const payload = JSON.parse(t.encode('k', { window: '1h' })) as { keys: { histogram: string }[] };
    expect(payload).toMatchObject({ format: ENCODING_FORMAT, significantDigits: 3, window: '1h' });
    expect(payload.keys).toHaveLength(1);
    const histogram = decodeFromCompressedBase64(payload.keys[0]!.histogram);
    expect(histogram.totalCount).toBe(1000);
    expect(histogram.getValueAtPercentile(50)).toBeCloseTo(50_000, -2);
    expect((JSON.parse(t.encode('missing')) as { keys: unknown[] }).keys).toEqual([]);
  });

  it('returns an empty result for nothing to merge', () => {
    expect(PercentileTracker.merge([])).toEqual({});
  });

  it('rejects input that encode() did not produce, with INVALID_ARGUMENT', () => {
    const good = instance().encode();
    const mixed = new PercentileTracker({ clock: () => T0, significantDigits: 2 }).encode();
    for (const bad of [['not json'], ['{"format":"other"}'], [42], [good, mixed], 'x', [JSON.stringify({ ...JSON.parse(good), keys: [{ key: 'k' }] })]]) {
      try {
        PercentileTracker.merge(bad as string[]);
        throw new Error('expected a throw');
      } catch (err) {
        expect(isHeadroomError(err, 'INVALID_ARGUMENT'), String(bad)).toBe(true);
      }
    }
  });
});
