import { keysMessage, patternMessage, tagsMessage, clearMessage, BusOp, type BusMessage, type MessageSender } from './bus-message.js';
import { incompleteInvalidation } from './cache-errors.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import type { SpaceEvents } from './space-events.js';
import type { SpaceKeys } from './space-keys.js';

/**
 * The Redis side of one key space's invalidations (delete, tags, pattern, clear): the write,
 * then the bus message that tells the other instances. The local side (L1, tag times, flights)
 * is the key space's. A write whose outcome is unknown (failed, or answered after `l2Timeout`)
 * is announced once Redis answers; a write the breaker skipped was never sent and is not.
 */
export class Invalidation {
  private readonly l2: L2;
  private readonly keys: SpaceKeys;
  private readonly sender: MessageSender;
  private readonly publish: (message: BusMessage) => Promise<void>;
  private readonly events: SpaceEvents;
  /** `tagRetention`: how long invalidation times live in Redis. */
  private readonly tagRetention: number;

  constructor(setup: {
    l2: L2;
    keys: SpaceKeys;
    sender: MessageSender;
    publish: (message: BusMessage) => Promise<void>;
    events: SpaceEvents;
    tagRetention: number;
  }) {
    this.l2 = setup.l2;
    this.keys = setup.keys;
    this.sender = setup.sender;
    this.publish = setup.publish;
    this.events = setup.events;
    this.tagRetention = setup.tagRetention;
  }

  /** Deletes the entries of `keys` (one `UNLINK`), then announces it. */
  async deleteKeys(keys: readonly string[]): Promise<void> {
    const message = keysMessage(this.sender, BusOp.delete, [...keys]);
    const deleted = await this.l2.del(
      keys.map((key) => this.keys.entry(key)),
      () => void this.publish(message),
    );
    if (deleted !== FAIL) await this.publish(message);
  }

  /** Writes the invalidation time `at` of each tag, then announces it. */
  async invalidateTags(tags: readonly string[], at: number): Promise<void> {
    const message = tagsMessage(this.sender, [...tags], at);
    const written = await this.l2.setMany(
      tags.map((tag) => this.keys.tag(tag)),
      String(at),
      this.tagRetention,
      () => void this.publish(message),
    );
    if (written !== FAIL) await this.publish(message);
  }

  /** Deletes the entries matching the glob `pattern` (`SCAN` + `UNLINK`), announces it; resolves with the count. */
  async deletePattern(pattern: string): Promise<number> {
    const deleted = await this.l2.scanDelete(this.keys.entryGlob(pattern));
    await this.publish(patternMessage(this.sender, pattern));
    if (deleted !== FAIL) return deleted;
    this.events.error(incompleteInvalidation(), 'invalidate-pattern', pattern);
    return 0;
  }

  /** Deletes every key matching `glob` (this key space's, or, for the root, the whole prefix), then announces the clear. */
  async clear(glob: string): Promise<void> {
    const deleted = await this.l2.scanDelete(glob);
    await this.publish(clearMessage(this.sender));
    if (deleted === FAIL) this.events.error(incompleteInvalidation(), 'clear', undefined);
  }
}
