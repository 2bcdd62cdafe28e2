import type { CacheTime } from './clock.js';
import { keysMessage, BusOp, type SpacePublisher } from './bus-message.js';
import { unserializableValue } from './cache-errors.js';
import { encodeEnvelope, type EntryCodec, type EntryContent } from './envelope.js';
import type { L1Layer } from './l1-layer.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import type { SpaceKeys } from './space-keys.js';

/** One write of an entry (by `set()`, or of a value a factory computed). Durations in ms. */
export interface EntryWrite {
  key: string;
  value: unknown;
  ttl: number;
  grace: number;
  /** Fraction of `ttl` removed at random. */
  jitter: number;
  earlyRefresh: number;
  tags: readonly string[] | undefined;
  /** The creation stamp (µs): for a computed value, taken before the factory ran. */
  createdAt: number;
  /** For a computed value: its flight. If it went dirty (the key was written meanwhile), nothing is cached. */
  flight?: { readonly dirty: boolean };
  /** Announce the write on the bus once Redis took it (`set()`; a computed value is not announced). */
  announce: boolean;
}

/** What an {@link EntryWriter} writes to and with. */
export interface EntryWriterParts {
  readonly l1: L1Layer | undefined;
  readonly l2: L2 | undefined;
  readonly codec: EntryCodec;
  readonly keys: SpaceKeys;
  readonly publisher: SpacePublisher;
  /** `tagRetention`: tagged entries never outlive the invalidation times that judge them. */
  readonly tagRetention: number;
  /** `clone`: L1 keeps a copy of the value it was given. */
  readonly clone: boolean;
  readonly time: CacheTime;
}

/**
 * Writes entries: encodes them (the serializer's failure is `CACHE_INVALID_VALUE`), puts them in
 * L1, then sends the L2 `SET` and, when asked, the bus message after it.
 */
export class EntryWriter {
  constructor(private readonly parts: EntryWriterParts) {}

  /**
   * Encodes `write` (throws `CACHE_INVALID_VALUE`), puts it in L1, then starts the L2 write and,
   * when asked, the bus message after it. Returns that write, which never rejects (failures and
   * timeouts are counted and reported by the L2), or `undefined` when there is none.
   */
  write(write: EntryWrite): Promise<unknown> | undefined {
    const { key, grace, tags } = write;
    const { l1, l2, keys, publisher } = this.parts;
    const now = this.parts.time.now();
    let ttl = write.ttl;
    if (write.jitter > 0) ttl -= ttl * write.jitter * Math.random();
    const expiresAt = Math.round(now + ttl);
    const content: EntryContent = { value: write.value, createdAt: write.createdAt, expiresAt, staleUntil: expiresAt + grace, tags };
    let text: string | undefined;
    let size = 1;
    if (l2 !== undefined || l1?.countsBytes === true) {
      try {
        const encoded = encodeEnvelope(this.parts.codec, content);
        text = encoded.text;
        size = Math.max(1, encoded.size);
      } catch (error) {
        throw unserializableValue(key, error);
      }
    }
    // A set/delete/clear of this key arrived while the value was computed: it wins. The callers
    // still get the computed value; it is just not cached (neither in L1 nor in L2).
    if (write.flight?.dirty === true) return undefined;
    if (l1 !== undefined) {
      const value = this.parts.clone ? structuredClone(write.value) : write.value;
      l1.put(key, { ...content, value, earlyRefresh: write.earlyRefresh, size }, now);
    }
    if (l2 === undefined || text === undefined) return undefined;
    let l2Ttl = ttl + grace;
    if (tags !== undefined) l2Ttl = Math.min(l2Ttl, this.parts.tagRetention);
    // Sent now, synchronously: its order against later commands of this instance on the same
    // connection (a set or delete of the key) does not depend on when anyone awaits it.
    if (!write.announce) return l2.set(keys.entry(key), text, l2Ttl);
    const message = keysMessage(publisher, BusOp.set, [key]);
    // A write whose outcome is unknown (failed, or answered after l2Timeout) is announced anyway.
    const written = l2.set(keys.entry(key), text, l2Ttl, () => void publisher.publish(message));
    return written.then((reply) => (reply === FAIL ? undefined : publisher.publish(message)));
  }
}
