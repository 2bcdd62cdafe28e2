import { Emitter, invalidArgument, numberOption, objectArgument, parseDuration, type Disposer, type Duration, type Listener } from '../core/index.js';
import { clockOption, type Clock } from './policy.js';
import { RollingWindow } from './rolling-window.js';

/** Options of {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /**
   * The share of recent first attempts that retries (and hedges) may add, from 0 to 1.
   * Default `0.1`: at most one extra call for every ten first calls.
   */
  ratio?: number;
  /**
   * A floor, so that a quiet service can still retry: this many retries per second of `window`
   * are always allowed, whatever the ratio says. Default `10`.
   */
  minPerSecond?: number;
  /** How far back first attempts and retries are counted. Default `'10s'`. */
  window?: Duration;
  /** A name for dashboards and logs (a budget is usually one dependency's). */
  name?: string;
  /** The clock that ages the window. Default `performance.now()`. */
  clock?: Clock;
}

/** A snapshot of a {@link RetryBudget}, from {@link RetryBudget.stats}. */
export interface RetryBudgetStats {
  /** First attempts counted in the window. */
  requests: number;
  /** Retries and hedges allowed in the window. */
  retries: number;
  /** Retries the budget allows in the window: `ratio x requests + minPerSecond x window seconds`. */
  allowed: number;
  /** Retries still available right now (`allowed - retries`, at least 0). */
  available: number;
  /** Retries refused since the budget was made. */
  refused: number;
}

/** The events of a {@link RetryBudget}. */
export interface RetryBudgetEvents {
  /** A retry (or hedge) was refused: the budget is spent for now. */
  refused: {
    /** Retries allowed in the window so far. */
    retries: number;
    /** Retries the window allows. */
    allowed: number;
  };
}

/**
 * Reads a `budget` option: a {@link RetryBudget} or `undefined`.
 *
 * @internal
 */
export function budgetOption(value: unknown, name: string): RetryBudget | undefined {
  if (value === undefined || value instanceof RetryBudget) return value;
  throw invalidArgument(name, 'a RetryBudget', value);
}

/**
 * A retry budget: retries may add at most `ratio` of the recent first attempts, plus a small
 * floor, across every policy that shares it. Where `maxAttempts` alone lets a failing
 * dependency receive `maxAttempts` times its normal load (the retry storm that turns a blip
 * into an outage), a shared budget caps the extra load at `ratio`: with 100 callers against a
 * dependency that fails every call, it receives at most `(1 + ratio) x 100` calls plus the floor.
 * While the dependency is healthy, retries are rare and the budget never says no.
 *
 * {@link RetryPolicy} and {@link HedgePolicy} call it for you (`budget` option); call
 * {@link RetryBudget.recordRequest} and {@link RetryBudget.tryRetry} yourself for a loop of your
 * own. Counting costs a clock read and two additions, no allocation.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.1 });
 * const users = new RetryPolicy({ maxAttempts: 4, budget });
 * const orders = new RetryPolicy({ maxAttempts: 3, budget }); // one budget for the whole dependency
 * await users.execute(({ signal }) => fetch('https://users.internal/1', { signal }));
 * ```
 */
export class RetryBudget {
  /** The name given in the options. */
  readonly name: string | undefined;
  /** The ratio the budget was made with. */
  readonly ratio: number;
  /** The floor the budget was made with. */
  readonly minPerSecond: number;
  private readonly floor: number;
  private readonly window: RollingWindow;
  private readonly clock: Clock;
  private refused = 0;
  private readonly events = new Emitter<RetryBudgetEvents>();

  constructor(options: RetryBudgetOptions = {}) {
    objectArgument(options, 'options');
    this.ratio = numberOption(options.ratio, 'ratio', 0.1, { min: 0, max: 1 });
    this.minPerSecond = numberOption(options.minPerSecond, 'minPerSecond', 10, { min: 0, max: Number.MAX_SAFE_INTEGER });
    const windowMs = options.window === undefined ? 10_000 : parseDuration(options.window, 'window', { positive: true });
    this.floor = (this.minPerSecond * windowMs) / 1000;
    this.window = new RollingWindow(windowMs);
    this.clock = clockOption(options.clock);
    if (options.name !== undefined && typeof options.name !== 'string') throw invalidArgument('name', 'a string', options.name);
    this.name = options.name;
  }

  /**
   * Counts one first attempt (not a retry): each adds `ratio` of a retry to the budget.
   *
   * @example
   * ```ts
   * budget.recordRequest();
   * ```
   */
  recordRequest(): void {
    this.window.addA(this.now());
  }

  /**
   * Asks for one retry (or hedge): true, and counted, when the budget allows it; false, and
   * counted as refused, when it is spent.
   *
   * @example
   * ```ts
   * if (!budget.tryRetry()) throw err; // the last failure: give up instead of adding load
   * ```
   */
  tryRetry(): boolean {
    const window = this.window;
    const now = this.now();
    window.refresh(now);
    if (window.totalB < this.ratio * window.totalA + this.floor) {
      window.addB(now);
      return true;
    }
    this.refused++;
    if (this.events.has('refused')) this.events.emit('refused', { retries: window.totalB, allowed: this.allowed() });
    return false;
  }

  /**
   * The counts over the window and how many retries are left.
   *
   * @example
   * ```ts
   * const { available, refused } = budget.stats();
   * ```
   */
  stats(): RetryBudgetStats {
    const window = this.window;
    window.refresh(this.now());
    const allowed = this.allowed();
    return {
      requests: window.totalA,
      retries: window.totalB,
      allowed,
      available: Math.max(0, Math.floor(allowed - window.totalB)),
      refused: this.refused,
    };
  }

  /**
   * Listens to an event; returns the function that removes the listener. Costs nothing while
   * nobody listens.
   *
   * @example
   * ```ts
   * const off = budget.on('refused', ({ retries, allowed }) => log.warn({ retries, allowed }, 'retry budget spent'));
   * ```
   */
  on<K extends keyof RetryBudgetEvents>(event: K, listener: Listener<RetryBudgetEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  private now(): number {
    return this.clock.now();
  }

  private allowed(): number {
    return this.ratio * this.window.totalA + this.floor;
  }
}
