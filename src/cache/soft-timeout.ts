import { promiseWithSettlers, Deadline, settlers, type Settle } from '../core/index.js';
import type { SpaceCounters } from './counters.js';
import type { Flight, StaleListener } from './flights.js';
import type { SpaceEvents } from './space-events.js';

/**
 * `factoryTimeout.soft` for one flight, on the shared deadline timer: its promise follows the
 * flight, unless the soft timeout passes first while a stale value is at hand (from L1, or found
 * in L2 later): then it resolves with that value, and the flight goes on in the background to
 * refresh the entry. Without a stale value the callers keep waiting for the flight.
 */
export class SoftTimeout extends Deadline implements StaleListener {
  /** What the flight's callers get. */
  readonly promise: Promise<unknown>;
  private readonly resolve: Settle;
  private readonly reject: Settle;
  /** Settled: by the flight, or with a stale value. */
  private done = false;
  /** The soft timeout passed (with no stale value at hand then). */
  private passed = false;

  constructor(
    private readonly flight: Flight,
    private readonly counters: SpaceCounters,
    private readonly events: SpaceEvents,
  ) {
    super();
    this.promise = promiseWithSettlers();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
  }

  /** Starts watching: arms the deadline and follows the flight's own promise. */
  start(timeoutMs: number): Promise<unknown> {
    this.flight.staleListener = this;
    this.armDeadline(timeoutMs);
    this.flight.promise.then(
      (value) => this.settle(this.resolve, value),
      (error: unknown) => this.settle(this.reject, error),
    );
    return this.promise;
  }

  /** Deadline timer callback: serve the stale value if there is one, else wait for one. */
  onDeadline(): void {
    if (this.done) return;
    this.passed = true;
    this.serveStale();
  }

  /** The flight found a stale value in L2: serve it if the soft timeout already passed. */
  staleFound(): void {
    if (this.passed && !this.done) this.serveStale();
  }

  private serveStale(): void {
    const stale = this.flight.stale;
    if (stale === undefined) return;
    this.done = true;
    this.counters.staleServed++;
    this.counters.refreshes++;
    this.events.stale(this.flight.key, 'soft-timeout');
    this.events.refresh(this.flight.key);
    this.resolve(stale.value);
  }

  private settle(settle: Settle, outcome: unknown): void {
    if (this.done) return;
    this.done = true;
    this.disarmDeadline();
    settle(outcome);
  }
}
