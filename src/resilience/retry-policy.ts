import {
  Emitter,
  LazyAbortController,
  promiseWithSettlers,
  integerOption,
  invalidArgument,
  objectArgument,
  parseDuration,
  type Disposer,
  type Duration,
  type Listener,
} from '../core/index.js';
import { TimeoutError } from '../timeout/index.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import { Execution } from './execution.js';
import { callAttempt, linkFor, type Link } from './link.js';
import { clockOption, type Attempt, type Clock, type ExecuteOptions, type Policy } from './policy.js';
import { budgetOption, type RetryBudget } from './retry-budget.js';
import { isTransientFailure, retryAfterOf } from './transient.js';

/** Options of {@link RetryPolicy}. */
export interface RetryPolicyOptions {
  /** Attempts in all, the first included; `Infinity` with a `deadline` or a `budget`. Default `3`. */
  maxAttempts?: number;
  /** The waits between attempts. Default `{ initial: '100ms', max: '10s', factor: 2, jitter: 'full' }`. */
  backoff?: BackoffOptions;
  /**
   * Which failures are worth another attempt; `attempt` is the one that just failed. Default
   * {@link isTransientFailure}: network errors, 429/502/503/504, `QUEUE_FULL`,
   * `OPERATION_TIMEOUT`, `SERVICE_UNAVAILABLE`; never another 4xx, an abort or `CIRCUIT_OPEN`.
   */
  retryOn?: (error: unknown, attempt: number) => boolean;
  /** A {@link RetryBudget}, usually shared by every policy in front of one dependency. Default: none. */
  budget?: RetryBudget;
  /**
   * The most the whole execution may take, attempts and waits included. No wait runs past it
   * (the policy gives up with the last failure instead), and an attempt still running when it
   * passes has its signal aborted while `execute` rejects with `TimeoutError`
   * (`OPERATION_TIMEOUT`). Default: none.
   */
  deadline?: Duration;
  /** A name for events and the deadline's `TimeoutError`. */
  name?: string;
  /** The clock the deadline is measured on. Default `performance.now()`. */
  clock?: Clock;
}

/** Why a {@link RetryPolicy} stopped trying. */
export type GiveUpReason = 'attempts' | 'not-retryable' | 'budget' | 'deadline' | 'retry-after';

/** The events of a {@link RetryPolicy}. */
export interface RetryPolicyEvents {
  /** An attempt failed and another one follows after `delayMs`. */
  retry: {
    /** The policy's name. */
    name: string | undefined;
    /** The attempt that failed (1 for the first). */
    attempt: number;
    /** The wait before the next attempt. */
    delayMs: number;
    /** The failure. */
    error: unknown;
  };
  /** An attempt failed and the policy gave up: `execute` rejects with `error`. */
  'give-up': {
    /** The policy's name. */
    name: string | undefined;
    /** The attempt that failed last. */
    attempt: number;
    /** Why there is no other attempt. */
    reason: GiveUpReason;
    /** The failure `execute` rejects with. */
    error: unknown;
  };
}

/** Starts the next attempt when a wait is over (a module function: no closure per wait). */
function wake(run: RetryRun<unknown>): void {
  run.timer = undefined;
  run.start();
}

/** Ends the execution when the deadline passes. */
function expire(run: RetryRun<unknown>): void {
  run.deadlineTimer = undefined;
  run.expire();
}

/**
 * @internal One execution: the attempts' context (following the caller's signal, or with a
 * deadline its own), the caller's abort listener, and the state between attempts.
 */
export class RetryRun<T> extends Execution implements Link {
  attempt = 0;
  deadlineTimer: NodeJS.Timeout | undefined = undefined;
  private previousDelay = 0;
  /** The attempts' own signal, with a deadline only (which aborts it). */
  private readonly own: LazyAbortController | undefined;

  constructor(
    private readonly policy: RetryPolicy,
    private readonly fn: Attempt<T>,
    private readonly parent: Link,
    /** When the deadline passes, on the policy's clock; Infinity without one. */
    readonly deadlineAt: number,
  ) {
    super(parent.watchable());
    this.own = deadlineAt === Infinity ? undefined : new LazyAbortController();
  }

  get signal(): AbortSignal {
    // Without a deadline nothing but the caller aborts an attempt: its signal is the caller's.
    return this.own === undefined ? this.parent.signal : this.own.signal;
  }

  watchable(): AbortSignal | undefined {
    return this.own === undefined ? this.parent.watchable() : this.own.signal;
  }

  /** Runs the next attempt. */
  start(): void {
    this.attempt++;
    // Callbacks made here, not as per-instance arrow fields: those cost a defineProperty each
    // under transpilers that keep function names.
    callAttempt(this.fn, this).then(
      (value) => this.succeed(value),
      (error: unknown) => {
        if (!this.done) this.policy.failed(this, error);
      },
    );
  }

  /** Waits `delayMs` before the next attempt. */
  sleep(delayMs: number): void {
    this.previousDelay = delayMs;
    this.timer = setTimeout(wake, delayMs, this);
  }

  get lastDelay(): number {
    return this.previousDelay;
  }

  expire(): void {
    if (this.done) return;
    const error = new TimeoutError(this.policy.deadlineMs, this.policy.name);
    this.failWith(error);
    this.abortAttempts(error);
  }

  protected abortAttempts(reason: unknown): void {
    this.own?.abort(reason);
  }

  protected override finish(): void {
    super.finish();
    if (this.deadlineTimer !== undefined) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }
}

