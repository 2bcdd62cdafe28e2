import { describe, expect, it } from 'vitest';
import { functionArgument, integerOption, numberOption, objectArgument, stringOption } from '../../src/core/index.js';

describe('option readers', () => {
  it('read valid values and fall back on undefined', () => {
    expect(integerOption(undefined, 'concurrency', 1)).toBe(1);
    expect(integerOption(16, 'concurrency', 1, { min: 1 })).toBe(16);
    expect(integerOption(Infinity, 'maxSize', 1)).toBe(Infinity);
    expect(numberOption(0.5, 'jitter', 0, { min: 0, max: 1 })).toBe(0.5);
    expect(stringOption(undefined, 'prefix', 'hr:')).toBe('hr:');
  });

  it('throw INVALID_ARGUMENT naming the option', () => {
    expect(() => integerOption(0, 'concurrency', 1, { min: 1 })).toThrow(/concurrency must be a whole number >= 1; got 0/);
    expect(() => integerOption(1.5, 'maxSize', 1)).toThrow(/maxSize/);
    expect(() => integerOption(Infinity, 'concurrency', 1, { min: 1, max: 1024 })).toThrow(/from 1 to 1024/);
    expect(() => numberOption(2, 'jitter', 0, { min: 0, max: 1 })).toThrow(/jitter must be a number from 0 to 1; got 2/);
    expect(() => numberOption(Number.NaN, 'jitter', 0)).toThrow(/jitter/);
    expect(() => stringOption('', 'prefix', 'x')).toThrow(/prefix must be a non-empty string/);
    expect(() => functionArgument('x', 'task')).toThrow(/task must be a function/);
    expect(() => objectArgument([], 'options')).toThrow(/options must be an options object/);
    expect(() => objectArgument(undefined, 'options')).not.toThrow();
  });
});
