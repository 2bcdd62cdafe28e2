import { invalidArgument } from './errors.js';

/**
 * Reads an optional whole-number option, or throws `INVALID_ARGUMENT` naming it. `Infinity` is
 * accepted unless `bounds.max` is finite (for bounds such as `maxSize: Infinity`).
 *
 * @example
 * ```ts
 * const concurrency = integerOption(options.concurrency, 'concurrency', 1, { min: 1 });
 * ```
 */
export function integerOption(value: unknown, name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
  if (value === undefined) return fallback;
  const min = bounds.min ?? 0;
  const max = bounds.max ?? Infinity;
  if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw invalidArgument(name, `a whole number ${range}`, value);
  }
  return value;
}

/**
 * Reads an optional number option within `[min, max]`, or throws `INVALID_ARGUMENT` naming it.
 *
 * @example
 * ```ts
 * const jitter = numberOption(options.jitter, 'jitter', 0, { min: 0, max: 1 });
 * ```
 */
export function numberOption(value: unknown, name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
  if (value === undefined) return fallback;
  const min = bounds.min ?? -Infinity;
  const max = bounds.max ?? Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw invalidArgument(name, `a number from ${min} to ${max}`, value);
  }
  return value;
}

/**
 * Reads an optional string option (non-empty), or throws `INVALID_ARGUMENT` naming it.
 *
 * @example
 * ```ts
 * const prefix = stringOption(options.prefix, 'prefix', 'hr:');
 * ```
 */
export function stringOption(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(name, 'a non-empty string', value);
  return value;
}

/**
 * Checks that `value` is a function, or throws `INVALID_ARGUMENT` naming it.
 *
 * @example
 * ```ts
 * functionArgument(options.task, 'task');
 * ```
 */
export function functionArgument(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalidArgument(name, 'a function', value);
}

/**
 * Checks that `value` is a plain options object (or `undefined`), or throws `INVALID_ARGUMENT`.
 *
 * @example
 * ```ts
 * objectArgument(options, 'options');
 * ```
 */
export function objectArgument(value: unknown, name: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw invalidArgument(name, 'an options object', value);
  }
}

/**
 * Whether `value` is an array, for checking an option typed as a readonly array. Unlike
 * `Array.isArray`, which narrows such an option to `any[]`, it narrows nothing: the option keeps
 * its declared element type after the check.
 *
 * @example
 * ```ts
 * if (!isArray(options.signals)) throw invalidArgument('signals', 'an array of signal names', options.signals);
 * ```
 */
export function isArray(value: unknown): boolean {
  return Array.isArray(value);
}
