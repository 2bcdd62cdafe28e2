import type { CacheSerializer } from './cache-options.js';
import type { CacheTime } from './clock.js';
import { createdAtOf, decodeEnvelope, EXPIRES, SIZE, staleUntilOf, type Envelope } from './envelope.js';
import type { L1Entry } from './l1-layer.js';
import type { L2 } from './l2.js';
import { FAIL, type Fail } from './l2-outcome.js';
import type { SpaceEvents } from './space-events.js';
import type { SpaceKeys } from './space-keys.js';
import { TAGS_INVALID, TAGS_UNKNOWN, type TagCheck } from './tag-check.js';

/** True when `read` is a decoded entry (not a miss, not {@link FAIL}). */
export function isEntry(read: Envelope | undefined | Fail): read is Envelope {
  return typeof read === 'object';
}

/**
 * True when `read` answers a lookup at `now`: it is fresh, and, for an early refresh of
 * `refreshOf`, newer than the entry being refreshed.
 */
export function freshFor(read: Envelope | undefined, refreshOf: L1Entry | undefined, now: number): read is Envelope {
  return read !== undefined && now < read[EXPIRES] && (refreshOf === undefined || createdAtOf(read) > refreshOf.createdAt);
}

/** What an {@link EntryReader} works with. */
export interface EntryReaderParts {
  readonly l2: L2 | undefined;
  readonly serializer: CacheSerializer;
  readonly keys: SpaceKeys;
  readonly tags: TagCheck;
  readonly events: SpaceEvents;
  /** The L1 counts bytes (`l1.maxBytes`): decoded entries carry their size. */
  readonly sizes: boolean;
  readonly time: CacheTime;
}

/**
 * Turns what Redis holds under an entry key into an {@link Envelope}: decodes it (an unreadable
 * entry is reported, deleted and counts as a miss), drops it when past its grace, and notes its
 * size for a byte-bounded L1. Tags are judged by the {@link TagCheck}.
 */
export class EntryReader {
  constructor(private readonly parts: EntryReaderParts) {}

  /**
   * Decodes a GET reply of `key` at `now`: the envelope (its tags not judged yet), `undefined`
   * for a miss, an unreadable entry or one past its grace, or {@link FAIL} when the GET failed.
   * Synchronous: it runs inside ioredis' reply parser on the direct read path.
   */
  decode(key: string, reply: string | null | Fail, now: number): Envelope | undefined | Fail {
    if (reply === FAIL) return FAIL;
    if (reply === null) return undefined;
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(this.parts.serializer, reply);
    } catch (error) {
      this.parts.events.error(error, 'deserialize', key);
      void this.parts.l2?.del([this.parts.keys.entry(key)]);
      return undefined;
    }
    if (now >= staleUntilOf(envelope)) return undefined;
    // Only a sized L1 needs it (a seventh element would make V8 grow the parsed array).
    if (this.parts.sizes) envelope[SIZE] = reply.length;
    return envelope;
  }

  /** One bounded GET of `key`, decoded, its tags judged (reading tag times from Redis when needed). */
  async fetch(key: string): Promise<Envelope | undefined | Fail> {
    const { l2, tags } = this.parts;
    if (l2 === undefined) return undefined;
    const read = this.decode(key, await l2.get(this.parts.keys.entry(key)), this.parts.time.coarse());
    if (!isEntry(read)) return read;
    const verdict = tags.judge(read);
    if (verdict === TAGS_INVALID) return undefined;
    return verdict === TAGS_UNKNOWN ? tags.confirm(read) : read;
  }
}
