import { coarseNow } from './clock.js';
import type { BreakerState } from './types.js';

/**
 * The L2 circuit breaker: `threshold` consecutive failures open it for `cooldownMs`; then one call
 * is let through (half-open). Its success closes the breaker, its failure opens it again.
 * Results of calls started before the breaker opened are ignored while it is open.
 */
export class Breaker {
  state: BreakerState = 'closed';
  opened = 0;
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly onDown: (error: unknown) => void,
    private readonly onUp: () => void,
  ) {}

  /** True when a call may go to L2 now. In half-open state, only the probe gets a yes. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open' && coarseNow() >= this.openUntil) {
      this.state = 'half-open';
      return true;
    }
    return false;
  }

  success(): void {
    if (this.state === 'closed') {
      this.failures = 0;
    } else if (this.state === 'half-open') {
      this.state = 'closed';
      this.failures = 0;
      this.onUp();
    }
  }

  failure(error: unknown): void {
    if (this.state === 'open') return;
    if (this.state === 'half-open' || ++this.failures >= this.threshold) {
      this.state = 'open';
      this.openUntil = Date.now() + this.cooldownMs;
      this.opened++;
      this.onDown(error);
    }
  }
}
