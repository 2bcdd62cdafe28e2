import type { DashboardFrame } from './frame.js';

/** One connected page. */
interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
  signal: AbortSignal;
  onAbort: () => void;
}

/** Frames a slow client may have queued before further ones are skipped for it. */
const MAX_QUEUED_FRAMES = 4;

const encoder = new TextEncoder();

/**
 * The server-sent events feed: one timer for all connected pages, started by the first and
 * cleared when the last leaves, so nothing runs while nobody watches. Each tick builds one frame,
 * encodes it once and queues the same bytes on every stream; a client that has not read its last
 * few frames misses the next ones rather than growing a queue (a live view has no use for old
 * frames).
 *
 * @internal
 */
export class FrameFeed {
  private readonly clients = new Set<Client>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private building = false;
  private sequence = 0;
  private closed = false;

  constructor(
    private readonly build: () => Promise<DashboardFrame>,
    private readonly onStop: () => void,
    private readonly intervalMs: number,
  ) {}

  /** Connected streams. */
  get size(): number {
    return this.clients.size;
  }

  /** Whether the timer is running (for tests: no timer outlives the last client). */
  get ticking(): boolean {
    return this.timer !== undefined;
  }

  /**
   * A new event stream, ending when `signal` aborts (the client went away), when the response
   * is cancelled, or on {@link FrameFeed.close}.
   */
  open(signal: AbortSignal): ReadableStream<Uint8Array> {
    let client: Client | undefined;
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          // The reconnection delay the browser waits after the connection drops.
          controller.enqueue(encoder.encode(`retry: ${Math.min(this.intervalMs, 2_000)}\n\n`));
          if (this.closed || signal.aborted) {
            controller.close();
            return;
          }
          const onAbort = (): void => this.drop(client as Client, true);
          client = { controller, signal, onAbort };
          signal.addEventListener('abort', onAbort, { once: true });
          this.clients.add(client);
          if (this.timer === undefined) {
            this.timer = setInterval(() => void this.tick(), this.intervalMs);
            this.timer.unref();
          }
          // The page gets its first frame now rather than after a full interval.
          void this.tick();
        },
        cancel: () => {
          if (client !== undefined) this.drop(client, false);
        },
      },
      { highWaterMark: MAX_QUEUED_FRAMES },
    );
  }

  /** Ends every stream and stops the timer; later {@link FrameFeed.open} calls end at once. */
  close(): void {
    this.closed = true;
    for (const client of [...this.clients]) this.drop(client, true);
  }

  private drop(client: Client, end: boolean): void {
    if (!this.clients.delete(client)) return;
    client.signal.removeEventListener('abort', client.onAbort);
    if (end) {
      try {
        client.controller.close();
      } catch {
        // Already closed or errored by the adapter.
      }
    }
    if (this.clients.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.onStop();
    }
  }

  private async tick(): Promise<void> {
    // A frame still being built (a slow health run) makes this tick a no-op, not a second build.
    if (this.building || this.clients.size === 0) return;
    this.building = true;
    let frame: DashboardFrame;
    try {
      frame = await this.build();
    } catch (err) {
      // A source that throws (a closed tracker's bad window...) must not end the feed: say so in a comment line.
      this.broadcast(`: frame failed: ${(err instanceof Error ? err.message : String(err)).replace(/[\r\n]+/g, ' ')}\n\n`);
      return;
    } finally {
      this.building = false;
    }
    this.broadcast(`id: ${++this.sequence}\ndata: ${JSON.stringify(frame)}\n\n`);
  }

  private broadcast(text: string): void {
    const bytes = encoder.encode(text);
    for (const client of this.clients) {
      const desired = client.controller.desiredSize;
      if (desired !== null && desired <= 0) continue;
      try {
        client.controller.enqueue(bytes);
      } catch {
        this.drop(client, false);
      }
    }
  }
}
