import { randomUUID } from 'node:crypto';
import { invalidArgument, quitWithin, type RedisPubSub, type RedisSubscriber } from '../core/index.js';

/** How {@link CircuitBreaker}s on several instances tell one another that they opened or closed. */
export interface BreakerShareOptions {
  /**
   * The `Redis` or `Cluster` client you already have (ioredis 5 or 6, either reply mapping); the
   * subscription is made with `duplicate()`.
   */
  redis: BreakerShareRedis;
  /** The pub/sub channel, e.g. `'myapp:breakers'`; every breaker on it hears the others of its name. */
  channel: string;
}

/** What a channel asks of a breaker sharing it. @internal */
export interface ShareMember {
  readonly name: string;
  /** How old (wall clock) a message may be and still be acted on: the breaker's cooldown. */
  readonly cooldownMs: number;
  /** Another instance's breaker of this name opened, or closed after its probes passed. */
  onRemote(event: 'open' | 'close'): void;
}

/**
 * The client a breaker share publishes on and subscribes with: an ioredis `Redis` or `Cluster` of
 * ioredis 5 or 6 (also from another ioredis copy than the one headroom was built against).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis: BreakerShareRedis = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type BreakerShareRedis = RedisPubSub;

/** One message: version, breaker name, event, sender id, wall-clock time of sending. */
interface ShareMessage {
  v: 1;
  n: string;
  e: 'open' | 'close';
  i: string;
  t: number;
}

/** How long `leave` waits for QUIT before it drops the subscriber connection. */
const QUIT_TIMEOUT_MS = 1_000;

function noop(): void {}

/** Wall-clock milliseconds: messages cross processes and hosts, where only wall time compares. */
function wallNow(): number {
  return Date.now();
}

/**
 * One subscription per client and channel, shared by every breaker of the process on that
 * channel: fifty breakers cost one extra connection, not fifty.
 */
class SharedChannel {
  connected = false;
  private readonly sub: RedisSubscriber;
  private readonly members = new Map<string, Set<Member>>();
  private size = 0;

  constructor(
    private readonly client: RedisPubSub,
    readonly channel: string,
    private readonly onEmpty: () => void,
  ) {
    this.sub = client.duplicate();
    this.sub.on('message', this.handleMessage);
    this.sub.on('ready', this.handleReady);
    this.sub.on('close', this.handleClose);
    // Connection errors reach the listener instead of crashing the process; the breaker keeps
    // deciding on its own while the subscription is down, which is all a lost message can cost.
    this.sub.on('error', noop);
    // Now (which also connects a client made with lazyConnect), and again on every 'ready'.
    this.subscribe();
  }

  join(member: Member): void {
    let set = this.members.get(member.name);
    if (set === undefined) this.members.set(member.name, (set = new Set()));
    set.add(member);
    this.size++;
  }

  async leave(member: Member): Promise<void> {
    const set = this.members.get(member.name);
    if (set === undefined || !set.delete(member)) return;
    if (set.size === 0) this.members.delete(member.name);
    if (--this.size > 0) return;
    this.onEmpty();
    await this.close();
  }

  /** Fire and forget: a publish that fails, or waits in ioredis' offline queue, is lost or late, and late ones are ignored. */
  publish(message: ShareMessage): void {
    try {
      this.client.publish(this.channel, JSON.stringify(message)).catch(noop);
    } catch {
      // A client that throws synchronously (already quit): the message is lost, nothing else.
    }
  }

  private subscribe(): void {
    this.sub.subscribe(this.channel).then(() => {
      this.connected = true;
    }, noop);
  }

  /** After a reconnect (ioredis resubscribes on its own, but not a subscription that had failed). */
  private readonly handleReady = (): void => this.subscribe();

  private readonly handleClose = (): void => {
    this.connected = false;
  };

  private readonly handleMessage = (...args: unknown[]): void => {
    const [channel, text] = args;
    if (channel !== this.channel || typeof text !== 'string') return;
    let message: ShareMessage;
    try {
      message = JSON.parse(text) as ShareMessage;
    } catch {
      return;
    }
    if (message === null || typeof message !== 'object' || message.v !== 1 || typeof message.n !== 'string') return;
    if ((message.e !== 'open' && message.e !== 'close') || typeof message.t !== 'number') return;
    const set = this.members.get(message.n);
    if (set === undefined) return;
    const age = wallNow() - message.t;
    for (const member of set) {
      // A message older than the cooldown describes a state that has run its course by now
      // (one queued while Redis was away, say): acting on it would only add a stale outage.
      if (member.id !== message.i && age <= member.cooldownMs) member.target.onRemote(message.e);
    }
  };

  private async close(): Promise<void> {
    const sub = this.sub;
    sub.off('message', this.handleMessage);
    sub.off('ready', this.handleReady);
    sub.off('close', this.handleClose);
    this.connected = false;
    await quitWithin(sub, QUIT_TIMEOUT_MS);
    sub.disconnect();
    // The no-op error listener stays: a late socket error on a closed client must not crash anyone.
  }
}

const channels = new WeakMap<object, Map<string, SharedChannel>>();

/** One breaker's place on a shared channel. */
class Member {
  readonly id = randomUUID();
  readonly name: string;
  readonly cooldownMs: number;

  constructor(readonly target: ShareMember) {
    this.name = target.name;
    this.cooldownMs = target.cooldownMs;
  }
}

/**
 * A breaker's link to the others of its name: {@link BreakerShare.announce} tells them, and
 * {@link ShareMember.onRemote} hears them.
 *
 * @internal
 */
export class BreakerShare {
  private readonly member: Member;
  private left = false;

  constructor(
    private readonly shared: SharedChannel,
    target: ShareMember,
  ) {
    this.member = new Member(target);
    shared.join(this.member);
  }

  /** Whether the subscription is up (messages from the others reach this breaker). */
  get connected(): boolean {
    return !this.left && this.shared.connected;
  }

  /** The channel's name. */
  get channel(): string {
    return this.shared.channel;
  }

  announce(event: 'open' | 'close'): void {
    if (this.left) return;
    this.shared.publish({ v: 1, n: this.member.name, e: event, i: this.member.id, t: wallNow() });
  }

  /** Stops sharing; the last breaker to leave a channel closes its subscription (QUIT, bounded to 1 s). */
  leave(): Promise<void> {
    if (this.left) return Promise.resolve();
    this.left = true;
    return this.shared.leave(this.member);
  }
}

/**
 * Checks `share` and joins its channel (made on first use, per client and channel).
 *
 * @internal
 */
export function joinShare(share: unknown, target: ShareMember): BreakerShare {
  if (typeof share !== 'object' || share === null || Array.isArray(share)) throw invalidArgument('share', 'an object { redis, channel }', share);
  const { redis, channel } = share as Partial<BreakerShareOptions>;
  const candidate = redis as Partial<RedisPubSub> | null | undefined;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.duplicate !== 'function' || typeof candidate.publish !== 'function') {
    throw invalidArgument('share.redis', 'an ioredis Redis or Cluster client', redis);
  }
  const client = candidate as RedisPubSub;
  if (typeof channel !== 'string' || channel.length === 0) throw invalidArgument('share.channel', 'a non-empty string', channel);
  const name = channel;
  let byChannel = channels.get(client);
  if (byChannel === undefined) channels.set(client, (byChannel = new Map<string, SharedChannel>()));
  let shared = byChannel.get(name);
  if (shared === undefined) {
    const map = byChannel;
    shared = new SharedChannel(client, name, () => map.delete(name));
    byChannel.set(name, shared);
  }
  return new BreakerShare(shared, target);
}
