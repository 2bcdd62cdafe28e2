/**
 * The outcome of a bounded L2 call that did not answer: it failed, passed `l2Timeout`, or was
 * skipped by the breaker or because the cache is closed. L2 calls never reject; they resolve
 * with this instead.
 */
export const FAIL: unique symbol = Symbol('headroom.cache.l2-fail');
/** See {@link FAIL}. */
export type Fail = typeof FAIL;
/** A shared resolved promise of {@link FAIL}. */
export const FAIL_PROMISE: Promise<Fail> = Promise.resolve(FAIL);
