/** Weight of the newest run time in the moving average behind `retryAfterMs`. */
const EWMA_ALPHA = 0.2;

/** A queue's running totals and timings, kept in one object; `TaskQueue.stats()` reports them. */
export class QueueCounters {
  added = 0;
  completed = 0;
  failed = 0;
  rejected = 0;
  cancelled = 0;
  timedOut = 0;
  overrunning = 0;
  started = 0;
  waitSumMs = 0;
  waitMaxMs = 0;
  settled = 0;
  runSumMs = 0;
  runMaxMs = 0;
  /** Exponentially weighted run time; `NaN` until a task settled. */
  recentRunMs = Number.NaN;

  /** A task got a slot after waiting `waitMs` (0 when it ran at once). */
  recordStart(waitMs: number): void {
    this.started++;
    this.waitSumMs += waitMs;
    if (waitMs > this.waitMaxMs) this.waitMaxMs = waitMs;
  }

  /** A task settled after running `runMs`. */
  recordRun(runMs: number): void {
    this.settled++;
    this.runSumMs += runMs;
    if (runMs > this.runMaxMs) this.runMaxMs = runMs;
    const recent = this.recentRunMs;
    this.recentRunMs = Number.isNaN(recent) ? runMs : recent + (runMs - recent) * EWMA_ALPHA;
  }
}
