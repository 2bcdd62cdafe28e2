import { integerOption, invalidArgument, numberOption, objectArgument, parseDuration } from '../core/index.js';
import type { EntryDefaults, GetOrSetOptions, L1Options, LockOptions, SetOptions } from './types.js';

/** Entry settings in milliseconds, read once per key space (and per call only when options are given). */
export interface Resolved {
  ttl: number;
  grace: number;
  jitter: number;
  earlyRefresh: number;
  /** 0: none. */
  soft: number;
  /** 0: none. */
  hard: number;
  lock: { ttl: number; wait: number } | undefined;
  tags: readonly string[] | undefined;
}

export const DEFAULT_TTL = 300_000;
const DEFAULT_LOCK_TTL = 10_000;
const DEFAULT_LOCK_WAIT = 5_000;

function fraction(value: unknown, name: string, fallback: number, openUpper: boolean): number {
  const n = numberOption(value, name, fallback, { min: 0, max: 1 });
  if (openUpper && n === 1) throw invalidArgument(name, 'a number from 0 (off) to below 1', value);
  return n;
}

function resolveLock(value: unknown, name: string, fallback: Resolved['lock']): Resolved['lock'] {
  if (value === undefined) return fallback;
  if (value === false) return undefined;
  if (value === true) return { ttl: DEFAULT_LOCK_TTL, wait: DEFAULT_LOCK_WAIT };
  objectArgument(value, name);
  if (value === null) throw invalidArgument(name, 'a boolean or { ttl, wait }', value);
  const lock = value as LockOptions;
  return {
    ttl: lock.ttl === undefined ? DEFAULT_LOCK_TTL : parseDuration(lock.ttl, `${name}.ttl`, { positive: true }),
    wait: lock.wait === undefined ? DEFAULT_LOCK_WAIT : parseDuration(lock.wait, `${name}.wait`),
  };
}

function resolveFactoryTimeout(value: unknown, name: string, base: Resolved): { soft: number; hard: number } {
  if (value === undefined) return { soft: base.soft, hard: base.hard };
  objectArgument(value, name);
  if (value === null) throw invalidArgument(name, 'an object { soft?, hard? }', value);
  const ft = value as { soft?: unknown; hard?: unknown };
  const soft = ft.soft === undefined ? 0 : parseDuration(ft.soft, `${name}.soft`, { positive: true });
  const hard = ft.hard === undefined ? 0 : parseDuration(ft.hard, `${name}.hard`, { positive: true });
  if (soft > 0 && hard > 0 && hard < soft) throw invalidArgument(`${name}.hard`, `a duration >= ${name}.soft`, ft.hard);
  return { soft, hard };
}

/** Reads tags: an array of non-empty strings. */
export function resolveTags(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string' && t.length > 0)) {
    throw invalidArgument(name, 'an array of non-empty strings', value);
  }
  return value.length === 0 ? undefined : (value as string[]);
}

/** Reads a key space's defaults over `base` (the root's, for a namespace). */
export function resolveDefaults(options: EntryDefaults, prefix: string, base?: Resolved): Resolved {
  const ttl = options.ttl === undefined ? (base?.ttl ?? DEFAULT_TTL) : parseDuration(options.ttl, `${prefix}ttl`, { positive: true });
  const grace = options.grace === undefined ? (base?.grace ?? 0) : parseDuration(options.grace, `${prefix}grace`);
  const jitter = fraction(options.jitter, `${prefix}jitter`, base?.jitter ?? 0, false);
  const earlyRefresh = fraction(options.earlyRefresh, `${prefix}earlyRefresh`, base?.earlyRefresh ?? 0, true);
  const seed: Resolved = base ?? { ttl, grace, jitter, earlyRefresh, soft: 0, hard: 0, lock: undefined, tags: undefined };
  const { soft, hard } = resolveFactoryTimeout(options.factoryTimeout, `${prefix}factoryTimeout`, seed);
  const lock = resolveLock(options.lock, `${prefix}lock`, base?.lock);
  return { ttl, grace, jitter, earlyRefresh, soft, hard, lock, tags: undefined };
}

/** Reads the options of one call over the key space's defaults. */
export function resolveCall(options: unknown, defaults: Resolved, forSet: boolean): Resolved {
  if (typeof options === 'number' || typeof options === 'string') {
    return { ...defaults, ttl: parseDuration(options, 'options', { positive: true }) };
  }
  if (options === undefined) return defaults;
  objectArgument(options, 'options');
  if (options === null) throw invalidArgument('options', 'a ttl or an options object', options);
  const o = options as GetOrSetOptions & SetOptions;
  const resolved: Resolved = {
    ttl: o.ttl === undefined ? defaults.ttl : parseDuration(o.ttl, 'options.ttl', { positive: true }),
    grace: o.grace === undefined ? defaults.grace : parseDuration(o.grace, 'options.grace'),
    jitter: fraction(o.jitter, 'options.jitter', defaults.jitter, false),
    earlyRefresh: defaults.earlyRefresh,
    soft: defaults.soft,
    hard: defaults.hard,
    lock: defaults.lock,
    tags: resolveTags(o.tags, 'options.tags'),
  };
  if (!forSet) {
    resolved.earlyRefresh = fraction(o.earlyRefresh, 'options.earlyRefresh', defaults.earlyRefresh, true);
    const ft = resolveFactoryTimeout(o.factoryTimeout, 'options.factoryTimeout', defaults);
    resolved.soft = ft.soft;
    resolved.hard = ft.hard;
    resolved.lock = resolveLock(o.lock, 'options.lock', defaults.lock);
  }
  return resolved;
}

/** Reads `l1`: `false` or `{ maxEntries, maxBytes? }`. */
export function resolveL1(value: unknown, name: string, fallback: L1Options | false): L1Options | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  objectArgument(value, name);
  if (value === null) throw invalidArgument(name, 'false or { maxEntries, maxBytes? }', value);
  const l1 = value as Partial<L1Options>;
  const maxEntries = integerOption(l1.maxEntries, `${name}.maxEntries`, 10_000, { min: 1 });
  if (maxEntries === Infinity) throw invalidArgument(`${name}.maxEntries`, 'a finite whole number >= 1', l1.maxEntries);
  const maxBytes = l1.maxBytes === undefined ? undefined : integerOption(l1.maxBytes, `${name}.maxBytes`, 0, { min: 1 });
  return maxBytes === undefined ? { maxEntries } : { maxEntries, maxBytes };
}
