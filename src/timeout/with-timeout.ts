import { functionArgument, invalidArgument, objectArgument, parseDuration, type Duration } from '../core/index.js';
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

/**
 * Bounds `operation` by a deadline.
 *
 * On expiry the operation's signal is aborted and the call rejects with a {@link TimeoutError}
 * (`OPERATION_TIMEOUT`, status 504), or resolves with `fallback` when one is given. A parent
 * `signal` that aborts first rejects with its reason. No timer or listener outlives the call.
 *
 * @param operation - a promise, or `(signal) => promise`; pass the signal on to the work
 *   (fetch, pg, ioredis...) so that expiry really stops it.
 * @param timeout - a {@link Duration}: ms, or `'250ms'`, `'5s'`...
 * @param nameOrOptions - the operation's name, or {@link WithTimeoutOptions}.
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
  if (typeof nameOrOptions === 'string') {
    name = nameOrOptions;
  } else if (nameOrOptions !== undefined) {
    objectArgument(nameOrOptions, 'options');
    options = nameOrOptions;
    name = options.name;
  }
  const parent = options?.signal;
  if (parent !== undefined && !(parent instanceof AbortSignal)) throw invalidArgument('options.signal', 'an AbortSignal', parent);

  const isFunction = typeof operation === 'function';
  if (!isFunction) {
    if (operation === null || typeof operation !== 'object' || typeof (operation as PromiseLike<T>).then !== 'function') {
      throw invalidArgument('operation', 'a promise or a function (signal) => promise', operation);
    }
  } else {
    functionArgument(operation, 'operation');
  }

  return new Promise<T>((resolve, reject) => {
    const controller = isFunction ? new AbortController() : undefined;
    let settled = false;
    const finish = (): void => {
      settled = true;
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    };
    const onParentAbort = (): void => {
      if (settled) return;
      finish();
      controller?.abort(parent?.reason);
      reject(parent?.reason);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      finish();
      const error = new TimeoutError(timeoutMs, name);
      controller?.abort(error);
      if (options !== undefined && 'fallback' in options) {
        const fallback = options.fallback;
        try {
          resolve(typeof fallback === 'function' ? (fallback as (e: TimeoutError) => T | PromiseLike<T>)(error) : (fallback as T));
        } catch (err) {
          reject(err);
        }
      } else {
        reject(error);
      }
    }, timeoutMs);

    if (parent !== undefined) {
      if (parent.aborted) {
        onParentAbort();
        return;
      }
      parent.addEventListener('abort', onParentAbort, { once: true });
    }

    let pending: PromiseLike<T> | T;
    try {
      pending = isFunction ? (operation as (signal: AbortSignal) => PromiseLike<T> | T)(controller!.signal) : operation;
    } catch (err) {
      finish();
      reject(err);
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        if (settled) return;
        finish();
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        finish();
        reject(err);
      },
    );
  });
}
