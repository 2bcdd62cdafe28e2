import { armDeadline, disarmDeadline, type DeadlineList, type DeadlineNode } from './deadline-timer.js';

/**
 * The base of everything that waits for a deadline on headroom's shared timer: the list fields
 * the timer maintains, and arming and disarming in O(1) with no allocation. A subclass says what
 * happens when the time comes ({@link Deadline.onDeadline}); `withTimeout` calls, queued tasks,
 * request deadlines, Redis calls and the cache's soft timeouts are all one.
 *
 * @internal
 */
export abstract class Deadline implements DeadlineNode {
  deadlineAt = 0;
  deadlinePrev: DeadlineNode | null = null;
  deadlineNext: DeadlineNode | null = null;
  deadlineList: DeadlineList | null = null;

  /** True while armed: the deadline has neither passed nor been disarmed. */
  get deadlineArmed(): boolean {
    return this.deadlineList !== null;
  }

  /**
   * Arms the deadline for `timeoutMs` from `from` (default: now, on the timer's clock; pass a
   * reading the caller already has). Must not be armed already.
   */
  armDeadline(timeoutMs: number, from?: number): void {
    armDeadline(this, timeoutMs, from);
  }

  /** Disarms the deadline if it is armed; a no-op otherwise. */
  disarmDeadline(): void {
    disarmDeadline(this);
  }

  /** Called once when the deadline passes while armed (already disarmed then); must not throw. */
  abstract onDeadline(): void;
}
