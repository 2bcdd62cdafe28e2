import type { CacheTime } from './clock.js';
import { promiseWithSettlers, DeadlineCall, deadlineNow } from '../core/index.js';
import { BusOp, keysMessage, type SpacePublisher } from './bus-message.js';
import type { CoreCounters } from './counters.js';
import type { EntrySettings } from './entry-settings.js';
import { freshFor, type EntryReader } from './entry-reader.js';
import type { Envelope } from './envelope.js';
import type { L1Entry } from './l1-layer.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import type { CacheState } from './space-context.js';
import type { SpaceKeys } from './space-keys.js';

/** First pause between two looks at Redis while another process holds the lock; it doubles up to {@link MAX_NAP_MS}. */
const FIRST_NAP_MS = 5;
const MAX_NAP_MS = 50;

/**
 * A lock waiter's pause: a call on the shared deadline timer (core's {@link DeadlineCall}) whose
 * deadline is its normal end, or which the lock holder's bus message ends sooner
 * ({@link RedisLock.wake}).
 */
class Nap extends DeadlineCall {
  constructor(
    timeoutMs: number,
    private readonly naps: Map<string, Nap>,
    private readonly key: string,
  ) {
    super(timeoutMs, undefined);
  }

  protected expired(): void {
    this.forget();
    this.resolve(undefined);
  }

  wake(): void {
    this.forget();
    this.fulfil(undefined);
  }

  private forget(): void {
    if (this.naps.get(this.key) === this) this.naps.delete(this.key);
  }
}

/** What a {@link RedisLock} works with. */
export interface RedisLockParts {
  readonly l2: L2;
  readonly keys: SpaceKeys;
  readonly reader: EntryReader;
  readonly counters: CoreCounters;
  /** Waiting stops once the cache is closed. */
  readonly state: CacheState;
  readonly publisher: SpacePublisher;
  readonly time: CacheTime;
}

/**
 * Cross-process stampede protection (`lock`): before running a factory, take a short Redis lock
 * (`SET NX PX lock.ttl`); a process that does not get it waits for the holder's value (at most
 * `lock.wait`; woken by the holder's bus message, looking at Redis meanwhile), then runs the
 * factory itself. The holder releases the lock (compare-and-delete) once its value is in Redis.
 */
export class RedisLock {
  /** This process's waiters, by key (one flight per key, so at most one each). */
  private readonly naps = new Map<string, Nap>();
  private seq = 0;

  constructor(private readonly parts: RedisLockParts) {}

  /**
   * Takes the lock of `key` (resolves with its token), or waits for the holder's value
   * (resolves with it), or gives up (resolves `undefined`: run the factory without the lock).
   * For an early refresh, only a value newer than `refreshOf` counts.
   */
  async acquireOrWait(key: string, lock: NonNullable<EntrySettings['lock']>, refreshOf: L1Entry | undefined): Promise<string | Envelope | undefined> {
    const { l2, reader, counters } = this.parts;
    const lockKey = this.parts.keys.lock(key);
    const token = `${this.parts.publisher.instanceId}:${++this.seq}`;
    let got = await l2.acquire(lockKey, token, lock.ttl);
    if (got === FAIL) return undefined;
    if (got) {
      counters.lockAcquired++;
      return token;
    }
    counters.lockWaited++;
    // Waiting is timed on the deadline timer's clock, as its naps are.
    const deadline = deadlineNow() + lock.wait;
    let delay = FIRST_NAP_MS;
    for (;;) {
      const left = deadline - deadlineNow();
      if (left <= 0 || this.parts.state.closed) break;
      await this.nap(key, Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_NAP_MS);
      const read = await reader.fetch(key);
      if (read === FAIL) return undefined;
      if (freshFor(read, refreshOf, this.parts.time.now())) return read;
      got = await l2.acquire(lockKey, token, lock.ttl);
      if (got === FAIL) return undefined;
      if (got) {
        // The holder writes its value before it releases the lock: look once more.
        const again = await reader.fetch(key);
        if (again !== FAIL && freshFor(again, refreshOf, this.parts.time.now())) {
          void l2.release(lockKey, token);
          return again;
        }
        counters.lockAcquired++;
        return token;
      }
    }
    counters.lockTimedOut++;
    return undefined;
  }

  /**
   * Releases the lock of `key` held with `token`, then wakes the other processes' waiters (same
   * connection: in this order). After `close()` neither is sent; the lock then expires after
   * `lock.ttl`, and waiters find the value in Redis before that (they look before each attempt).
   */
  release(key: string, token: string): void {
    const { l2, publisher } = this.parts;
    void l2.release(this.parts.keys.lock(key), token);
    void publisher.publish(keysMessage(publisher, BusOp.lockReleased, [key]));
  }

  /** Wakes this process's waiter of each key, if any (the holder's bus message). */
  wake(keys: readonly string[]): void {
    for (const key of keys) this.naps.get(key)?.wake();
  }

  /** Pauses `ms`, or less if the holder of `key` announces its value. */
  private nap(key: string, ms: number): Promise<void> {
    const promise = promiseWithSettlers<void>();
    const nap = new Nap(ms, this.naps, key);
    this.naps.set(key, nap);
    nap.arm();
    return promise;
  }
}
