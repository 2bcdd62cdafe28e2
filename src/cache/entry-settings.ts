import { integerOption, invalidArgument, numberOption, objectArgument, parseDuration } from '../core/index.js';
import type { EntryDefaults, GetOrSetOptions, L1Options, LockOptions, SetOptions } from './cache-options.js';

/**
 * The entry options of a key space or of one call, checked and in milliseconds: read once per
 * key space, and per call only when the call passes options.
 */
export interface EntrySettings {
  ttl: number;
  grace: number;
  jitter: number;
  earlyRefresh: number;
  /** `factoryTimeout.soft`; 0: none. */
  softTimeout: number;
  /** `factoryTimeout.hard`; 0: none. */
  hardTimeout: number;
  lock: { ttl: number; wait: number } | undefined;
  tags: readonly string[] | undefined;
}

export const DEFAULT_TTL = 300_000;
const DEFAULT_LOCK_TTL = 10_000;
const DEFAULT_LOCK_WAIT = 5_000;

function fraction(value: unknown, name: string, fallback: number, openUpper: boolean): number {
  const share = numberOption(value, name, fallback, { min: 0, max: 1 });
  if (openUpper && share === 1) throw invalidArgument(name, 'a number from 0 (off) to below 1', value);
  return share;
}

function resolveLock(value: unknown, name: string, fallback: EntrySettings['lock']): EntrySettings['lock'] {
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

function resolveFactoryTimeout(value: unknown, name: string, base: EntrySettings): { soft: number; hard: number } {
  if (value === undefined) return { soft: base.softTimeout, hard: base.hardTimeout };
  objectArgument(value, name);
  if (value === null) throw invalidArgument(name, 'an object { soft?, hard? }', value);
  const given = value as { soft?: unknown; hard?: unknown };
  const soft = given.soft === undefined ? 0 : parseDuration(given.soft, `${name}.soft`, { positive: true });
  const hard = given.hard === undefined ? 0 : parseDuration(given.hard, `${name}.hard`, { positive: true });
  if (soft > 0 && hard > 0 && hard < soft) throw invalidArgument(`${name}.hard`, `a duration >= ${name}.soft`, given.hard);
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
export function resolveDefaults(options: EntryDefaults, prefix: string, base?: EntrySettings): EntrySettings {
  const ttl = options.ttl === undefined ? (base?.ttl ?? DEFAULT_TTL) : parseDuration(options.ttl, `${prefix}ttl`, { positive: true });
  const grace = options.grace === undefined ? (base?.grace ?? 0) : parseDuration(options.grace, `${prefix}grace`);
  const jitter = fraction(options.jitter, `${prefix}jitter`, base?.jitter ?? 0, false);
  const earlyRefresh = fraction(options.earlyRefresh, `${prefix}earlyRefresh`, base?.earlyRefresh ?? 0, true);
  const seed: EntrySettings = base ?? { ttl, grace, jitter, earlyRefresh, softTimeout: 0, hardTimeout: 0, lock: undefined, tags: undefined };
  const { soft, hard } = resolveFactoryTimeout(options.factoryTimeout, `${prefix}factoryTimeout`, seed);
  const lock = resolveLock(options.lock, `${prefix}lock`, base?.lock);
  return { ttl, grace, jitter, earlyRefresh, softTimeout: soft, hardTimeout: hard, lock, tags: undefined };
}

/** Reads the options of one call over the key space's defaults. */
export function resolveCall(options: unknown, defaults: EntrySettings, forSet: boolean): EntrySettings {
  if (typeof options === 'number' || typeof options === 'string') {
    return { ...defaults, ttl: parseDuration(options, 'options', { positive: true }) };
  }
  if (options === undefined) return defaults;
  objectArgument(options, 'options');
  if (options === null) throw invalidArgument('options', 'a ttl or an options object', options);
  const given = options as GetOrSetOptions & SetOptions;
  const resolved: EntrySettings = {
    ttl: given.ttl === undefined ? defaults.ttl : parseDuration(given.ttl, 'options.ttl', { positive: true }),
    grace: given.grace === undefined ? defaults.grace : parseDuration(given.grace, 'options.grace'),
    jitter: fraction(given.jitter, 'options.jitter', defaults.jitter, false),
    earlyRefresh: defaults.earlyRefresh,
    softTimeout: defaults.softTimeout,
    hardTimeout: defaults.hardTimeout,
    lock: defaults.lock,
    tags: resolveTags(given.tags, 'options.tags'),
  };
  if (!forSet) {
    resolved.earlyRefresh = fraction(given.earlyRefresh, 'options.earlyRefresh', defaults.earlyRefresh, true);
    const timeouts = resolveFactoryTimeout(given.factoryTimeout, 'options.factoryTimeout', defaults);
    resolved.softTimeout = timeouts.soft;
    resolved.hardTimeout = timeouts.hard;
    resolved.lock = resolveLock(given.lock, 'options.lock', defaults.lock);
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
