import { escapeGlob } from './glob.js';

/**
 * The Redis keys of one key space: `<prefix><namespace or _>:` then a kind letter: `e:` entries,
 * `t:` tag invalidation times, `l:` stampede locks (docs/cache.md, "Keys in Redis").
 */
export class SpaceKeys {
  /** `<prefix><namespace or _>:`, the start of every key of this key space. */
  readonly base: string;
  /** `<base>e:` (one concatenation per entry key). */
  private readonly entryPrefix: string;

  constructor(
    /** The cache's `prefix`. */
    private readonly prefix: string,
    namespace: string | undefined,
  ) {
    this.base = `${prefix}${namespace ?? '_'}:`;
    this.entryPrefix = `${this.base}e:`;
  }

  /** The key of an entry. */
  entry(key: string): string {
    return this.entryPrefix + key;
  }

  /** The key of a tag's invalidation time. */
  tag(tag: string): string {
    return `${this.base}t:${tag}`;
  }

  /** The key of an entry's stampede lock. */
  lock(key: string): string {
    return `${this.base}l:${key}`;
  }

  /** A `SCAN MATCH` glob for the entries whose keys match the caller's glob `pattern`. */
  entryGlob(pattern: string): string {
    return `${escapeGlob(this.entryPrefix)}${pattern}`;
  }

  /** A `SCAN MATCH` glob for every key of this key space. */
  spaceGlob(): string {
    return `${escapeGlob(this.base)}*`;
  }

  /** A `SCAN MATCH` glob for every key of the cache, all key spaces (the root's `clear()`). */
  cacheGlob(): string {
    return `${escapeGlob(this.prefix)}*`;
  }
}
