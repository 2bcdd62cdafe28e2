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
