import { DeadlineCall, promiseWithSettlers, invalidArgument, parseDuration, type Duration } from '../core/index.js';
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
 * One bounded call: core's {@link DeadlineCall} (its own deadline node and `abort` listener,
 * with a signal made only for function operations), plus the fallback.
 */
class TimeoutCall extends DeadlineCall {
  constructor(
    timeoutMs: number,
    readonly name: string | undefined,
    readonly options: WithTimeoutOptions<unknown> | undefined,
    parent: AbortSignal | undefined,
  ) {
    super(timeoutMs, parent);
  }

  protected expired(): void {
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
    this.abort(error);
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
 * const rows = await withTimeout(db.query('SELECT * FROM scenario'), 5000, 'scenario_list');
 * const body = await withTimeout((signal) => fetch(url, { signal }).then((r) => r.json()), '2s', {
 *   name: 'pricing_api',
 *   fallback: () => lastKnownPrices,
 * });
 * ```
 */
export function withTimeout<T>(operation: Operation<T>, timeout: Duration, nameOrOptions?: string | WithTimeoutOptions<T>): Promise<T> {
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
  if (operation === null || typeof operation !== 'object' || typeof operation.then !== 'function') {
    throw invalidArgument('operation', 'a promise or a function (signal) => promise', operation);
  }

  const promise = promiseWithSettlers<T>();
  const call = new TimeoutCall(timeoutMs, name, options, parent);
  if (parent !== undefined && parent.aborted) {
    call.done = true;
    call.reject(parent.reason);
    // The operation may still reject later; nobody would be listening.
    operation.then(undefined, noop);
    return promise;
  }
  call.arm();
  call.follow(operation);
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
  const promise = promiseWithSettlers<T>();
  const call = new TimeoutCall(timeoutMs, name, options, parent);
  call.arm();
  let pending: PromiseLike<T> | T;
  try {
    pending = operation(call.signal);
  } catch (err) {
    call.fail(err);
    return promise;
  }
  call.follow(pending);
  return promise;
}
