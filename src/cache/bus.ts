import type { CacheRedis } from './types.js';

/**
 * One invalidation message. Messages carry keys, never values. `i` is the publishing instance
 * (each instance ignores its own), `o` the operation, `n` the namespace (`null` for the root).
 */
export interface BusMessage {
  /** Publisher's instance id. */
  i: string;
  /**
   * `s` set (keys), `d` delete (keys), `t` tags invalidated at `at`, `p` glob pattern, `c` clear,
   * `r` a lock holder finished (keys): wake the waiters.
   */
  o: 's' | 'd' | 't' | 'p' | 'c' | 'r';
  /** Namespace, `null` for the root. */
  n: string | null;
  /** Keys (`s`, `d`, `r`) or tags (`t`). */
  k?: string[];
  /** Invalidation time (`t`). */
  at?: number;
  /** Glob (`p`). */
  p?: string;
}

type SubscriberClient = CacheRedis & {
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
};

/**
 * The coherence bus: Redis pub/sub on a connection made with `duplicate()`. Publishing goes
 * through the main client (after the write it announces, on the same connection, so a receiver
 * that drops its L1 copy and reads again finds the new value).
 */
export class Bus {
  connected = false;
  private readonly sub: SubscriberClient;
  private closed = false;

  constructor(
    client: CacheRedis,
    private readonly channel: string,
    private readonly instanceId: string,
    private readonly onMessage: (message: BusMessage) => void,
    private readonly onState: (connected: boolean) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.sub = client.duplicate() as SubscriberClient;
    this.sub.on('message', this.handleMessage);
    this.sub.on('ready', this.handleReady);
    this.sub.on('close', this.handleClose);
    this.sub.on('end', this.handleClose);
    this.sub.on('error', this.handleError);
    this.subscribe();
  }

  private subscribe(): void {
    this.sub.subscribe(this.channel).then(
      () => this.setConnected(true),
      (error: unknown) => {
        if (!this.closed) this.onError(error);
      },
    );
  }

  private setConnected(connected: boolean): void {
    if (this.closed || this.connected === connected) return;
    this.connected = connected;
    this.onState(connected);
  }

  private readonly handleReady = (): void => {
    // ioredis resubscribes on reconnect before 'ready'; SUBSCRIBE is processed in order, so
    // messages published from now on reach us.
    if (this.connected) return;
    this.subscribe();
  };

  private readonly handleClose = (): void => this.setConnected(false);

  private readonly handleError = (error: unknown): void => {
    if (!this.closed) this.onError(error);
  };

  private readonly handleMessage = (...args: unknown[]): void => {
    const [channel, text] = args;
    if (channel !== this.channel || typeof text !== 'string') return;
    let message: BusMessage;
    try {
      message = JSON.parse(text) as BusMessage;
    } catch (error) {
      this.onError(error);
      return;
    }
    if (message === null || typeof message !== 'object' || message.i === this.instanceId) return;
    this.onMessage(message);
  };

  /** Quits the subscriber connection (bounded: disconnects if QUIT does not answer in `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connected = false;
    const sub = this.sub;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      sub.quit().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    sub.disconnect();
    sub.off('message', this.handleMessage);
    sub.off('ready', this.handleReady);
    sub.off('close', this.handleClose);
    sub.off('end', this.handleClose);
    // Keep a no-op error listener: a late socket error on a closed client must not crash the process.
    sub.off('error', this.handleError);
    sub.on('error', noop);
  }
}

function noop(): void {}
