import { clockOption, type Clock } from '../core/index.js';

/**
 * A coarse clock for the hot paths. `Date.now()` costs about as much as an lru-cache lookup, so
 * the hit path reads a cached timestamp instead: it is refreshed at most every {@link CALLS}
 * reads and at least every {@link RESOLUTION_MS} of wall time (a one-shot unref'd timer that is
 * only armed while the clock is being read, so an idle process has no timer at all).
 */
const RESOLUTION_MS = 5;
const CALLS = 1024;

let now = 0;
let budget = 0;
let armed = false;

function expire(): void {
  budget = 0;
  armed = false;
}

/** Milliseconds since the epoch, at most ~{@link RESOLUTION_MS} ms old. */
export function coarseNow(): number {
  if (--budget < 0) {
    now = Date.now();
    budget = CALLS;
    if (!armed) {
      armed = true;
      setTimeout(expire, RESOLUTION_MS).unref();
    }
  }
  return now;
}

/**
 * The cache's time, in milliseconds since the epoch: exact readings, and coarse ones for the L1
 * hit path. Expiry times written by other processes are compared with these readings.
 */
export interface CacheTime {
  /** An exact reading. */
  now(): number;
  /** A reading at most a few milliseconds old (the system clock's is cached, see {@link coarseNow}). */
  coarse(): number;
  /** True for the system clock: the L1 hit path may read {@link coarseNow} directly. */
  readonly system: boolean;
}

const systemTime: CacheTime = { now: Date.now, coarse: coarseNow, system: true };

/** The cache's time from its `clock` option: the system clock by default, else the given clock for both readings. */
export function cacheTime(clock: unknown): CacheTime {
  if (clock === undefined) return systemTime;
  const given: Clock = clockOption(clock);
  const now = (): number => given.now();
  return { now, coarse: now, system: false };
}

let lastStamp = 0;

/**
 * A creation/invalidation stamp in microseconds since the epoch: wall-clock based (so stamps of
 * different instances compare, to the precision of their clocks) and strictly increasing within
 * this process, so an entry written right after a tag invalidation, in the same millisecond, is
 * still newer than it.
 */
export function stamp(): number {
  const now = Date.now() * 1000;
  lastStamp = now > lastStamp ? now : lastStamp + 1;
  return lastStamp;
}
