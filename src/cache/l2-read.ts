import { promiseWithSettlers, Deadline, settlers, type CorkableSocket, type Settle } from '../core/index.js';
import { FAIL, type Fail } from './l2-outcome.js';

/** What a read reports its outcome to: the L2 it was sent through (its breaker and hooks). */
export interface ReadOwner {
  /** The reply came: the breaker counts a success. */
  succeeded(): void;
  /** The GET failed (`timedOut`: it passed `l2Timeout`). */
  failed(error: unknown, operation: string, timedOut: boolean): void;
  /** The GET passed `l2Timeout`. */
  timedOut(operation: string): void;
}

/** The callback that hands a `client.get` outcome (or a skipped read's FAIL) to `read`. */
export function settlerOf(read: L2Read): Settle {
  return (value) => read.settled(value);
}

/**
 * The reads started in one tick, sharing one node on headroom's shared deadline timer (one
 * `armDeadline`, one clock read and one `disarmDeadline` per batch instead of per read: with
 * auto-pipelining, the reads of a tick are answered together). It is armed at the end of the
 * tick that started its reads (a microtask), from an exact clock reading taken then, which is
 * after every member's start, so no read ever times out early; a read's deadline is counted from
 * the end of the synchronous stretch that started it (late by that stretch at most).
 *
 * A settled read leaves its slot empty, so the batch holds only reads still pending, and is
 * disarmed when the last one settles.
 *
 * @internal
 */
export class ReadBatch extends Deadline {
  /** The reads of the batch; a settled read's slot is emptied. */
  readonly reads: Array<L2Read | undefined> = [];
  /** How many of them are still pending. */
  pending = 0;
  /** The socket corked while the batch's GETs are written (uncorked when the batch is armed). */
  corked: CorkableSocket | undefined = undefined;

  constructor(readonly l2: ReadOwner) {
    super();
  }

  /** Deadline timer callback: every read still pending passed `l2Timeout`. */
  onDeadline(): void {
    const reads = this.reads;
    for (let i = 0; i < reads.length; i++) {
      const read = reads[i];
      if (read !== undefined) {
        reads[i] = undefined;
        read.onDeadline();
      }
    }
    this.pending = 0;
  }
}

/**
 * An L2 `GET` whose outcome goes to {@link L2Read.onReply}: the reply (`string` or `null`), or
 * {@link FAIL} when it failed, passed `l2Timeout`, or was skipped by the breaker; exactly once.
 *
 * The read carries its own promise and resolving functions and is bounded by its tick's
 * {@link ReadBatch} on headroom's shared deadline timer. On a standalone client the reply reaches
 * it straight from ioredis' reply parser (see `get-command.ts`), so a read allocates this object,
 * its promise and one ioredis command, and runs no async function and no promise callback. The
 * cache's flights extend it: the object that coalesces callers is the object that bounds the call.
 */
export abstract class L2Read {
  /** What the callers await; settled by the subclass through {@link L2Read.resolve}/{@link L2Read.reject}. */
  readonly promise: Promise<unknown>;
  readonly resolve: Settle;
  readonly reject: Settle;
  /**
   * @internal The batch bounding the GET while it is pending (`undefined` before, after, and for
   * a skipped read), and this read's slot in it. Also the read's only link to the L2 (`batch.l2`).
   */
  batch: ReadBatch | undefined = undefined;
  /** @internal See {@link L2Read.batch}. */
  slot = 0;

  constructor() {
    this.promise = promiseWithSettlers();
    this.resolve = settlers.resolve;
    this.reject = settlers.reject;
  }

  /**
   * @internal The GET's outcome: a string or `null` is a reply; anything else is a rejection
   * reason (a GET never fulfils with anything else); {@link FAIL} comes only for a skipped read.
   * May be called synchronously from inside `L2.read` (a client that is already closed
   * rejects at once) and, on the direct path, from inside ioredis' reply parser.
   */
  settled(value: unknown): void {
    const batch = this.batch;
    if (batch === undefined) {
      // A reply that lost to the deadline is dropped.
      if (value === FAIL) this.onReply(FAIL);
      return;
    }
    this.batch = undefined;
    batch.reads[this.slot] = undefined;
    if (--batch.pending === 0) batch.disarmDeadline();
    const l2 = batch.l2;
    if (typeof value === 'string' || value === null) {
      l2.succeeded();
      this.onReply(value);
    } else {
      l2.failed(value, 'get', false);
      this.onReply(FAIL);
    }
  }

  /**
   * The GET's outcome; must not throw (settle {@link L2Read.promise} instead). It may run inside
   * ioredis' reply parser: work that can run user code (a factory) belongs in a later microtask.
   */
  abstract onReply(reply: string | null | Fail): void;

  /** @internal The GET passed `l2Timeout` (told by its batch). */
  onDeadline(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    this.batch = undefined;
    batch.l2.timedOut('get');
    this.onReply(FAIL);
  }
}
