import {
  Emitter,
  promiseWithSettlers,
  integerOption,
  invalidArgument,
  objectArgument,
  parseDuration,
  type Disposer,
  type Duration,
  type Listener,
} from '../core/index.js';
import { Execution } from './execution.js';
import { AbortLink, callAttempt, linkFor, type Link } from './link.js';
import type { Attempt, ExecuteOptions, Policy } from './policy.js';
import { budgetOption, type RetryBudget } from './retry-budget.js';

/** Options of {@link HedgePolicy}. */
export interface HedgePolicyOptions {
  /**
   * How long the first attempt may go unanswered before another starts: a {@link Duration}, or a
   * function read at each `execute` that returns milliseconds, so that it can follow a live
   * percentile (`() => tracker.stats('GET /price').p95`). When the function returns anything but
   * a positive finite number (no data yet), or throws, that call is not hedged.
   */
  delay: Duration | (() => number);
  /** Extra attempts at most, one more each `delay`. Default `1`. */
  maxHedges?: number;
  /** A {@link RetryBudget} capping hedges as it caps retries: no hedge when it says no. Default: none. */
  budget?: RetryBudget;
}

/** The events of a {@link HedgePolicy}. */
export interface HedgePolicyEvents {
  /** Attempt `attempt` (2 for the first hedge) started after `delayMs` without an answer. */
  hedge: {
    /** The attempt starting: 2 for the first hedge. */
    attempt: number;
    /** How long the attempts before it went unanswered. */
    delayMs: number;
  };
}

/** Starts the next hedge when the delay passes (a module function: no closure per call). */
function onDelay(race: HedgeRace<unknown>): void {
  race.timer = undefined;
  race.hedge();
}

/** One `execute` of a {@link HedgePolicy}: the attempts (each its own context) and the delay timer. */
class HedgeRace<T> extends Execution {
  private readonly attempts: AbortLink[] = [];
  private pending = 0;

  constructor(
    private readonly policy: HedgePolicy,
    private readonly fn: Attempt<T>,
    parentSignal: AbortSignal | undefined,
    readonly delayMs: number,
  ) {
    super(parentSignal);
  }

  /** Starts one more attempt, and arms the delay for the next if hedges are left. */
  start(): void {
    const attempt = new AbortLink(this.attempts.length + 1);
    this.attempts.push(attempt);
    this.pending++;
    callAttempt(this.fn, attempt).then(
      (value) => this.won(attempt, value),
      (error: unknown) => this.lost(error),
    );
    if (!this.done && this.attempts.length <= this.policy.maxHedges && this.delayMs > 0) {
      // Held like the call it serves (a pending call keeps the process until it has an answer);
      // cleared as soon as the race settles.
      this.timer = setTimeout(onDelay, this.delayMs, this);
    }
  }

  /** The delay passed without an answer: hedge, if the budget agrees. */
  hedge(): void {
    if (this.done || !this.policy.allowHedge(this.attempts.length + 1, this.delayMs)) return;
    this.start();
  }

  protected abortAttempts(reason: unknown): void {
    for (const attempt of this.attempts) attempt.abort(reason);
  }

  private won(winner: AbortLink, value: unknown): void {
    if (this.done) return;
    this.succeed(value);
    if (this.attempts.length === 1) return;
    const reason = new DOMException('headroom: another hedged attempt answered first', 'AbortError');
    for (const attempt of this.attempts) if (attempt !== winner) attempt.abort(reason);
  }

  /** An attempt failed: the race fails with it only when no other attempt is still running. */
  private lost(error: unknown): void {
    if (this.done || --this.pending > 0) return;
    this.failWith(error);
  }
}

