import { keysMessage, patternMessage, tagsMessage, clearMessage, BusOp, type SpacePublisher } from './bus-message.js';
import { incompleteInvalidation } from './cache-errors.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import type { SpaceEvents } from './space-events.js';
import type { SpaceKeys } from './space-keys.js';

/** What an {@link Invalidation} works with. */
export interface InvalidationParts {
  readonly l2: L2;
  readonly keys: SpaceKeys;
  readonly publisher: SpacePublisher;
  readonly events: SpaceEvents;
  /** `tagRetention`: how long invalidation times live in Redis. */
  readonly tagRetention: number;
}

/**
 * The Redis side of one key space's invalidations (delete, tags, pattern, clear): the write,
 * then the bus message that tells the other instances. The local side (L1, tag times, flights)
 * is the key space's. A write whose outcome is unknown (failed, or answered after `l2Timeout`)
 * is announced once Redis answers; a write the breaker skipped was never sent and is not.
 */
export class Invalidation {
  constructor(private readonly parts: InvalidationParts) {}

  /** Deletes the entries of `keys` (one `UNLINK`), then announces it. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    const { l2, publisher } = this.parts;
    const message = keysMessage(publisher, BusOp.delete, [...keys]);
    const deleted = await l2.del(
      keys.map((key) => this.parts.keys.entry(key)),
      () => void publisher.publish(message),
    );
    if (deleted !== FAIL) await publisher.publish(message);
  }

  /** Writes the invalidation time `at` of each tag, then announces it. */
  async invalidateTags(tags: readonly string[], at: number): Promise<void> {
    const { l2, publisher } = this.parts;
    const message = tagsMessage(publisher, [...tags], at);
    const written = await l2.setMany(
      tags.map((tag) => this.parts.keys.tag(tag)),
      String(at),
      this.parts.tagRetention,
      () => void publisher.publish(message),
    );
    if (written !== FAIL) await publisher.publish(message);
  }

  /** Deletes the entries matching the glob `pattern` (`SCAN` + `UNLINK`), announces it; resolves with the count. */
  async deletePattern(pattern: string): Promise<number> {
    const { l2, publisher } = this.parts;
    const deleted = await l2.scanDelete(this.parts.keys.entryGlob(pattern));
    await publisher.publish(patternMessage(publisher, pattern));
    if (deleted !== FAIL) return deleted;
    this.parts.events.error(incompleteInvalidation(), 'invalidate-pattern', pattern);
    return 0;
  }

  /** Deletes every key matching `glob` (this key space's, or, for the root, the whole prefix), then announces the clear. */
  async clear(glob: string): Promise<void> {
    const { l2, publisher } = this.parts;
    const deleted = await l2.scanDelete(glob);
    await publisher.publish(clearMessage(publisher));
    if (deleted === FAIL) this.parts.events.error(incompleteInvalidation(), 'clear', undefined);
  }
}
