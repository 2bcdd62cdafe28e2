import type { CacheSerializer } from './cache-options.js';

/**
 * The default {@link CacheSerializer}: `JSON.stringify` / `JSON.parse`.
 *
 * Throws (so the cache answers `CACHE_INVALID_VALUE` and stores nothing) for values JSON cannot
 * encode at the top level (functions, symbols, `undefined`) and for BigInt and cycles anywhere.
 * Nested functions and `undefined` fields are dropped, as `JSON.stringify` does, and `Date`s come
 * back as strings: L1 (which holds the original object) and L2 can then differ, so cache plain data.
 *
 * @example
 * ```ts
 * const cache = createCache({ redis, serializer: cacheJsonSerializer }); // the default
 * ```
 */
export const cacheJsonSerializer: CacheSerializer = {
  serialize(value: unknown): string {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') throw new TypeError(`JSON cannot encode a value of type ${typeof value}`);
    return text;
  },
  deserialize(data: string | Uint8Array): unknown {
    return JSON.parse(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  },
};
