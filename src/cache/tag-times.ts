/**
 * Tag invalidation times known to this instance, bounded. When a tag is evicted its time is
 * folded into `horizon`: an L1 entry carrying a tag no longer tracked is judged against the
 * latest evicted time, which can only make it a miss too early, never serve it too late.
 */
export class TagTimes {
  /** Bumped whenever a tag's time moves forward: L1 entries checked at an older epoch are re-checked. */
  epoch = 0;
  horizon = 0;
  private readonly times = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** The known time of `tag`, or `undefined`. */
  get(tag: string): number | undefined {
    return this.times.get(tag);
  }

  /** For L1 entries: the known time, else the horizon. */
  timeOrHorizon(tag: string): number {
    const time = this.times.get(tag);
    return time === undefined ? this.horizon : time;
  }

  /**
   * Records that `tag` was invalidated at `time` (keeps the later of the known and new time).
   * A tag not tracked may have been evicted with a later time than `time` (bus messages from two
   * instances can arrive out of order), so it is never recorded below the horizon.
   */
  set(tag: string, time: number): void {
    const previous = this.times.get(tag);
    if (previous !== undefined) {
      if (previous >= time) return;
      this.times.delete(tag);
    } else if (time < this.horizon) {
      time = this.horizon;
    }
    this.times.set(tag, time);
    if (time > 0) this.epoch++;
    if (this.times.size > this.max) {
      const oldest = this.times.keys().next().value as string;
      const evicted = this.times.get(oldest) as number;
      this.times.delete(oldest);
      if (evicted > this.horizon) {
        this.horizon = evicted;
        this.epoch++;
      }
    }
  }

  /** Forgets everything (the bus was down: times may be missing). */
  clear(): void {
    this.times.clear();
    this.horizon = 0;
    this.epoch++;
  }
}
