import {
  armDeadline,
  disarmDeadline,
  invalidArgument,
  parseDuration,
  type DeadlineList,
  type DeadlineNode,
  type Duration,
  closureFreePromise,
  settlers,
  type Settle,
} from '../core/index.js';
import { TimeoutError } from './timeout-error.js';

/** Work that `withTimeout` can bound: a promise, or a function that receives an AbortSignal. */
export type Operation<T> = PromiseLike<T> | ((signal: AbortSignal) => PromiseLike<T> | T);

/** Options for {@link withTimeout}. */
export interface WithTimeoutOptions<T> {
  /** The operation's name, carried by the {@link TimeoutError} and its message. */
  name?: string;
  /** A parent signal: when it aborts first, the call rejects with its reason and the work is aborted. */
  signal?: AbortSignal;
  /**
   * Resolve with this instead of rejecting on expiry: a value, or a function of the
   * {@link TimeoutError} returning the value (or a promise of it).
   */
  fallback?: T | ((error: TimeoutError) => T | PromiseLike<T>);
}

function noop(): void {}

/**
 * One bounded call. It is its own deadline node (no timer of its own) and its own `abort`
 * listener (`handleEvent`), so the only per-call allocations are this object, the returned
 * promise and the two callbacks attached to the operation.
 */
class TimeoutCall implements DeadlineNode {
  deadlineAt = 0;
  deadlinePrev: DeadlineNode | null = null;
  deadlineNext: DeadlineNode | null = null;
  deadlineList: DeadlineList | null = null;
  done = false;
  readonly resolve: Settle;
  readonly reject: Settle;

