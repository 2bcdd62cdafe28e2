import { invalidArgument } from './errors.js';

/** A unit accepted in a duration string. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A duration: a number of milliseconds, or a string such as `'250ms'`, `'1.5s'`, `'5m'`, `'24h'`
 * or `'7d'`.
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;
const EXPECTED = 'a duration: a number of ms >= 0, or a string such as "250ms", "5s", "5m", "1h", "1d"';

/**
 * The milliseconds that `numeral` (digits, maybe a fraction) of a unit of `unitMs` names, rounded
 * once: `Number('1.007') * 1000` rounds twice and gives 1006.9999999999999, so the digits are
 * scaled exactly, as a BigInt, and the decimal point put back before the text becomes a number.
 */
function scaledMs(numeral: string, unitMs: number): number {
  const dot = numeral.indexOf('.');
  if (dot === -1) return Number(BigInt(numeral) * BigInt(unitMs));
  const places = numeral.length - dot - 1;
  const digits = (BigInt(numeral.slice(0, dot) + numeral.slice(dot + 1)) * BigInt(unitMs)).toString().padStart(places + 1, '0');
  return Number(`${digits.slice(0, -places)}.${digits.slice(-places)}`);
}

/** Options for {@link parseDuration}. */
export interface ParseDurationOptions {
  /** Reject 0. Default `false`. */
  positive?: boolean;
}

/**
 * Turns a {@link Duration} into milliseconds, or throws `INVALID_ARGUMENT` naming `name`.
 *
 * Numbers are milliseconds and must be finite and non-negative; strings are a number and one unit
 * (`ms`, `s`, `m`, `h`, `d`). Call it once, when options are read, never on a hot path.
 *
 * @param value - the duration to read.
 * @param name - the option's name, quoted in the error message.
 * @example
 * ```ts
 * parseDuration('5m', 'ttl'); // 300000
 * parseDuration(250, 'timeout'); // 250
 * parseDuration('5 minutes', 'ttl'); // throws INVALID_ARGUMENT: ttl must be a duration ...
 * ```
 */
export function parseDuration(value: unknown, name: string, options: ParseDurationOptions = {}): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value);
    if (match === null) throw invalidArgument(name, EXPECTED, value);
    ms = scaledMs(match[1] as string, UNIT_MS[match[2] as DurationUnit]);
  } else {
    throw invalidArgument(name, EXPECTED, value);
  }
  if (!Number.isFinite(ms) || ms < 0) throw invalidArgument(name, EXPECTED, value);
  if (options.positive === true && ms === 0) throw invalidArgument(name, 'a duration greater than 0', value);
  return ms;
}

/**
 * Like {@link parseDuration} but returns `fallback` when `value` is `undefined`.
 *
 * @example
 * ```ts
 * const ttlMs = optionalDuration(options.ttl, 'ttl', 300_000);
 * ```
 */
export function optionalDuration<T extends number | undefined>(value: unknown, name: string, fallback: T, options: ParseDurationOptions = {}): number | T {
  return value === undefined ? fallback : parseDuration(value, name, options);
}
