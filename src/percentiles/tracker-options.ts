import {
  type Duration,
  clockOption,
  type Clock,
  integerOption,
  invalidArgument,
  isArray,
  objectArgument,
  optionalDuration,
  parseDuration,
} from '../core/index.js';

/** Options of {@link PercentileTracker}. Every field is optional. */
export interface PercentileTrackerOptions {
  /**
   * The windows to report over. Each is split into `intervalsPerWindow` intervals (a `'1m'` window
   * in 12 intervals of 5 s): a window reports the current interval plus the previous ones, so it
   * covers between `window - interval` and `window`, and a value leaves it in whole intervals.
   * Windows that are not a whole multiple of the smallest one are rounded to whole intervals of it.
   * At most 8 windows. Default `['1m', '1h']`.
   */
  windows?: readonly Duration[];
  /**
   * Intervals per window: the resolution of the window's sliding edge. More intervals slide more
   * smoothly and hold more memory (see the guide). From 2 to 120. Default `12`.
   */
  intervalsPerWindow?: number;
  /**
   * HdrHistogram precision: percentiles are within `10^-significantDigits` of the true value
   * (0.1% at 3). From 1 to 4; each extra digit multiplies the per-key memory by about 8. Default `3`.
   */
  significantDigits?: number;
  /**
   * Most keys tracked at once. A new key past this is folded into {@link OVERFLOW_KEY} and the
   * `overflow` event fires (once). Keys with nothing left in any window are dropped, which makes
   * room again. Default `1000`.
   */
  maxKeys?: number;
  /** A record above this fires the `slow` event (rate-limited by `eventCooldown`). Default: none. */
  slowThreshold?: Duration;
  /**
   * Largest value tracked. A larger one is recorded as `highest` and counted in `clamped`.
   * From `'1ms'`. Default `'1m'`.
   */
  highest?: Duration;
  /**
   * Minimum time between two `slow` events for one key, or two `budget` events for one key and
   * metric. Records in between are counted in the next event's `suppressed`. Default `'10s'`.
   */
  eventCooldown?: Duration;
  /**
   * Wall clock in ms, for tests and simulations: a {@link Clock} (`{ now() }`, as every headroom
   * `clock` option takes) or a function returning the time. When given, every call reads it and
   * no timer is started. Default: `Date.now`, read by an unref()'d timer a few times per interval
   * so that `record()` never reads the clock itself.
   *
   * @example
   * ```ts
   * let now = Date.now();
   * const tracker = new PercentileTracker({ windows: ['1m'], clock: { now: () => now } });
   * now += 60_000; // the minute is over
   * ```
   */
  clock?: Clock | (() => number);
}

/** The `clock` option as a function: a function is used as it is, a {@link Clock} is read through `now()`. */
function clockReader(clock: unknown): (() => number) | undefined {
  if (clock === undefined || typeof clock === 'function') return clock as (() => number) | undefined;
  const given = clockOption(clock);
  return () => given.now();
}

/** A window, the ring of intervals that serves it, and how it relates to the smallest one. @internal */
export interface Level {
  /** The window as configured (ms). */
  windowMs: number;
  /** The label of the window, e.g. `'1m'`. */
  label: string;
  /** Interval length (ms). */
  intervalMs: number;
  /** Intervals kept (ring size). */
  slots: number;
  /** Intervals of the smallest window per interval of this one. */
  factor: number;
}

/** Resolved, validated options. @internal */
export interface ResolvedOptions {
  levels: Level[];
  significantDigits: number;
  maxKeys: number;
  slowThresholdMs: number;
  highestMs: number;
  eventCooldownMs: number;
  clock: (() => number) | undefined;
}

const UNITS: [number, string][] = [
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
];

/** `60000` -> `'1m'`, `90000` -> `'90s'`, `1500` -> `'1500ms'`. @internal */
export function formatDuration(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Validates the constructor options once. @internal */
export function resolveOptions(options: PercentileTrackerOptions | undefined): ResolvedOptions {
  objectArgument(options, 'options');
  const given = options ?? {};
  const perWindow = integerOption(given.intervalsPerWindow, 'intervalsPerWindow', 12, { min: 2, max: 120 });
  const rawWindows = given.windows ?? ['1m', '1h'];
  if (!isArray(rawWindows) || rawWindows.length === 0 || rawWindows.length > 8) {
    throw invalidArgument('windows', 'an array of 1 to 8 durations', rawWindows);
  }
  const windows = rawWindows.map((window, i) => parseDuration(window, `windows[${i}]`, { positive: true }));
  for (let i = 0; i < windows.length; i++) {
    if ((windows[i] as number) < perWindow) {
      throw invalidArgument(`windows[${i}]`, `at least ${perWindow}ms (one ms per interval)`, rawWindows[i]);
    }
  }
  const sorted = [...new Set(windows)].sort((a, b) => a - b);
  if (sorted.length !== windows.length) throw invalidArgument('windows', 'distinct durations', rawWindows);
  const base = (sorted[0] as number) / perWindow;
  const levels: Level[] = sorted.map((windowMs) => {
    const factor = Math.max(1, Math.round(windowMs / perWindow / base));
    const intervalMs = base * factor;
    // Labels keep the user's spelling ('24h' stays '24h'); numbers get a readable one.
    const raw = rawWindows[windows.indexOf(windowMs)];
    const label = typeof raw === 'string' ? raw.trim() : formatDuration(windowMs);
    return { windowMs, label, intervalMs, factor, slots: Math.max(2, Math.round(windowMs / intervalMs)) };
  });
  const significantDigits = integerOption(given.significantDigits, 'significantDigits', 3, { min: 1, max: 4 });
  const maxKeys = integerOption(given.maxKeys, 'maxKeys', 1000, { min: 1, max: 1_000_000 });
  const slowThresholdMs = optionalDuration(given.slowThreshold, 'slowThreshold', Infinity);
  const highestMs = optionalDuration(given.highest, 'highest', 60_000);
  if (highestMs < 1) throw invalidArgument('highest', "a duration of at least '1ms'", given.highest);
  if (highestMs > 365 * 86_400_000) throw invalidArgument('highest', "a duration of at most '365d'", given.highest);
  const eventCooldownMs = optionalDuration(given.eventCooldown, 'eventCooldown', 10_000);
  return { levels, significantDigits, maxKeys, slowThresholdMs, highestMs, eventCooldownMs, clock: clockReader(given.clock) };
}