/**
 * Retries failed attempts with exponential backoff and jitter, and only when retrying can help:
 * by default transient failures only (see {@link isTransientFailure}), never past the caller's
 * signal or the `deadline`, at least as late as the failure's `retryAfterMs` or `Retry-After`
 * asks (or not at all when that is later than `backoff.max`), and within a shared
 * {@link RetryBudget} when one is given, so that retries cannot multiply the load on a
 * dependency that is already failing.
 *
 * A successful first attempt costs one small object and one promise: no timer, no clock read,
 * no `AbortController` (see {@link ExecuteContext.signal}).
 *
 * @example
 * ```ts
 * import { requestSignal } from 'headroom/http';
 *
 * const retry = new RetryPolicy({ maxAttempts: 4, backoff: { initial: '50ms', max: '2s' }, budget });
 * const user = await retry.execute(async ({ signal, attempt }) => {
 *   const res = await fetch(`https://users.internal/${id}`, { signal });
 *   if (res.status >= 500) throw Object.assign(new Error(`users api: ${res.status}`), { status: res.status });
 *   return res.json();
 * }, { signal: requestSignal(req) });
 * ```
 */
export class RetryPolicy implements Policy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** The name given in the options. */
  readonly name: string | undefined;
  /** The `deadline` in milliseconds; `Infinity` without one. */
  readonly deadlineMs: number;
  private readonly backoff: Backoff;
  private readonly retryOn: (error: unknown, attempt: number) => boolean;
  private readonly budget: RetryBudget | undefined;
  private readonly clock: Clock;
  private readonly events = new Emitter<RetryPolicyEvents>();

  constructor(options: RetryPolicyOptions = {}) {
    objectArgument(options, 'options');
    this.maxAttempts = integerOption(options.maxAttempts, 'maxAttempts', 3, { min: 1 });
    this.backoff = new Backoff(options.backoff);
    if (options.retryOn !== undefined && typeof options.retryOn !== 'function')
      throw invalidArgument('retryOn', 'a function (error, attempt) => boolean', options.retryOn);
    this.retryOn = options.retryOn ?? isTransientFailure;
    this.budget = budgetOption(options.budget, 'budget');
    if (this.maxAttempts === Infinity && options.budget === undefined && options.deadline === undefined) {
      throw invalidArgument('maxAttempts', 'a whole number >= 1 (Infinity only with a deadline or a budget)', Infinity);
    }
    this.deadlineMs = options.deadline === undefined ? Infinity : parseDuration(options.deadline, 'deadline', { positive: true });
    if (options.name !== undefined && typeof options.name !== 'string') throw invalidArgument('name', 'a string', options.name);
    this.name = options.name;
    this.clock = clockOption(options.clock);
  }

  /**
   * Runs `fn`, again after each retryable failure, and resolves with the first success; rejects
   * with the last failure when the policy gives up, with `TimeoutError` when the `deadline`
   * passes mid-attempt, or with the caller's abort reason (at once) when `options.signal` aborts.
   *
   * @example
   * ```ts
   * const rows = await retry.execute(() => db.query(sql), { signal: AbortSignal.timeout(5_000) });
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
    const deadlineAt = this.deadlineMs === Infinity ? Infinity : this.now() + this.deadlineMs;
    const run = new RetryRun(this, fn, link, deadlineAt);
    if (deadlineAt !== Infinity) {
      // Held like withTimeout's deadlines: a pending call keeps the process until it has an
      // answer; cleared as soon as the execution settles.
      run.deadlineTimer = setTimeout(expire, this.deadlineMs, run);
    }
    this.budget?.recordRequest();
    run.start();
    return promise;
  }

  /** @internal An attempt of `run` failed: wait and try again, or give up. */
  failed(run: RetryRun<unknown>, error: unknown): void {
    const attempt = run.attempt;
    let reason: GiveUpReason | undefined;
    let delay = 0;
    if (attempt >= this.maxAttempts) {
      reason = 'attempts';
    } else if (!this.retryOn(error, attempt)) {
      reason = 'not-retryable';
    } else {
      delay = this.backoff.delay(attempt, run.lastDelay, Math.random());
      const asked = retryAfterOf(error);
      if (asked !== undefined) {
        if (asked > this.backoff.maxMs) reason = 'retry-after';
        else if (asked > delay) delay = asked;
      }
      if (reason === undefined && run.deadlineAt !== Infinity && this.now() + delay >= run.deadlineAt) reason = 'deadline';
      // Asked last, so that a retry the policy would not make spends nothing.
      if (reason === undefined && this.budget !== undefined && !this.budget.tryRetry()) reason = 'budget';
    }
    if (reason !== undefined) {
      run.failWith(error);
      if (this.events.has('give-up')) this.events.emit('give-up', { name: this.name, attempt, reason, error });
      return;
    }
    if (this.events.has('retry')) this.events.emit('retry', { name: this.name, attempt, delayMs: delay, error });
    run.sleep(delay);
  }

  /**
   * Listens to an event; returns the function that removes the listener. Costs nothing while
   * nobody listens.
   *
   * @example
   * ```ts
   * retry.on('retry', ({ attempt, delayMs, error }) => log.warn({ attempt, delayMs, err: error }, 'retrying'));
   * retry.on('give-up', ({ reason }) => metrics.increment(`retry.give_up.${reason}`));
   * ```
   */
  on<K extends keyof RetryPolicyEvents>(event: K, listener: Listener<RetryPolicyEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  private now(): number {
    return this.clock.now();
  }
}