/**
 * Hedged requests: when the first attempt has not answered after `delay`, a second starts, and
 * whichever answers first wins while the other is aborted through its signal. Against a
 * dependency with a long tail (10 ms usually, 500 ms now and then), hedging at about its p95
 * cuts the tail to roughly `delay` plus one typical call, for about 5% more calls. Only hedge
 * work that is safe to run twice (reads, or writes under an idempotency key), and give it a
 * {@link RetryBudget} so that a dependency slowing down as a whole does not get twice the load.
 *
 * A failure is not hedged: the race fails when no attempt is left running (retries are
 * {@link RetryPolicy}'s job). An attempt answering before `delay` costs one small object, a
 * promise and one timer, cleared when it answers.
 *
 * @example
 * ```ts
 * import { PercentileTracker } from 'headroom/percentiles';
 *
 * const tracker = new PercentileTracker({ windows: ['1m'] });
 * const hedge = new HedgePolicy({ delay: () => tracker.stats('price').p95, budget: new RetryBudget({ ratio: 0.05 }) });
 * const price = await hedge.execute(async ({ signal }) => {
 *   const stop = tracker.startTimer('price');
 *   try { return await fetchPrices({ signal }); } finally { stop(); }
 * });
 * ```
 */
export class HedgePolicy implements Policy {
  /** Extra attempts at most. */
  readonly maxHedges: number;
  private readonly delayMs: number;
  private readonly delayFn: (() => number) | undefined;
  private readonly budget: RetryBudget | undefined;
  private readonly events = new Emitter<HedgePolicyEvents>();

  constructor(options: HedgePolicyOptions) {
    if (options === undefined) throw invalidArgument('options', 'an options object with a delay', options);
    objectArgument(options, 'options');
    if (typeof options.delay === 'function') {
      this.delayFn = options.delay;
      this.delayMs = 0;
    } else {
      this.delayFn = undefined;
      this.delayMs = parseDuration(options.delay, 'delay', { positive: true });
    }
    this.maxHedges = integerOption(options.maxHedges, 'maxHedges', 1, { min: 1, max: 16 });
    this.budget = budgetOption(options.budget, 'budget');
  }

  /**
   * Runs `fn`, and again after each `delay` without an answer (up to `maxHedges` times); resolves
   * with the first answer and aborts the other attempts. Rejects with the last failure when every
   * attempt failed, or at once with the caller's abort reason.
   *
   * @example
   * ```ts
   * import { requestSignal } from 'headroom/http';
   *
   * const user = await hedge.execute(({ signal }) => users.find(id, { signal }), { signal: requestSignal(req) });
   * ```
   */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, linkFor(fn, options));
  }

  /** @internal */
  run<T>(fn: Attempt<T>, link: Link): Promise<T> {
    const parentSignal = link.watchable();
    if (parentSignal?.aborted === true) return Promise.reject(parentSignal.reason);
    const promise = promiseWithSettlers<T>();
    const race = new HedgeRace(this, fn, parentSignal, this.currentDelay());
    this.budget?.recordRequest();
    race.start();
    return promise;
  }

  /** @internal Asked when a delay passes: may attempt `attempt` start? */
  allowHedge(attempt: number, delayMs: number): boolean {
    if (this.budget !== undefined && !this.budget.tryRetry()) return false;
    if (this.events.has('hedge')) this.events.emit('hedge', { attempt, delayMs });
    return true;
  }

  /**
   * Listens to an event; returns the function that removes the listener. Costs nothing while
   * nobody listens.
   *
   * @example
   * ```ts
   * hedge.on('hedge', ({ delayMs }) => metrics.increment('price.hedged'));
   * ```
   */
  on<K extends keyof HedgePolicyEvents>(event: K, listener: Listener<HedgePolicyEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  /** The delay for one call: fixed, or the function's answer (0, no hedge, unless positive and finite). */
  private currentDelay(): number {
    const fn = this.delayFn;
    if (fn === undefined) return this.delayMs;
    let ms: unknown;
    try {
      ms = fn();
    } catch {
      // A delay source that fails (a tracker closed, say) must not fail the call: no hedge.
      return 0;
    }
    return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : 0;
  }
}
