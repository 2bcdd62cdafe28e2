/**
 * Properties of the duration parser: a duration string is a decimal numeral and a unit
 * (`ms`, `s`, `m`, `h`, `d`), with optional whitespace around and between them; a number is
 * milliseconds. The expected milliseconds are computed exactly, with BigInt, and rounded once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHeadroomError, parseDuration, type DurationUnit } from '../../src/core/index.js';

const UNIT_MS: Record<DurationUnit, bigint> = { ms: 1n, s: 1_000n, m: 60_000n, h: 3_600_000n, d: 86_400_000n };
const UNITS = Object.keys(UNIT_MS) as DurationUnit[];

/** A duration string's parts: `<space><int>[.<fraction>]<space><unit><space>`. */
interface Written {
  int: string;
  fraction: string | undefined;
  unit: DurationUnit;
  text: string;
}

const digits = (min: number, max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
/** Whitespace as `String.prototype.trim` knows it: spaces, tabs, line ends, no-break spaces. */
const space = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\ufeff'), maxLength: 2 });

const written: fc.Arbitrary<Written> = fc
  .record({
    before: space,
    int: fc.oneof(digits(1, 4), digits(1, 12)),
    fraction: fc.option(digits(1, 6), { nil: undefined }),
    between: space,
    unit: fc.constantFrom(...UNITS),
    after: space,
  })
  .map(({ before, int, fraction, between, unit, after }) => ({
    int,
    fraction,
    unit,
    text: `${before}${int}${fraction === undefined ? '' : `.${fraction}`}${between}${unit}${after}`,
  }));

/** The exact count of milliseconds a written duration names, rounded once to a double. */
function exactMs({ int, fraction = '', unit }: Written): number {
  const scaled = (BigInt(int + fraction) * UNIT_MS[unit]).toString().padStart(fraction.length + 1, '0');
  if (fraction.length === 0) return Number(scaled);
  return Number(`${scaled.slice(0, -fraction.length)}.${scaled.slice(-fraction.length)}`);
}

function refusal(input: unknown, options?: { positive?: boolean }): unknown {
  try {
    parseDuration(input, 'ttl', options);
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectRefused(input: unknown, options?: { positive?: boolean }): void {
  const error = refusal(input, options);
  expect(isHeadroomError(error, 'INVALID_ARGUMENT'), `accepted ${fc.stringify(input)}`).toBe(true);
  expect((error as Error).message).toMatch(/^headroom: ttl must be a duration/);
}

describe('parseDuration (properties)', () => {
  it('reads every valid duration string as its exact number of milliseconds', () => {
    fc.assert(
      fc.property(written, (w) => {
        expect(parseDuration(w.text, 'ttl')).toBe(exactMs(w));
      }),
      { numRuns: 200 },
    );
  });

  it('reads a whole number of milliseconds back from any unit it can be written in exactly', () => {
    // e.g. 1100 ms written as "1.1s", 5400000 ms as "1.5h": the count comes back to the millisecond.
    fc.assert(
      fc.property(fc.constantFrom(...UNITS), fc.nat({ max: 10_000 }), fc.nat({ max: 999 }), (unit, whole, thousandths) => {
        const unitMs = Number(UNIT_MS[unit]);
        const ms = whole * unitMs + (unit === 'ms' ? 0 : (thousandths * unitMs) / 1000);
        fc.pre(Number.isInteger(ms));
        const text = unit === 'ms' ? `${whole}ms` : `${whole}.${String(thousandths).padStart(3, '0')}${unit}`;
        expect(parseDuration(text, 'ttl')).toBe(ms);
      }),
      { numRuns: 200 },
    );
  });

  it('returns any finite non-negative number of milliseconds as it is', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (ms) => {
        expect(parseDuration(ms, 'ttl')).toBe(ms);
      }),
    );
  });

  it('refuses negative, infinite and NaN numbers with INVALID_ARGUMENT', () => {
    fc.assert(fc.property(fc.oneof(fc.double({ max: -Number.MIN_VALUE }), fc.constantFrom(Number.NaN, Infinity, -Infinity)), (ms) => expectRefused(ms)));
  });

  it('refuses anything that is neither a number nor a string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom(null, undefined, true, false, Symbol('5s'), () => 5, new Date(5), [5], ['5s'], { ms: 5 }),
          fc.bigInt({ min: 0n }),
          fc.object(),
        ),
        (input) => expectRefused(input),
      ),
    );
  });

  it('refuses every malformed string with INVALID_ARGUMENT', () => {
    const unit = fc.constantFrom(...UNITS);
    const number = fc.oneof(
      digits(1, 4),
      fc.tuple(digits(1, 3), digits(1, 3)).map(([a, b]) => `${a}.${b}`),
    );
    const malformed = fc.oneof(
      // no unit, or one we do not know (weeks, years, spelled out, upper case, micro)
      number,
      fc.tuple(number, fc.constantFrom('w', 'y', 'sec', 'min', 'hours', 'MS', 'S', 'H', 'us', 'µs', 'ns', 'msec', 'mss')).map(([n, u]) => n + u),
      // no number, or a number JavaScript reads but the grammar does not: sign, exponent,
      // bare or trailing point, grouping, hex, comma decimal
      unit,
      fc.tuple(fc.constantFrom('-', '+', '.', '0x', 'Infinity', 'NaN'), digits(0, 3), unit).map(([p, n, u]) => p + n + u),
      fc.tuple(digits(1, 3), fc.constantFrom('.', 'e3', 'E3', 'e-3', '_000', ',5', '.5.5', '..5', 'n'), unit).map(([n, x, u]) => n + x + u),
      // two durations, or text around one
      fc.tuple(number, unit, number, unit).map(([a, u, b, v]) => `${a}${u}${b}${v}`),
      fc.tuple(fc.constantFrom('~', 'about ', 'x', '\u0000', '5s;'), number, unit).map(([p, n, u]) => p + n + u),
      fc.tuple(number, unit, fc.constantFrom('!', ' ago', '\u0000', 'x', '.')).map(([n, u, s]) => n + u + s),
      // digits other scripts write (Arabic-Indic, full-width)
      fc.tuple(fc.constantFrom('\u0665', '\uff15', '\u0661\u0660'), unit).map(([n, u]) => n + u),
      // empty or blank
      space,
    );
    fc.assert(
      fc.property(malformed, (text) => expectRefused(text)),
      { numRuns: 200 },
    );
  });

  it('either refuses an arbitrary string or reads it exactly as its grammar says', () => {
    const grammar = /^\s*(\d+)(?:\.(\d+))?\s*(ms|s|m|h|d)\s*$/;
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'0123456789.msdh \t-e') })), (text) => {
        const match = grammar.exec(text);
        if (match === null) expectRefused(text);
        else expect(parseDuration(text, 'ttl')).toBe(exactMs({ int: match[1]!, fraction: match[2], unit: match[3] as DurationUnit, text }));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses zero and only zero when a positive duration is required', () => {
    fc.assert(
      fc.property(written, (w) => {
        const ms = exactMs(w);
        if (ms === 0) {
          const error = refusal(w.text, { positive: true });
          expect(isHeadroomError(error, 'INVALID_ARGUMENT')).toBe(true);
          expect((error as Error).message).toMatch(/ttl must be a duration greater than 0/);
        } else {
          expect(parseDuration(w.text, 'ttl', { positive: true })).toBe(ms);
        }
      }),
      { numRuns: 100 },
    );
  });
});
