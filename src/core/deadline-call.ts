import { armDeadline, disarmDeadline, type DeadlineList, type DeadlineNode } from './deadline-timer.js';
import { settlers, type Settle } from './settlers.js';

/**
 * An `AbortController` made only when its signal is read. Until then `abort(reason)` only records
 * the reason, and a signal read afterwards is aborted already. Work that never looks at its signal
 * (a promise that cannot be cancelled anyway) then costs no controller: about 4 us on Node 20.
 *
 * @internal
 */
export class LazyAbortController {
  private controller: AbortController | undefined = undefined;
  private reason: unknown = undefined;
  /** True once {@link LazyAbortController.abort} was called. */
  aborted = false;

  /** The signal; made on first read. */
  get signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      if (this.aborted) controller.abort(this.reason);
    }
    return controller.signal;
  }

  /** Aborts the signal with `reason` (once). Its listeners run now: settle what they may observe first. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/**
 * One call bounded by a deadline on the shared timer and by an optional parent signal, with a
 * lazy signal for the work: the common core of `withTimeout` and the resilience module's
 * `TimeoutPolicy`. The call is its own deadline node and its own `abort` listener
 * (`handleEvent`), so bounding work allocates this object, the promise it settles and the two
 * callbacks attached to the work.
 *
 * Make the promise with `closureFreePromise()` right before constructing the call (it takes the
 * resolving functions from `settlers`), then {@link DeadlineCall.start}.
 *
 * @internal
 */
export abstract class DeadlineCall extends LazyAbortController implements DeadlineNode {
  deadlineAt = 0;
  deadlinePrev: DeadlineNode | null = null;
  deadlineNext: DeadlineNode | null = null;
  deadlineList: DeadlineList | null = null;
  /** Settled, one way or another. */
  done = false;
  readonly resolve: Settle;
  readonly reject: Settle;

  constructor(
    /** The deadline in milliseconds. */
    readonly timeoutMs: number,
    /** The parent signal the call follows, if any. */
    readonly parent: AbortSignal | undefined,
  ) {
    super();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
  }

  /** Arms the deadline and listens to the parent; call once, before the work starts. */
  arm(): void {
    armDeadline(this, this.timeoutMs);
    if (this.parent !== undefined) this.parent.addEventListener('abort', this);
  }

  /** Settles with the outcome of `pending`: a promise (or thenable), or a plain value. */
  follow(pending: unknown): void {
    if (pending !== null && (typeof pending === 'object' || typeof pending === 'function') && typeof (pending as PromiseLike<unknown>).then === 'function') {
      try {
        (pending as PromiseLike<unknown>).then(
          (value) => this.fulfil(value),
          (error: unknown) => this.fail(error),
        );
      } catch (error) {
        // A hand-written thenable whose then() throws.
        this.fail(error);
      }
    } else {
      this.fulfil(pending);
    }
  }

  fulfil(value: unknown): void {
    if (this.done) return;
    this.finish();
    this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.done) return;
    this.finish();
    this.reject(error);
  }

  /** Deadline timer callback. */
  onDeadline(): void {
    if (this.done) return;
    this.done = true;
    if (this.parent !== undefined) this.parent.removeEventListener('abort', this);
    this.expired();
  }

  /** The parent signal's `abort` listener: reject with its reason, then abort the work. */
  handleEvent(): void {
    if (this.done) return;
    this.finish();
    const reason: unknown = (this.parent as AbortSignal).reason;
    this.reject(reason);
    this.abort(reason);
  }

  /** The deadline passed (the call is done, listener removed): settle, then abort the work. */
  protected abstract expired(): void;

  private finish(): void {
    this.done = true;
    disarmDeadline(this);
    if (this.parent !== undefined) this.parent.removeEventListener('abort', this);
  }
}
