import { brandError, ErrorCode, HeadroomError } from '../core/index.js';

/**
 * Thrown (as a rejection of `execute`) when a {@link CircuitBreaker} refuses a call without
 * trying it: it is open, isolated, or half-open with its trial calls already out. `code` is
 * `CIRCUIT_OPEN`, `status` 503, and `retryAfterMs` the time left in the cooldown (at least 1;
 * `undefined` while isolated, which lasts until `reset()`).
 *
 * Refusing is the breaker's hot path under an outage, so the error is built without a stack
 * trace: the cause is the dependency, not the code that called it.
 *
 * @example
 * ```ts
 * app.get('/quote', async (req, res) => {
 *   try {
 *     res.json(await breaker.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json())));
 *   } catch (err) {
 *     if (!(err instanceof BrokenCircuitError)) throw err;
 *     res.status(503).set('retry-after', String(Math.ceil((err.retryAfterMs ?? 1000) / 1000))).end();
 *   }
 * });
 * ```
 */
export class BrokenCircuitError extends HeadroomError {
  static {
    brandError(this, 'BrokenCircuitError');
  }

  /** The breaker's name. */
  readonly breaker: string;
  /** The breaker's state when it refused: `'open'`, `'half-open'` or `'isolated'`. */
  readonly state: 'open' | 'half-open' | 'isolated';

  constructor(breaker: string, state: 'open' | 'half-open' | 'isolated', retryAfterMs: number | undefined) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        ErrorCode.CIRCUIT_OPEN,
        retryAfterMs === undefined ? `headroom: circuit "${breaker}" is ${state}` : `headroom: circuit "${breaker}" is ${state}; retry in ${retryAfterMs} ms`,
        { status: 503, retryAfterMs },
      );
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'BrokenCircuitError';
    this.breaker = breaker;
    this.state = state;
  }
}
