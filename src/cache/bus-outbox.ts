/**
 * Invalidations that could not be appended to the catch-up log (Redis or the log's node was
 * unreachable, or the write they announce has an unknown outcome): kept in order and sent again
 * once Redis answers, so that an instance that was deaf meanwhile still finds them in the log.
 *
 * Bounded: past `max` messages they are replaced by one message that clears every instance's
 * L1 (`overflow`), which is always correct, only costly.
 */
export class BusOutbox {
  private queue: string[] = [];
  private flushing = false;

  constructor(
    private readonly max: number,
    /** The message that stands for everything once the queue overflows. */
    private readonly overflow: () => string,
  ) {}

  /** Messages waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues a message text. */
  add(text: string): void {
    if (this.queue.length >= this.max) {
      this.queue = [this.overflow()];
      return;
    }
    this.queue.push(text);
  }

  /**
   * Sends the queued messages in order with `send` (which resolves `true` once one is stored),
   * stopping at the first failure; one flush at a time.
   */
  async flush(send: (text: string) => Promise<boolean>): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const text = this.queue[0] as string;
        if (!(await send(text))) return;
        // The queue may have been replaced by an overflow meanwhile: remove only what was sent.
        if (this.queue[0] === text) this.queue.shift();
      }
    } finally {
      this.flushing = false;
    }
  }
}
