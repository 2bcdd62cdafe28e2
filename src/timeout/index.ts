/**
 * `headroom/timeout`: deadlines that abort the work, name the operation, and never leak a timer.
 *
 * @packageDocumentation
 */
export { withTimeout, type Operation, type WithTimeoutOptions } from './with-timeout.js';
export { TimeoutError } from './timeout-error.js';
export { HeadroomError, isHeadroomError, ErrorCode, type Duration } from '../core/index.js';
