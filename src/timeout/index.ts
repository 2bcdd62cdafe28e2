/**
 * Deadlines for any promise or cancellable operation. On expiry the work's `AbortSignal` is
 * aborted (pass it to `fetch`, `pg`, ioredis... so the work really stops) and the call rejects
 * with a {@link TimeoutError} naming the operation, or resolves with a `fallback`. Deadlines share
 * one timer, so bounding a call is cheap, and nothing (timer or listener) outlives a settled call.
 *
 * @example
 * ```ts
 * import { withTimeout, TimeoutError } from 'headroom/timeout';
 *
 * try {
 *   const prices = await withTimeout(
 *     (signal) => fetch('https://pricing.internal/v1/prices', { signal }).then((r) => r.json()),
 *     '800ms',
 *     'pricing_api',
 *   );
 * } catch (err) {
 *   if (!(err instanceof TimeoutError)) throw err;
 *   console.warn(`${err.operation} took over ${err.timeoutMs} ms`); // code 'OPERATION_TIMEOUT', status 504
 * }
 * ```
 *
 * @packageDocumentation
 */
export { withTimeout, type Operation, type WithTimeoutOptions } from './with-timeout.js';
export { TimeoutError } from './timeout-error.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
