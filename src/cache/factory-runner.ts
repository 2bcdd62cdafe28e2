import { promiseWithSettlers, DeadlineCall, type AbortHandle } from '../core/index.js';
import type { TimeoutError } from '../timeout/index.js';
import { factoryTimeout } from './cache-errors.js';
import { stamp } from './clock.js';
import type { SpaceCounters } from './counters.js';
import type { EntryWriter } from './entry-writer.js';
import { FactoryContextImpl } from './factory-context.js';
import type { Flight } from './flights.js';
import type { SpaceEvents } from './space-events.js';

/**
 * One factory run, bounded by `factoryTimeout.hard` on the shared deadline timer (core's
 * {@link DeadlineCall}, as `withTimeout` is). It is also the run's abort handle: the factory's
 * signal is made only if the factory reads it, and is aborted past the hard timeout or by
 * `close()`.
 */
class FactoryCall extends DeadlineCall {
  /** The error the hard timeout rejected with, once it passed. */
  expiredWith: TimeoutError | undefined = undefined;

  constructor(
    timeoutMs: number,
    private readonly key: string,
  ) {
    super(timeoutMs, undefined);
  }

  protected expired(): void {
    const error = factoryTimeout(this.key, this.timeoutMs);
    this.expiredWith = error;
    // Settle before aborting: abort listeners run synchronously and may throw.
    this.reject(error);
    this.abort(error);
  }
}

/** What a {@link FactoryRunner} works with. */
export interface FactoryRunnerParts {
  readonly counters: SpaceCounters;
  readonly events: SpaceEvents;
  /** The cache's running factories: `close()` aborts them. */
  readonly running: Set<AbortHandle>;
  readonly writer: EntryWriter;
}

/**
 * Runs a flight's factory: counts it, bounds it by the hard timeout, serves the flight's stale
 * value if the factory fails or times out, and hands a result to the {@link EntryWriter}.
 */
export class FactoryRunner {
  constructor(private readonly parts: FactoryRunnerParts) {}

  /**
   * Runs `flight`'s factory. Resolves with its result (its L2 write is left in `flight.write`,
   * so the flight ends once it settles), or with the stale value when the factory failed or
   * passed the hard timeout; rejects with the factory's error (or the `TimeoutError`) when
   * there is no stale value, and with `CACHE_INVALID_VALUE` when the result cannot be stored.
   */
  async run(flight: Flight): Promise<unknown> {
    const { key, settings } = flight;
    const { counters, events, running } = this.parts;
    const promise = promiseWithSettlers();
    const call = new FactoryCall(settings.hardTimeout, key);
    running.add(call);
    const context = new FactoryContextImpl(key, call, flight.stale?.value);
    const createdAt = stamp();
    counters.factoryCalls++;
    let result: unknown;
    try {
      if (settings.hardTimeout > 0) call.arm();
      try {
        call.follow(flight.factory(context));
      } catch (error) {
        call.fail(error);
      }
      result = await promise;
    } catch (error) {
      const timedOut = call.expiredWith !== undefined && error === call.expiredWith;
      if (timedOut) counters.factoryTimeouts++;
      else counters.factoryErrors++;
      events.error(error, 'factory', key);
      const stale = flight.stale;
      if (stale === undefined) throw error;
      counters.staleServed++;
      events.stale(key, timedOut ? 'hard-timeout' : 'factory-error');
      return stale.value;
    } finally {
      running.delete(call);
    }
    if (context.skipped || result === undefined) return result;
    const tags = context.tags === undefined ? settings.tags : context.tags.length === 0 ? undefined : context.tags;
    // Not awaited: with Redis stalled, waiting for the SET would add a second `l2Timeout` to the
    // caller's wait. The flight keeps it and ends when it settles (see get-or-set.ts).
    flight.write = this.parts.writer.write({
      key,
      value: result,
      ttl: context.ttl ?? settings.ttl,
      grace: settings.grace,
      jitter: settings.jitter,
      earlyRefresh: settings.earlyRefresh,
      tags,
      createdAt,
      flight,
      announce: false,
    });
    return result;
  }
}
