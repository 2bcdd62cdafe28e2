import { quitWithin, type RedisSubscriber } from '../core/index.js';
import type { CacheRedis } from './cache-options.js';

/** What the subscriber connection reports. */
export interface BusHandlers {
  /** A message on one of the subscribed channels. */
  message(channel: string, text: string): void;
  /** Subscribed (`true`), or the connection closed (`false`). */
  subscribed(subscribed: boolean): void;
  /** A connection or subscription error. */
  error(error: unknown): void;
}

type SubscriberClient = RedisSubscriber;

/**
 * The subscriber side of the coherence bus: Redis pub/sub on a connection made with
 * `duplicate()`. Publishing goes through the main client (after the write it announces, so a
 * receiver that drops its L1 copy and reads again finds the new value). This class only keeps
 * the subscription and hands over what arrives; whether the link is alive is judged by the
 * heartbeat (see bus-link.ts), since a silent connection raises no event here.
 */
export class Bus {
  private sub: SubscriberClient;
  private closed = false;
  private subscribedNow = false;

  constructor(
    private readonly client: CacheRedis,
    private readonly channels: readonly string[],
    private readonly handlers: BusHandlers,
  ) {
    this.sub = this.open();
  }

  /** Makes the subscriber connection and subscribes. */
  private open(): SubscriberClient {
    const sub = this.client.duplicate();
    sub.on('message', this.handleMessage);
    sub.on('ready', this.handleReady);
    sub.on('close', this.handleClose);
    sub.on('end', this.handleClose);
    sub.on('error', this.handleError);
    this.subscribe(sub);
    return sub;
  }

  /** Removes this bus's listeners from `sub` (a no-op error listener stays: a late socket error must not crash the process). */
  private detach(sub: SubscriberClient): void {
    sub.off('message', this.handleMessage);
    sub.off('ready', this.handleReady);
    sub.off('close', this.handleClose);
    sub.off('end', this.handleClose);
    sub.off('error', this.handleError);
    sub.on('error', noop);
  }

  private subscribe(sub: SubscriberClient): void {
    sub.subscribe(...this.channels).then(
      () => {
        if (sub === this.sub) this.setSubscribed(true);
      },
      (error: unknown) => {
        if (!this.closed && sub === this.sub) this.handlers.error(error);
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
    this.subscribe(this.sub);
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
   * Replaces the subscriber connection with a new one: for a link that stays open but delivers
   * nothing (a half-open TCP connection, a NAT or load balancer that forgot it, a hung node).
   * The old one is dropped without waiting: a silent peer would never answer a QUIT or a FIN.
   */
  reconnect(): void {
    if (this.closed) return;
    const old = this.sub;
    this.detach(old);
    this.setSubscribed(false);
    this.sub = this.open();
    drop(old);
  }

  /** Quits the subscriber connection (bounded: disconnects if QUIT does not answer in `timeoutMs`). */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const sub = this.sub;
    const quit = await quitWithin(sub, timeoutMs);
    this.detach(sub);
    if (quit) sub.disconnect();
    else drop(sub);
  }
}

/** Disconnects at once; on a standalone client also destroys the socket (no FIN handshake to wait for). */
function drop(sub: SubscriberClient): void {
  const stream = (sub as { stream?: { destroy?: () => void } }).stream;
  sub.disconnect();
  if (stream !== undefined && typeof stream.destroy === 'function') stream.destroy();
}

function noop(): void {}
