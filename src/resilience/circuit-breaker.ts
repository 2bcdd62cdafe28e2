import { Emitter, integerOption, invalidArgument, objectArgument, parseDuration, type Disposer, type Listener } from '../core/index.js';
import { BrokenCircuitError } from './broken-circuit-error.js';
import { notAnAbort, tripRule, type CircuitBreakerEvents, type CircuitBreakerOptions, type CircuitBreakerStats, type CircuitState } from './breaker-options.js';
import { joinShare, type BreakerShare } from './breaker-share.js';
import { isThenable, linkFor, type Link } from './link.js';
import { clockOption, type Attempt, type Clock, type ExecuteOptions, type Policy } from './policy.js';
import type { RollingWindow } from './rolling-window.js';

/**
 * A circuit breaker: after a run of failures (`{ consecutive }`) or a failure rate
 * (`{ ratio, minThroughput, window }`) it opens and refuses calls at once with
 * {@link BrokenCircuitError} (`CIRCUIT_OPEN`, 503, `retryAfterMs` = cooldown left), so a failing
 * dependency gets time to recover and callers get an answer in microseconds instead of a
 * timeout. After `cooldown` it lets exactly `halfOpenProbes` trial calls through: if they all
 * succeed it closes, if one fails it opens again. With `share`, the instances of a fleet tell
 * one another over Redis pub/sub.
 *
 * The closed path costs one comparison before the call and one after it (plus a clock read with
 * a ratio trip): no allocation, no timer. Code that cannot wrap its call in `execute` (a callback
 * API, a hot path that settles without promises) asks {@link CircuitBreaker.tryAcquire} and
 * reports with {@link CircuitBreaker.recordSuccess} / {@link CircuitBreaker.recordFailure}.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker({ name: 'pricing', trip: { ratio: 0.5, minThroughput: 20, window: '30s' }, cooldown: '10s' });
 * breaker.on('open', ({ error }) => log.error({ err: error }, 'pricing circuit open'));
 * const quote = await breaker.execute(({ signal }) => fetch(url, { signal }).then((r) => r.json()));
 * ```
 */
export class CircuitBreaker implements Policy {
  /** The breaker's name. */
  readonly name: string;
  /** The cooldown in milliseconds. */
  readonly cooldownMs: number;
  /** Trial calls let through in half-open. */
  readonly halfOpenProbes: number;
  private current: CircuitState = 'closed';
  /** Failures in a row that open it (`{ consecutive }`); 0 with a ratio trip. */
  private readonly threshold: number;
  private readonly ratio: number;
  private readonly minThroughput: number;
  /** Successes (a) and failures (b) over the window, with a ratio trip. */
  private readonly window: RollingWindow | undefined;
  private readonly isFailure: (error: unknown) => boolean;
  private readonly clock: Clock;
  private readonly share: BreakerShare | undefined;
  private readonly events = new Emitter<CircuitBreakerEvents>();
  private inARow = 0;
  /** When an open breaker lets trial calls through; when a half-open one's round lapses. */
  private until = 0;
  private probesLeft = 0;
  private probesPassed = 0;
  private opened = 0;
  private successes = 0;
  private failures = 0;
  private rejected = 0;
  /** `execute`'s callbacks, made once. */
  private readonly onFulfilled = (value: unknown): unknown => {
    this.recordSuccess();
    return value;
  };
  private readonly onRejected = (error: unknown): never => {
    if (this.isFailure(error)) this.recordFailure(error);
    throw error;
  };

  constructor(options: CircuitBreakerOptions) {
    if (options === undefined) throw invalidArgument('options', 'an options object with a name', options);
    objectArgument(options, 'options');
    if (typeof options.name !== 'string' || options.name.length === 0) throw invalidArgument('name', 'a non-empty string', options.name);
    this.name = options.name;
    const trip = tripRule(options.trip);
    this.threshold = trip.threshold;
    this.ratio = trip.ratio;
    this.minThroughput = trip.minThroughput;
    this.window = trip.window;
    this.cooldownMs = options.cooldown === undefined ? 5_000 : parseDuration(options.cooldown, 'cooldown', { positive: true });
    this.halfOpenProbes = integerOption(options.halfOpenProbes, 'halfOpenProbes', 1, { min: 1, max: Number.MAX_SAFE_INTEGER });
    if (options.isFailure !== undefined && typeof options.isFailure !== 'function')
      throw invalidArgument('isFailure', 'a function (error) => boolean', options.isFailure);
    this.isFailure = options.isFailure ?? notAnAbort;
    this.clock = clockOption(options.clock);
    this.share =
      options.share === undefined
        ? undefined
        : joinShare(options.share, { name: this.name, cooldownMs: this.cooldownMs, onRemote: (event) => this.onRemote(event) });
  }

