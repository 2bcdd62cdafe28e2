import { invalidArgument, numberOption, objectArgument, parseDuration, type Duration } from '../core/index.js';

/** How a {@link RetryPolicy} spreads its waits. */
export type Jitter = 'full' | 'decorrelated' | 'none';

/** The waits between attempts of a {@link RetryPolicy}. */
export interface BackoffOptions {
  /** The first wait, before the second attempt (its ceiling, with jitter). Default `'100ms'`. */
  initial?: Duration;
  /** The longest wait between two attempts. Default `'10s'` (or `initial`, if longer). */
  max?: Duration;
  /** How much each wait's ceiling grows over the previous one. Default `2`. */
  factor?: number;
  /**
   * `'full'` (default): a random wait between 0 and `initial x factor^(n-1)` (capped at `max`),
   * so callers that failed together do not come back together. `'decorrelated'`: a random wait
   * between `initial` and three times the previous wait (capped at `max`), which keeps waits
   * from collapsing to near 0. `'none'`: exactly `initial x factor^(n-1)`, capped.
   */
  jitter?: Jitter;
}

const JITTERS: readonly Jitter[] = ['full', 'decorrelated', 'none'];

/**
 * Exponential backoff, read and checked once. `delay` is a pure function of the attempt that
 * failed, the previous wait and a random number in [0, 1).
 *
 * @internal
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: Jitter;

  constructor(options: BackoffOptions | undefined) {
    objectArgument(options, 'backoff');
    this.initialMs = options?.initial === undefined ? 100 : parseDuration(options.initial, 'backoff.initial');
    this.maxMs = options?.max === undefined ? Math.max(10_000, this.initialMs) : parseDuration(options.max, 'backoff.max');
    if (this.maxMs < this.initialMs) throw invalidArgument('backoff.max', `at least backoff.initial (${this.initialMs} ms)`, options?.max);
    this.factor = numberOption(options?.factor, 'backoff.factor', 2, { min: 1, max: 1000 });
    const jitter = options?.jitter ?? 'full';
    if (!JITTERS.includes(jitter)) throw invalidArgument('backoff.jitter', '"full", "decorrelated" or "none"', jitter);
    this.jitter = jitter;
  }

  /** The wait after attempt `failed` (1-based), given the previous wait (0 before the first). */
  delay(failed: number, previousMs: number, random: number): number {
    if (this.jitter === 'decorrelated') {
      const upper = Math.min(this.maxMs, Math.max(this.initialMs, previousMs * 3));
      return this.initialMs + random * (upper - this.initialMs);
    }
    const ceiling = Math.min(this.maxMs, this.initialMs * this.factor ** (failed - 1));
    return this.jitter === 'full' ? random * ceiling : ceiling;
  }
}
