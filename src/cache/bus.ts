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
  /** The publisher's message counter (invalidations sent through the catch-up log). */
  u?: number;
  /** The message's number in the catch-up log, added by Redis when it is published. */
  q?: number;
}

/** What the subscriber connection reports. */
export interface BusHandlers {
  /** A message on one of the subscribed channels. */
  message(channel: string, text: string): void;
  /** Subscribed (`true`), or the connection closed (`false`). */
  subscribed(subscribed: boolean): void;
  /** A connection or subscription error. */
  error(error: unknown): void;
}

type SubscriberClient = CacheRedis & {
  subscribe(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
};

/**
 * The subscriber side of the coherence bus: Redis pub/sub on a connection made with
 * `duplicate()`. Publishing goes through the main client (after the write it announces, so a
 * receiver that drops its L1 copy and reads again finds the new value). This class only keeps
 * the subscription and hands over what arrives; whether the link is alive is judged by the
 * heartbeat (see bus-link.ts), since a silent connection raises no event here.
 */
export class Bus {
  private readonly sub: SubscriberClient;
  private closed = false;
  private subscribedNow = false;

  constructor(
    client: CacheRedis,
    private readonly channels: readonly string[],
    private readonly handlers: BusHandlers,
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
    this.sub.subscribe(...this.channels).then(
      () => this.setSubscribed(true),
      (error: unknown) => {
        if (!this.closed) this.handlers.error(error);
      },
    );
  }

  private setSubscribed(subscribed: boolean): void {
    if (this.closed || this.subscribedNow === subscribed) return;
    this.subscribedNow = subscribed;
    this.handlers.subscribed(subscribed);
  }

  private readonly handleReady = (): void => {
    // ioredis resubscribes on reconnect before 'ready'; SUBSCRIBE is processed in order, so
    // messages published from now on reach us.
    if (this.subscribedNow) return;
    this.subscribe();
  };

  private readonly handleClose = (): void => this.setSubscribed(false);

  private readonly handleError = (error: unknown): void => {
    if (!this.closed) this.handlers.error(error);
  };

  private readonly handleMessage = (...args: unknown[]): void => {
    const [channel, text] = args;
    if (this.closed || typeof channel !== 'string' || typeof text !== 'string') return;
    this.handlers.message(channel, text);
  };

  /**
   * Drops the subscriber connection and lets ioredis make a new one (and subscribe again): for a
   * link that stays open but delivers nothing (a half-open TCP connection, a NAT or load
   * balancer that forgot it, a hung node). On a standalone client the socket is destroyed at
   * once rather than after ioredis' `disconnectTimeout`: a silent peer would never answer the FIN.
   */
  reconnect(): void {
    if (this.closed) return;
    const sub = this.sub as { isCluster?: boolean; status?: string; stream?: { destroy?: () => void } };
    // A Cluster that is not ready is already reconnecting (and one with no node left would
    // never emit the 'close' that starts a reconnection).
    if (sub.isCluster === true && sub.status !== 'ready') return;
    const stream = sub.stream;
    this.sub.disconnect(true);
    if (stream !== undefined && typeof stream.destroy === 'function') stream.destroy();
  }

  /** Quits the subscriber connection (bounded: disconnects if QUIT does not answer in `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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