  /** The state now. An open breaker whose cooldown is over reads `'open'` until a call arrives. */
  get state(): CircuitState {
    return this.current;
  }

  /**
   * Runs `fn` if the breaker lets it through and counts its outcome; rejects at once with
   * {@link BrokenCircuitError} otherwise. The context is the caller's: the breaker never aborts
   * an attempt (put a {@link TimeoutPolicy} inside it for that).
   *
   * @example
   * ```ts
   * import { requestSignal } from 'headroom/http';
   *
   * const rows = await breaker.execute(() => db.query('SELECT 1'), { signal: requestSignal(req) });
   * ```
   */
  execute<T>(fn: Attempt<T>, options?: ExecuteOptions): Promise<T> {
    return this.run(fn, linkFor(fn, options));
  }

  /** @internal */
  run<T>(fn: Attempt<T>, link: Link): Promise<T> {
    if (this.current !== 'closed' && !this.admit()) return Promise.reject(this.refusal());
    let pending: PromiseLike<T> | T;
    try {
      pending = fn(link);
    } catch (error) {
      if (this.isFailure(error)) this.recordFailure(error);
      return Promise.reject(error);
    }
    if (!isThenable(pending)) {
      this.recordSuccess();
      return Promise.resolve(pending);
    }
    return Promise.resolve(pending).then(this.onFulfilled, this.onRejected) as Promise<T>;
  }

  /**
   * True when a call may go through now, and counts it as a trial call when half-open; false
   * (counted as rejected) when it must not. Report the call's outcome with
   * {@link CircuitBreaker.recordSuccess} or {@link CircuitBreaker.recordFailure}. While closed
   * this is one comparison.
   *
   * @example
   * ```ts
   * if (breaker.tryAcquire()) {
   *   redis.get(key).then(() => breaker.recordSuccess(), (err) => breaker.recordFailure(err));
   * }
   * ```
   */
  tryAcquire(): boolean {
    return this.current === 'closed' || this.admit();
  }

  /**
   * Reports a call that succeeded. In half-open it counts toward closing; while open it is the
   * late answer of a call made before the breaker opened, and is ignored.
   *
   * @example
   * ```ts
   * breaker.recordSuccess();
   * ```
   */
  recordSuccess(): void {
    this.successes++;
    const state = this.current;
    if (state === 'closed') {
      if (this.window === undefined) this.inARow = 0;
      else this.window.addA(this.now());
    } else if (state === 'half-open' && ++this.probesPassed >= this.halfOpenProbes) {
      this.toClosed(true);
    }
  }

  /**
   * Reports a call that failed (whatever `isFailure` says: the caller decided). Opens the breaker
   * when the trip rule says so, or at once in half-open; ignored while open.
   *
   * @example
   * ```ts
   * breaker.recordFailure(err);
   * ```
   */
  recordFailure(error: unknown): void {
    this.failures++;
    const state = this.current;
    if (state === 'closed') {
      const window = this.window;
      if (window === undefined) {
        if (++this.inARow >= this.threshold) this.open(error, false);
      } else {
        window.addB(this.now());
        const calls = window.totalA + window.totalB;
        if (calls >= this.minThroughput && window.totalB >= this.ratio * calls) this.open(error, false);
      }
    } else if (state === 'half-open') {
      this.open(error, false);
    }
  }

  /**
   * Holds the breaker open until {@link CircuitBreaker.reset}, whatever the calls do: for a
   * dependency you know is down, or under maintenance. Not shared with other instances.
   *
   * @example
   * ```ts
   * breaker.isolate(); // refuse every call
   * ```
   */
  isolate(): void {
    if (this.current === 'isolated') return;
    this.current = 'isolated';
    if (this.events.has('isolate')) this.events.emit('isolate', { name: this.name });
  }

