/**
 * Rate-limits one kind of event for one subject (the `slow` event of a key, the `budget` event of
 * a key and metric): at most one per cooldown, and the next one let through says how many were
 * held back meanwhile.
 *
 * @internal
 */
export class Cooldown {
  private lastAt = -Infinity;
  private held = 0;

  /**
   * Whether an event at `now` may go out: -1 when it is held back (and counted), else how many
   * were held back since the last one that went out.
   */
  pass(now: number, cooldownMs: number): number {
    if (now - this.lastAt < cooldownMs) {
      this.held++;
      return -1;
    }
    const held = this.held;
    this.lastAt = now;
    this.held = 0;
    return held;
  }
}
