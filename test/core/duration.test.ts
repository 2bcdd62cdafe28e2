import { describe, expect, it } from 'vitest';
import { isHeadroomError, optionalDuration, parseDuration } from '../../src/core/index.js';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['250ms', 250],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 24h ', 86_400_000],
    // Counterexamples found by the property tests: a fraction is scaled exactly, not rounded twice.
    ['1.007s', 1_007],
    ['0.27m', 16_200],
    ['9.86559m', 591_935.4],
    ['600.44d', 51_878_016_000],
  ])('reads %j as %d ms', (input, expected) => {
    expect(parseDuration(input, 'ttl')).toBe(expected);
  });

  it.each([['5 minutes'], ['-1s'], ['1w'], [''], ['ms'], [-1], [Number.NaN], [Infinity], [null], [{}], ['5']])(
    'rejects %j with INVALID_ARGUMENT naming the option',
    (input) => {
      let caught: unknown;
      try {
        parseDuration(input, 'ttl');
      } catch (err) {
        caught = err;
      }
      expect(isHeadroomError(caught, 'INVALID_ARGUMENT')).toBe(true);
      expect((caught as Error).message).toMatch(/^headroom: ttl must be a duration/);
    },
  );

  it('rejects 0 when a positive duration is required', () => {
    expect(() => parseDuration('0s', 'interval', { positive: true })).toThrow(/interval must be a duration greater than 0/);
  });

  it('falls back only when the value is undefined', () => {
    expect(optionalDuration(undefined, 'ttl', 42)).toBe(42);
    expect(optionalDuration('1s', 'ttl', 42)).toBe(1000);
    expect(() => optionalDuration(null, 'ttl', 42)).toThrow(/ttl/);
  });
});