  /**
   * Closes the breaker now, forgetting its counts (also ends an isolation). Not shared with
   * other instances.
   *
   * @example
   * ```ts
   * breaker.reset();
   * ```
   */
  reset(): void {
    if (this.current === 'closed') return;
    this.toClosed(false);
  }

  /**
   * A snapshot of the breaker: state, counts since it was made, cooldown left. Cheap enough to
   * call on every scrape.
   *
   * @example
   * ```ts
   * const { state, opened, rejected } = breaker.stats();
   * ```
   */
  stats(): CircuitBreakerStats {
    const stats: CircuitBreakerStats = {
      name: this.name,
      state: this.current,
      opened: this.opened,
      successes: this.successes,
      failures: this.failures,
      rejected: this.rejected,
      retryAfterMs: this.current === 'open' || this.current === 'half-open' ? Math.max(0, Math.ceil(this.until - this.now())) : 0,
    };
    const window = this.window;
    if (window !== undefined) {
      window.refresh(this.now());
      stats.window = { calls: window.totalA + window.totalB, failures: window.totalB };
    }
    if (this.share !== undefined) stats.shared = { channel: this.share.channel, connected: this.share.connected };
    return stats;
  }

  /**
   * Listens to an event; returns the function that removes the listener. Costs nothing while
   * nobody listens.
   *
   * @example
   * ```ts
   * const off = breaker.on('open', ({ error, remote }) => log.warn({ err: error, remote }, 'pricing circuit open'));
   * breaker.on('close', () => log.info('pricing circuit closed'));
   * ```
   */
  on<K extends keyof CircuitBreakerEvents>(event: K, listener: Listener<CircuitBreakerEvents[K]>): Disposer {
    return this.events.on(event, listener);
  }

  /**
   * Stops sharing (with `share`: the last breaker of the process on a channel closes its
   * subscription connection, bounded to 1 s). The breaker keeps working on its own. Without
   * `share` there is nothing to close.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', async () => { await breaker.close(); await redis.quit(); });
   * ```
   */
  close(): Promise<void> {
    return this.share === undefined ? Promise.resolve() : this.share.leave();
  }

  /** The slow path of {@link CircuitBreaker.tryAcquire}: not closed. */
  private admit(): boolean {
    const state = this.current;
    if (state === 'half-open') {
      if (this.probesLeft > 0) {
        this.probesLeft--;
        return true;
      }
      // Trial calls that never report (a hung call, an outcome not counted) must not hold the
      // breaker half-open for ever: after a cooldown, a new round of trials starts.
      const now = this.now();
      if (now >= this.until) {
        this.startTrials(now);
        this.probesLeft--;
        return true;
      }
    } else if (state === 'open') {
      const now = this.now();
      if (now >= this.until) {
        this.halfOpen(now);
        this.probesLeft--;
        return true;
      }
    }
    this.rejected++;
    return false;
  }

  private refusal(): BrokenCircuitError {
    const state = this.current as 'open' | 'half-open' | 'isolated';
    return new BrokenCircuitError(this.name, state, state === 'isolated' ? undefined : Math.max(1, Math.ceil(this.until - this.now())));
  }

  private open(error: unknown, remote: boolean): void {
    this.current = 'open';
    this.until = this.now() + this.cooldownMs;
    this.opened++;
    this.inARow = 0;
    this.window?.clear();
    if (this.events.has('open')) this.events.emit('open', { name: this.name, error, remote });
    if (!remote) this.share?.announce('open');
  }

  private halfOpen(now: number): void {
    this.current = 'half-open';
    this.startTrials(now);
    if (this.events.has('half-open')) this.events.emit('half-open', { name: this.name });
  }

  private startTrials(now: number): void {
    this.probesLeft = this.halfOpenProbes;
    this.probesPassed = 0;
    this.until = now + this.cooldownMs;
  }

  private toClosed(announce: boolean): void {
    this.current = 'closed';
    this.inARow = 0;
    this.window?.clear();
    if (announce) this.share?.announce('close');
    if (this.events.has('close')) this.events.emit('close', { name: this.name });
  }

  /** Another instance opened (we open too, unless already open) or closed (we try at once). */
  private onRemote(event: 'open' | 'close'): void {
    const state = this.current;
    if (event === 'open') {
      if (state === 'closed' || state === 'half-open') this.open(undefined, true);
    } else if (state === 'open') {
      this.halfOpen(this.now());
    }
  }

  private now(): number {
    return this.clock.now();
  }
}
