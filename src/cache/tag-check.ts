import { createdAtOf, TAGS, type Envelope } from './envelope.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import type { CacheState } from './space-context.js';
import type { SpaceKeys } from './space-keys.js';
import { TagTimes } from './tag-times.js';

/** An L2 entry's tags are all older than the entry: it may be served. */
export const TAGS_VALID = 0;
/** A tag was invalidated after the entry was created: it is a miss. */
export const TAGS_INVALID = 1;
/** Some tag times are not known here (or not trusted): read them from Redis ({@link TagCheck.confirm}). */
export const TAGS_UNKNOWN = 2;
/** One of {@link TAGS_VALID}, {@link TAGS_INVALID}, {@link TAGS_UNKNOWN}. */
export type TagVerdict = typeof TAGS_VALID | typeof TAGS_INVALID | typeof TAGS_UNKNOWN;

/**
 * Judges entries read from L2 against this key space's tag invalidation times: from memory
 * ({@link TagTimes}, fed by this instance's invalidations and the bus) while the bus is up,
 * from Redis (`<base>t:<tag>`, one MGET) for tags never seen, or for every tag while the bus is
 * down (remembered times cannot be trusted without it). L1 entries are judged by the L1 layer
 * against the same {@link TagTimes}.
 */
export class TagCheck {
  readonly times: TagTimes;
  private readonly state: CacheState;
  private readonly l2: L2 | undefined;
  private readonly keys: SpaceKeys;

  constructor(setup: { maxTrackedTags: number; state: CacheState; l2: L2 | undefined; keys: SpaceKeys }) {
    this.times = new TagTimes(setup.maxTrackedTags);
    this.state = setup.state;
    this.l2 = setup.l2;
    this.keys = setup.keys;
  }

  /** Judges `envelope` from memory alone (synchronous; most reads end here). */
  judge(envelope: Envelope): TagVerdict {
    const tags = envelope[TAGS];
    if (tags === 0) return TAGS_VALID;
    if (!this.trusted()) return TAGS_UNKNOWN;
    const createdAt = createdAtOf(envelope);
    let allKnown = true;
    for (const tag of tags) {
      const known = this.times.get(tag);
      if (known === undefined) allKnown = false;
      else if (known >= createdAt) return TAGS_INVALID;
    }
    return allKnown ? TAGS_VALID : TAGS_UNKNOWN;
  }

  /**
   * Judges `envelope` after {@link TagCheck.judge} said {@link TAGS_UNKNOWN}: the tag times not
   * known (or not trusted) are read from Redis in one MGET and remembered. Resolves with the
   * envelope, or `undefined` when a tag was invalidated after it or the MGET failed (an entry
   * that cannot be verified is a miss, never a value that may be invalid).
   */
  async confirm(envelope: Envelope): Promise<Envelope | undefined> {
    const tags = envelope[TAGS] as string[];
    const createdAt = createdAtOf(envelope);
    const trusted = this.trusted();
    let unknown: string[] | undefined;
    for (const tag of tags) {
      const known = trusted ? this.times.get(tag) : undefined;
      if (known === undefined) (unknown ??= []).push(tag);
      else if (known >= createdAt) return undefined;
    }
    const l2 = this.l2;
    if (unknown === undefined || l2 === undefined) return envelope;
    const times = await l2.mget(unknown.map((tag) => this.keys.tag(tag)));
    if (times === FAIL) return undefined;
    let valid = true;
    for (let i = 0; i < unknown.length; i++) {
      const raw = times[i];
      const at = raw === null || raw === undefined ? 0 : Number(raw);
      this.times.set(unknown[i] as string, Number.isFinite(at) ? at : 0);
      if (at >= createdAt) valid = false;
    }
    return valid ? envelope : undefined;
  }

  /** True when remembered tag times can be trusted: the bus is up, so no invalidation was missed. */
  private trusted(): boolean {
    return this.state.hasBus && !this.state.busDown;
  }
}
