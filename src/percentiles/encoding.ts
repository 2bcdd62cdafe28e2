import { Float64Histogram, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { invalidArgument } from '../core/index.js';
import { BucketLayout } from './bucket-layout.js';
import type { Series } from './series.js';
import type { Moments } from './snapshot.js';
import { Accumulator, type PercentileStats } from './stats.js';
import type { Level } from './tracker-options.js';
import type { WindowStore } from './window-store.js';

/** The format tag of {@link PercentileTracker.encode} output. */
export const ENCODING_FORMAT = 'headroom-percentiles/1';

/**
 * One key in an encoded payload: its histogram and exact moments. The outcome counts are absent
 * in strings written before they existed, and read as 0. @internal
 */
export interface EncodedKey extends Omit<Moments, OutcomeCount>, Partial<Pick<Moments, OutcomeCount>> {
  key: string;
  /** HdrHistogram V2 compressed encoding (base64), values in µs, readable by any HdrHistogram. */
  histogram: string;
}

type OutcomeCount = 'shed' | 'timedOut' | 'clientGone';

/** The JSON document {@link PercentileTracker.encode} returns as a string. @internal */
export interface EncodedPayload {
  format: typeof ENCODING_FORMAT;
  significantDigits: number;
  highestUs: number;
  window: string;
  spanMs: number;
  keys: EncodedKey[];
}

/** The {@link EncodedPayload} of `series` over `level`'s window, as a JSON string. @internal */
export function encodeWindow(store: WindowStore, level: Level, series: readonly Series[]): string {
  const acc = store.acc;
  const keys: EncodedKey[] = [];
  for (const one of series) {
    store.gather(one, level);
    keys.push({ key: one.key, histogram: encodeAccumulator(acc), ...acc.moments() });
    acc.clear();
  }
  const payload: EncodedPayload = {
    format: ENCODING_FORMAT,
    significantDigits: store.layout.significantDigits,
    highestUs: store.layout.highestUs,
    window: level.label,
    spanMs: store.spanOf(level),
    keys,
  };
  return JSON.stringify(payload);
}

/** Encodes what `acc` holds as an HdrHistogram V2 compressed base64 string. @internal */
export function encodeAccumulator(acc: Accumulator): string {
  const layout = acc.layout;
  const histogram = new Float64Histogram(1, layout.highestUs, layout.significantDigits);
  let total = 0;
  acc.forEachCount((index, count) => {
    histogram.addToCountAtIndex(index, count);
    total += count;
  });
  histogram.setTotalCount(total);
  if (total > 0) {
    histogram.updateMinAndMax(acc.min === 0 ? 1 : acc.min);
    histogram.updateMinAndMax(acc.max);
  }
  return encodeIntoCompressedBase64(histogram);
}

function isNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function parsePayload(item: unknown, index: number): EncodedPayload {
  const name = `encoded[${index}]`;
  let doc: unknown = item;
  if (typeof item === 'string') {
    try {
      doc = JSON.parse(item);
    } catch {
      throw invalidArgument(name, `a string from PercentileTracker.encode()`, item);
    }
  }
  const payload = doc as Partial<EncodedPayload> | null;
  if (
    typeof payload !== 'object' ||
    payload === null ||
    payload.format !== ENCODING_FORMAT ||
    !Number.isInteger(payload.significantDigits) ||
    !isNonNegative(payload.highestUs) ||
    !isNonNegative(payload.spanMs) ||
    !Array.isArray(payload.keys)
  ) {
    throw invalidArgument(name, `a string from PercentileTracker.encode() (format ${ENCODING_FORMAT})`, item);
  }
  for (const entry of payload.keys as unknown[]) {
    const encoded = entry as Partial<EncodedKey> | null;
    const fields = [encoded?.count, encoded?.sum, encoded?.sumSq, encoded?.min, encoded?.max, encoded?.errors, encoded?.clamped];
    const outcomes = [encoded?.shed, encoded?.timedOut, encoded?.clientGone];
    if (
      typeof encoded !== 'object' ||
      encoded === null ||
      typeof encoded.key !== 'string' ||
      typeof encoded.histogram !== 'string' ||
      !fields.every(isNonNegative) ||
      !outcomes.every((count) => count === undefined || isNonNegative(count))
    ) {
      throw invalidArgument(`${name}.keys`, 'entries written by PercentileTracker.encode()', entry);
    }
  }
  return payload as EncodedPayload;
}

/**
 * Adds every encoded histogram, per key, into exact merged histograms and reads the stats off
 * them: the percentiles are those of all the values together, never an average of percentiles.
 * @internal
 */
export function mergeEncoded(encoded: readonly unknown[]): Record<string, PercentileStats> {
  if (!Array.isArray(encoded)) throw invalidArgument('encoded', 'an array of strings from encode()', encoded);
  const payloads = encoded.map(parsePayload);
  if (payloads.length === 0) return {};
  const digits = (payloads[0] as EncodedPayload).significantDigits;
  for (let i = 1; i < payloads.length; i++) {
    if ((payloads[i] as EncodedPayload).significantDigits !== digits) {
      throw invalidArgument(`encoded[${i}]`, `histograms of ${digits} significant digits, like encoded[0]`, payloads[i]?.significantDigits);
    }
  }
  const highestUs = Math.max(...payloads.map((payload) => payload.highestUs));
  const spanMs = Math.max(...payloads.map((payload) => payload.spanMs));
  const layout = new BucketLayout(highestUs, digits);
  const byKey = new Map<string, EncodedKey[]>();
  for (const payload of payloads) {
    for (const part of payload.keys) {
      const list = byKey.get(part.key);
      if (list === undefined) byKey.set(part.key, [part]);
      else list.push(part);
    }
  }
  const acc = new Accumulator(layout);
  const out: [string, PercentileStats][] = [];
  for (const [key, parts] of byKey) {
    for (const part of parts) {
      let histogram;
      try {
        histogram = decodeFromCompressedBase64(part.histogram, 64) as Float64Histogram;
      } catch {
        throw invalidArgument('encoded', 'HdrHistogram V2 compressed histograms', part.histogram);
      }
      const length = histogram.countsArrayLength;
      for (let i = 0; i < length; i++) {
        const c = histogram.getCountAtIndex(i);
        if (c > 0) acc.addValue(histogram.valueFromIndex(i), c);
      }
      acc.addMoments({
        count: part.count,
        sum: part.sum,
        sumSq: part.sumSq,
        min: part.count === 0 ? Infinity : part.min,
        max: part.max,
        errors: part.errors,
        clamped: part.clamped,
        shed: part.shed ?? 0,
        timedOut: part.timedOut ?? 0,
        clientGone: part.clientGone ?? 0,
      });
    }
    out.push([key, acc.finish(spanMs)]);
  }
  return Object.fromEntries(out);
}
