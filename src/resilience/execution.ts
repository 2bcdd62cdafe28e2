import { settlers, type Settle } from '../core/index.js';

/**
 * One `execute` of a policy that waits on timers (a retry's backoff, a hedge's delay): the promise
 * it settles once, its timer, and its listener on the caller's signal, all let go of on settling.
 * It is the caller's `abort` listener itself (`handleEvent`), so listening allocates nothing.
 *
 * Make the promise with `promiseWithSettlers()` right before constructing it.
 *
 * @internal
 */
export abstract class Execution {
  readonly resolve: Settle;
  readonly reject: Settle;
  /** Settled, one way or another. */
  done = false;
  /** The timer the execution waits on, if any; cleared on settling. */
  timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    /** The caller's signal, when something can abort it. */
    readonly parentSignal: AbortSignal | undefined,
  ) {
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
    if (parentSignal !== undefined) parentSignal.addEventListener('abort', this);
  }

  /** Resolves with `value`, letting go of the timer and the listener. */
  succeed(value: unknown): void {
    if (this.done) return;
    this.finish();
    this.resolve(value);
  }

  /** Rejects with `error`, letting go of the timer and the listener. */
  failWith(error: unknown): void {
    if (this.done) return;
    this.finish();
    this.reject(error);
  }

  /** The caller's signal aborted: reject with its reason (at once), then abort the attempts. */
  handleEvent(): void {
    if (this.done) return;
    const reason: unknown = (this.parentSignal as AbortSignal).reason;
    this.failWith(reason);
    this.abortAttempts(reason);
  }

  /** Aborts whatever attempts are running, with `reason`; the execution is settled already. */
  protected abstract abortAttempts(reason: unknown): void;

  protected finish(): void {
    this.done = true;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.parentSignal !== undefined) this.parentSignal.removeEventListener('abort', this);
  }
}