  constructor(
    readonly timeoutMs: number,
    readonly name: string | undefined,
    readonly options: WithTimeoutOptions<unknown> | undefined,
    readonly parent: AbortSignal | undefined,
    readonly controller: AbortController | undefined,
  ) {
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
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

  onDeadline(): void {
    if (this.done) return;
    this.done = true;
    if (this.parent !== undefined) this.parent.removeEventListener('abort', this);
    const error = new TimeoutError(this.timeoutMs, this.name);
    // Settle before aborting: abort listeners run synchronously and may throw.
    const options = this.options;
    if (options !== undefined && 'fallback' in options) {
      const fallback = options.fallback;
      if (typeof fallback === 'function') {
        try {
          this.resolve((fallback as (e: TimeoutError) => unknown)(error));
        } catch (err) {
          this.reject(err);
        }
      } else {
        this.resolve(fallback);
      }
    } else {
      this.reject(error);
    }
    this.controller?.abort(error);
  }

  /** The parent signal's `abort` listener. */
  handleEvent(): void {
    if (this.done) return;
    this.finish();
    const reason: unknown = (this.parent as AbortSignal).reason;
    this.reject(reason);
    this.controller?.abort(reason);
  }

  private finish(): void {
    this.done = true;
    disarmDeadline(this);
    if (this.parent !== undefined) this.parent.removeEventListener('abort', this);
  }
}

/**
 * Bounds `operation` by a deadline.
 *
 * On expiry the operation's signal is aborted and the call rejects with a {@link TimeoutError}
 * (`OPERATION_TIMEOUT`, status 504), or resolves with `fallback` when one is given. A parent
 * `signal` that aborts first rejects with its reason and aborts the work. When the operation
 * settles first, its deadline and the listener on the parent signal are removed at once.
 *
 * Deadlines share one timer (per-duration lists, as in Node's own timers), so a call costs no
 * `setTimeout`/`clearTimeout` pair. A pending call keeps the process alive until its deadline,
 * so its caller always gets an answer; a settled call leaves nothing behind (the shared timer is
 * unref'd once no call is pending). A deadline fires on time or 1-2 ms late, never early.
 * Passing a function costs an `AbortController` (about 2 µs on Node 20); pass a promise when
 * the work cannot be cancelled anyway.
 *
 * @param operation - a promise, or `(signal) => promise`; pass the signal on to the work
 *   (fetch, pg, ioredis...) so that expiry really stops it.
 * @param timeout - a {@link Duration}: ms, or `'250ms'`, `'5s'`...
 * @param nameOrOptions - the operation's name, or {@link WithTimeoutOptions}.
 * @throws InvalidArgumentError (`INVALID_ARGUMENT`), synchronously, for a bad `operation`,
 *   `timeout` or option.
 * @example
 * ```ts
 * const rows = await withTimeout(prisma.scenario.findMany(), 5000, 'scenario_list');
 * const body = await withTimeout((signal) => fetch(url, { signal }).then((r) => r.json()), '2s', {
 *   name: 'pricing_api',
 *   fallback: () => cachedPrices,
 * });
 * ```
 */
export function withTimeout<T>(
  operation: Operation<T>,
  timeout: Duration,
  nameOrOptions?: string | WithTimeoutOptions<T>,
): Promise<T> {
  const timeoutMs = parseDuration(timeout, 'timeout');
  let options: WithTimeoutOptions<T> | undefined;
  let name: string | undefined;
  let parent: AbortSignal | undefined;
  if (typeof nameOrOptions === 'string') {
    name = nameOrOptions;
  } else if (nameOrOptions !== undefined) {
    if (typeof nameOrOptions !== 'object' || nameOrOptions === null || Array.isArray(nameOrOptions)) {
      throw invalidArgument('options', 'a name or an options object', nameOrOptions);
    }
    options = nameOrOptions;
    name = options.name;
    if (name !== undefined && typeof name !== 'string') throw invalidArgument('options.name', 'a string', name);
    parent = options.signal;
    if (parent !== undefined && !(parent instanceof AbortSignal)) {
      throw invalidArgument('options.signal', 'an AbortSignal', parent);
    }
  }

  if (typeof operation === 'function') return runFunction(operation, timeoutMs, name, options, parent);
  if (operation === null || typeof operation !== 'object' || typeof (operation as PromiseLike<T>).then !== 'function') {
    throw invalidArgument('operation', 'a promise or a function (signal) => promise', operation);
  }

  const promise = closureFreePromise<T>();
  const call = new TimeoutCall(timeoutMs, name, options as WithTimeoutOptions<unknown> | undefined, parent, undefined);
  if (parent !== undefined && parent.aborted) {
    call.done = true;
    call.reject(parent.reason);
    // The operation may still reject later; nobody would be listening.
    operation.then(undefined, noop);
    return promise;
  }
  armDeadline(call, timeoutMs);
  if (parent !== undefined) parent.addEventListener('abort', call);
  try {
    operation.then(
      (value) => call.fulfil(value),
      (error: unknown) => call.fail(error),
    );
  } catch (err) {
    // A hand-written thenable whose then() throws.
    call.fail(err);
  }
  return promise;
}

function runFunction<T>(
  operation: (signal: AbortSignal) => PromiseLike<T> | T,
  timeoutMs: number,
  name: string | undefined,
  options: WithTimeoutOptions<T> | undefined,
  parent: AbortSignal | undefined,
): Promise<T> {
  if (parent !== undefined && parent.aborted) return Promise.reject(parent.reason);
  const controller = new AbortController();
  const promise = closureFreePromise<T>();
  const call = new TimeoutCall(timeoutMs, name, options as WithTimeoutOptions<unknown> | undefined, parent, controller);
  armDeadline(call, timeoutMs);
  if (parent !== undefined) parent.addEventListener('abort', call);
  try {
    const pending = operation(controller.signal);
    if (isThenable(pending)) {
      pending.then(
        (value) => call.fulfil(value),
        (error: unknown) => call.fail(error),
      );
    } else {
      call.fulfil(pending);
    }
  } catch (err) {
    call.fail(err);
  }
  return promise;
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<T>).then === 'function'
  );
}
