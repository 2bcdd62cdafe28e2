import { parseMessage, type BusMessage } from './bus-message.js';
import type { LogPage } from './invalidation-log.js';

/** What a catch-up needs: reading the log, applying one entry, forgetting everything. */
export interface CatchUpContext {
  /** Reads entries from `from` (inclusive); `undefined` when the read failed or timed out. */
  read(from: number, count: number): Promise<LogPage | undefined>;
  /** Applies one entry read from the log (parsed, not yet checked field by field). */
  apply(message: BusMessage): void;
  /** The log cannot tell what was missed: drop every L1 entry and remembered tag time. */
  resync(): void;
}

/** The outcome of one catch-up. */
export interface CatchUpResult {
  /** Entries applied from the log. */
  applied: number;
  /** True when the log could not cover the gap and everything was dropped instead. */
  resynced: boolean;
}

/** Entries read per round trip. */
const PAGE = 500;

/**
 * Where this instance stands in the invalidation log: the number up to which every message has
 * been applied (`seq`), and the identity of that message, so that a log that lost its newest
 * entries in a failover and then grew again (same numbers, other messages) is recognized.
 *
 * Live messages advance it when they arrive in order; a number that jumps is a gap, closed by
 * {@link LogCursor.catchUp}, which reads the log from `seq` and applies what follows, or resyncs
 * when the log was trimmed past `seq`, reset, or rewritten.
 */
export class LogCursor {
  /** Every message up to this number was applied; `undefined` before the first heartbeat. */
  seq: number | undefined = undefined;
  /** Who published message `seq` and their message counter, when known. */
  private lastFrom: string | undefined = undefined;
  private lastCount: number | undefined = undefined;

  constructor(
    /** How many entries the log keeps: a catch-up reads at most about this many. */
    private readonly capacity: number,
  ) {}

  /** Starts from `top` (the first heartbeat's): messages before it are not ours to catch up. */
  start(top: number): void {
    if (this.seq !== undefined) return;
    this.seq = top;
  }

  /**
   * A live message numbered `q` arrived (and was applied), from publisher `from` with counter
   * `count`. Returns true when messages before it were missed.
   */
  live(q: number, from: string, count: number | undefined): boolean {
    const seq = this.seq;
    if (seq === undefined) return false;
    if (q === seq + 1) {
      this.advance(q, from, count);
      return false;
    }
    return q > seq + 1;
  }

  /**
   * True when the log's `top` (from a heartbeat, which follows every message published before
   * it on the same connection) shows something to read: messages missed, or a log that went
   * back (reset, or lost entries in a failover).
   */
  behind(top: number): boolean {
    return this.seq !== undefined && top !== this.seq;
  }

  /**
   * Reads and applies what follows `seq`, until the top; see {@link LogCursor}. Live messages
   * may move `seq` forward while a read is in flight: each page is judged against `seq` as it
   * is when the page arrives.
   */
  async catchUp(ctx: CatchUpContext): Promise<CatchUpResult | undefined> {
    let applied = 0;
    const maxPages = Math.ceil((this.capacity * 2) / PAGE) + 1;
    for (let pages = 0; ; pages++) {
      const asked = this.seq ?? 0;
      const from = asked === 0 ? 1 : asked;
      const page = await ctx.read(from, PAGE);
      if (page === undefined) return undefined;
      const { top, entries } = page;
      const seq = this.seq ?? 0;
      if (top < seq || pages > maxPages) return this.resync(ctx, top, applied);
      const atSeq = seq >= from ? entries[seq - from] : undefined;
      if (seq > 0 && atSeq !== undefined && atSeq.seq === seq && !this.sameAsLast(atSeq.text)) return this.resync(ctx, top, applied);
      if (top === seq) return { applied, resynced: false };
      if (entries[0]?.seq !== from) return this.resync(ctx, top, applied); // trimmed past us
      for (const entry of entries) {
        if (entry.seq <= seq) continue;
        const message = parseMessage(entry.text);
        if (message !== undefined) {
          ctx.apply(message);
          applied++;
        }
        this.advance(entry.seq, message?.i, message?.u);
      }
      if ((this.seq ?? 0) >= top) return { applied, resynced: false };
    }
  }

  private resync(ctx: CatchUpContext, top: number, applied: number): CatchUpResult {
    ctx.resync();
    this.seq = top;
    this.lastFrom = undefined;
    this.lastCount = undefined;
    return { applied, resynced: true };
  }

  private advance(seq: number, from: string | undefined, count: number | undefined): void {
    this.seq = seq;
    this.lastFrom = from;
    this.lastCount = typeof count === 'number' ? count : undefined;
  }

  /** True when `text` is the message this cursor applied as `seq` (or when that is unknown). */
  private sameAsLast(text: string): boolean {
    if (this.lastFrom === undefined) return true;
    const message = parseMessage(text);
    return message !== undefined && message.i === this.lastFrom && message.u === this.lastCount;
  }
}
