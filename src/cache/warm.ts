import { invalidArgument, type Duration } from '../core/index.js';
import type { WarmEntry, WarmSource } from './cache.js';
import type { SetOptions } from './cache-options.js';

/** Writes started together by `warm()`: enough to fill a pipeline, few enough to bound memory. */
const WARM_BATCH = 64;

/**
 * `cache.warm(source)`: stores every entry of `source` with `set`, {@link WARM_BATCH} writes at a
 * time; resolves with how many were stored.
 */
export async function warm(source: WarmSource, set: (key: string, value: unknown, options?: Duration | SetOptions) => Promise<void>): Promise<number> {
  const entries = typeof source === 'function' ? await source() : source;
  if (entries === null || typeof entries !== 'object' || (!(Symbol.iterator in entries) && !(Symbol.asyncIterator in entries))) {
    throw invalidArgument('source', 'an iterable of { key, value, options? } or a function returning one', entries);
  }
  let count = 0;
  let batch: Promise<void>[] = [];
  for await (const entry of entries as AsyncIterable<WarmEntry>) {
    if (entry === null || typeof entry !== 'object') throw invalidArgument('entry', 'an object { key, value, options? }', entry);
    batch.push(set(entry.key, entry.value, entry.options));
    count++;
    if (batch.length >= WARM_BATCH) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  return count;
}
