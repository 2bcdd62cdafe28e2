import { invalidArgument } from '../core/index.js';
import type { BucketLayout } from './bucket-layout.js';
import type { Cooldown } from './cooldown.js';
import { type HotInterval, MomentFields, type Snapshot, mergeSnapshots, takeSnapshot } from './snapshot.js';
import type { Accumulator, RequestOutcome } from './stats.js';
import type { Level } from './tracker-options.js';

/** The dense array of a key with no live interval: shared, never written. */
export const NO_COUNTS = new Uint16Array(0);
/** A 16-bit dense slot wraps here; the excess goes to {@link HotInterval.carry}. */
const WRAP = 0x10000;

/** The closed intervals of one window for one key: a ring indexed by interval epoch. */
class Ring {
  /** Epoch (in this window's intervals) of each slot's snapshot; -1 when empty. */
  readonly epochs: Float64Array;
  readonly snapshots: (Snapshot | null)[];

  constructor(slots: number) {
    this.epochs = new Float64Array(slots).fill(-1);
    this.snapshots = new Array<Snapshot | null>(slots).fill(null);
  }
}

/**
 * Everything tracked for one key: its live interval (a dense HdrHistogram counts array plus
 * exact moments, what `record()` writes) and, per window, a ring of closed intervals stored
 * sparse. Lifetime totals feed the Prometheus counters.
 *
 * @internal
 */
export class Series extends MomentFields implements HotInterval {
  counts: Uint16Array = NO_COUNTS;
  carry: Map<number, number> | null = null;
  /** Epoch (in smallest-window intervals) of the live interval, or -1 when there is none. */
  hotEpoch = -1;
  totalCount = 0;
  totalSum = 0;
  totalErrors = 0;
  totalShed = 0;
  totalTimedOut = 0;
  totalClientGone = 0;
  /** Rate limit of this key's `slow` event, made at its first slow value. */
  slowCooldown: Cooldown | null = null;
  private readonly rings: Ring[];

  constructor(
    readonly key: string,
    levels: readonly Level[],
  ) {
    super();
    this.rings = levels.map((level) => new Ring(level.slots));
  }

  /** Whether the live interval holds anything (a value, or an outcome counted apart). */
  holdsData(): boolean {
    return this.count > 0 || this.shed > 0 || this.timedOut > 0 || this.clientGone > 0;
  }

  /** Counts an outcome that stays out of the percentiles; false for `served` and `error`. */
  countApart(outcome: RequestOutcome): boolean {
    switch (outcome) {
      case 'served':
      case 'error':
        return false;
      case 'shed':
        this.shed++;
        return true;
      case 'timed_out':
        this.timedOut++;
        return true;
      case 'client_gone':
        this.clientGone++;
        return true;
      default:
        throw invalidArgument('options.outcome', "one of 'served', 'error', 'shed', 'timed_out', 'client_gone'", outcome);
    }
  }

  /** Adds one value of `us` microseconds at counts slot `slot`. */
  add(slot: number, us: number, error: boolean): void {
    const count = (this.counts[slot] as number) + 1;
    this.counts[slot] = count;
    if (count === WRAP) {
      // The 16-bit slot just wrapped to 0: keep the 65,536 values aside.
      this.carry ??= new Map();
      this.carry.set(slot, (this.carry.get(slot) ?? 0) + WRAP);
    }
    this.count++;
    this.sum += us;
    this.sumSq += us * us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
    if (error) this.errors++;
  }

  /** Closes the live interval into the rings (sparse, once per window) and the lifetime totals. */
  closeInterval(levels: readonly Level[], layout: BucketLayout): void {
    const epoch = this.hotEpoch;
    const snapshot = this.count > 0 ? takeSnapshot(this, layout.index(this.min), layout.index(this.max)) : takeSnapshot(this, 0, -1);
    for (let at = 0; at < levels.length; at++) {
      const level = levels[at] as Level;
      const ring = this.rings[at] as Ring;
      const levelEpoch = Math.floor(epoch / level.factor);
      const slot = levelEpoch % level.slots;
      const existing = ring.snapshots[slot];
      if (ring.epochs[slot] === levelEpoch && existing !== null && existing !== undefined) {
        ring.snapshots[slot] = mergeSnapshots(existing, snapshot);
      } else {
        ring.epochs[slot] = levelEpoch;
        ring.snapshots[slot] = snapshot;
      }
    }
    this.totalCount += this.count;
    this.totalSum += this.sum;
    this.totalErrors += this.errors;
    this.totalShed += this.shed;
    this.totalTimedOut += this.timedOut;
    this.totalClientGone += this.clientGone;
    this.clearMoments();
    this.hotEpoch = -1;
  }

  /** Empties ring slots that fell out of their window at `epoch`; false when nothing is left in any. */
  dropExpired(levels: readonly Level[], epoch: number): boolean {
    let live = false;
    for (let at = 0; at < levels.length; at++) {
      const level = levels[at] as Level;
      const ring = this.rings[at] as Ring;
      const oldest = Math.floor(epoch / level.factor) - level.slots;
      for (let slot = 0; slot < level.slots; slot++) {
        if (ring.snapshots[slot] === null) continue;
        if ((ring.epochs[slot] as number) <= oldest) ring.snapshots[slot] = null;
        else live = true;
      }
    }
    return live;
  }

  /** Adds the closed intervals inside window `levels[at]` at `epoch`, and the live one, to `acc`. */
  gather(acc: Accumulator, at: number, level: Level, epoch: number): void {
    const ring = this.rings[at] as Ring;
    const current = Math.floor(epoch / level.factor);
    const oldest = current - level.slots;
    for (let slot = 0; slot < level.slots; slot++) {
      const snapshot = ring.snapshots[slot];
      const slotEpoch = ring.epochs[slot] as number;
      if (snapshot !== null && snapshot !== undefined && slotEpoch > oldest && slotEpoch <= current) acc.addSnapshot(snapshot);
    }
    if (this.holdsData()) acc.addHot(this);
  }

  /** A (conservatively high) estimate of the bytes this key holds. */
  get footprint(): number {
    let bytes = 256 + this.counts.byteLength + (this.carry === null ? 0 : 64 + this.carry.size * 32);
    for (const ring of this.rings) {
      bytes += ring.epochs.byteLength + ring.snapshots.length * 8;
      for (const snapshot of ring.snapshots) if (snapshot !== null) bytes += snapshot.footprint;
    }
    return bytes;
  }
}
