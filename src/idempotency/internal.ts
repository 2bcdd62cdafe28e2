import type { AcquireResult } from './store.js';

/**
 * Thrown by the HTTP middleware's operation when the response must not be stored (a 5xx): the
 * key is released whatever `storeErrors` says, and the middleware swallows it (the response
 * already went out). Not exported from the package.
 *
 * @internal
 */
export class ReleaseWithoutStoring extends Error {
  constructor() {
    super('headroom: response not stored');
    this.name = 'ReleaseWithoutStoring';
  }
}

/**
 * Marks a store that holds records in this process's memory and gives back from `acquire`
 * exactly the value it was given to `complete` (`MemoryIdempotencyStore`). For such a store the
 * HTTP middleware's results are kept as the objects they are, not encoded to a string and
 * decoded again on every replay: nothing leaves the process, so there is nothing to serialize.
 * A kept value is never a string (strings are encoded outcomes), which is how `run` tells them
 * apart.
 *
 * @internal
 */
export const KEEPS_VALUES: unique symbol = Symbol('headroom.idempotency.keepsValues');

/**
 * Whether two fingerprints that differ as strings name the same request (the middleware's raw
 * fingerprints, canonicalised only when they differ). @internal
 */
export type SameRequest = (stored: string, given: string) => boolean;

/** Runs like `Idempotency.run`, keeping an object result as-is in a store that {@link KEEPS_VALUES}. @internal */
export const RUN_KEPT: unique symbol = Symbol('headroom.idempotency.runKept');

/**
 * A store whose `acquire` and `complete` are synchronous underneath (`MemoryIdempotencyStore`,
 * when a subclass has not overridden them): `Idempotency` calls these instead, saving the
 * promise and microtask hops of the async interface on every call. `undefined` when overridden.
 *
 * @internal
 */
export const SYNC_STORE: unique symbol = Symbol('headroom.idempotency.syncStore');

/** What {@link SYNC_STORE} gives: the store's `acquire` and `complete` without promises. @internal */
export interface SyncStore {
  acquireNow(key: string, token: string, fingerprint: string, lockTtlMs: number): AcquireResult;
  completeNow(key: string, token: string, fingerprint: string, value: string, ttlMs: number): boolean;
}
