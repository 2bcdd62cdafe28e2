import { brandError, ErrorCode, HeadroomError } from '../core/index.js';

/**
 * Thrown (or passed to `fallback`) when an operation runs past its deadline.
 * `code` is `OPERATION_TIMEOUT` and `status` 504.
 *
 * @example
 * ```ts
 * try {
 *   await withTimeout((signal) => users.find(id, { signal }), '2s', 'find_user');
 * } catch (err) {
 *   if (err instanceof TimeoutError) log.warn(`${err.operation} took over ${err.timeoutMs} ms`);
 * }
 * ```
 */
export class TimeoutError extends HeadroomError {
  static {
    brandError(this, 'TimeoutError');
  }

  /** The operation's name, when one was given. */
  readonly operation: string | undefined;
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, operation?: string) {
    super(
      ErrorCode.OPERATION_TIMEOUT,
      operation === undefined ? `headroom: operation timed out after ${timeoutMs} ms` : `headroom: ${operation} timed out after ${timeoutMs} ms`,
      { status: 504 },
    );
    this.name = 'TimeoutError';
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}
