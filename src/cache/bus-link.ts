import { withTimeout } from '../timeout/index.js';
import { Bus } from './bus.js';
import { BusOp, clearMessage, parseMessage, type BusMessage } from './bus-message.js';
import { BusOutbox } from './bus-outbox.js';
import { BusPulse } from './bus-pulse.js';
import { unreadableBus } from './cache-errors.js';
import { InvalidationLog, type LogPage } from './invalidation-log.js';
import type { L2 } from './l2.js';
import { FAIL } from './l2-outcome.js';
import { LogCursor } from './log-cursor.js';
import type { BusDownReason } from './cache-events.js';
import type { CacheRedis } from './cache-options.js';

/** Settings of the bus, read once by the core. */
export interface BusLinkConfig {
  /** The user's client: publishes, heartbeats and log reads go through it. */
  client: CacheRedis;
  /** The bounded, breaker-gated view of it, for the invalidations themselves. */
  l2: L2;
  prefix: string;
  instanceId: string;
  /** Time between heartbeats (`busHeartbeat`). */
  heartbeatMs: number;
  /** Entries the catch-up log keeps (`busLog`); `false`: no log, a bus that was down resyncs. */
  logEntries: number | false;
  /** Bound of one log read or resend (`l2Timeout`). */
  timeoutMs: number;
}

/** What the bus tells the cache. */
export interface BusLinkHooks {
  /** Another instance's invalidation (live or caught up). */
  apply(message: BusMessage): void;
  /** The bus is trusted again (`first`: for the first time since the cache was created). */
  up(info: { first: boolean; caughtUp: number; resynced: boolean }): void;
  /** The bus can no longer be trusted. */
  down(reason: BusDownReason): void;
  /** Invalidations may have been missed and the log cannot tell which: forget everything. */
  resync(): void;
  /** Something failed on the bus (reported as the `error` event, operation `bus`). */
  error(error: unknown): void;
}

/** Heartbeats missed before the bus is declared silent. */
const SILENT_BEATS = 3;
/** Most invalidations kept for resending while the log is unreachable. */
const OUTBOX_MAX = 1_000;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

function within<T>(send: () => Promise<T>, ms: number): Promise<Outcome<T>> {
  let sent: Promise<T>;
  try {
    sent = send();
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
  return withTimeout(sent, ms).then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/**
 * The invalidation bus as the cache sees it: a subscriber connection ({@link Bus}), a heartbeat
 * that proves it hears ({@link BusPulse}), and the catch-up log ({@link InvalidationLog},
 * {@link LogCursor}, {@link BusOutbox}). It decides when the bus is up (heard recently and
 * caught up) or down (the connection closed, or silence), and after an outage applies what the
 * log says was missed instead of emptying L1.
 */
export class BusLink {
  /** True while the bus is trusted: heard within the bound, and caught up. */
  up = false;
  messagesIn = 0;
  messagesOut = 0;
  caughtUp = 0;
  resyncs = 0;

  private readonly bus: Bus;
  private readonly pulse: BusPulse;
  private readonly log: InvalidationLog | undefined;
  private readonly cursor: LogCursor | undefined;
  private readonly outbox: BusOutbox;
  private readonly channel: string;
  private readonly pulseChannel: string;
  private everUp = false;
  private subscribed = false;
  private closed = false;
  private sentCount = 0;
  private lastReconnect = 0;
  private catching: Promise<void> | undefined = undefined;
  private catchAgain = false;
  /** Caught up and resynced since the bus went down, for the `bus-up` event. */
  private sinceDown = { caughtUp: 0, resynced: false };

  constructor(
    private readonly config: BusLinkConfig,
    private readonly hooks: BusLinkHooks,
  ) {
    this.channel = `${config.prefix}bus`;
    this.pulseChannel = `${config.prefix}bus:${config.instanceId}`;
    if (config.logEntries !== false) {
      this.log = new InvalidationLog(config.client, config.prefix, config.logEntries);
      this.cursor = new LogCursor(config.logEntries);
    }
    // Past its bound the outbox is replaced by one message that clears every instance's L1.
    this.outbox = new BusOutbox(OUTBOX_MAX, () => JSON.stringify(this.stamp(clearMessage({ instanceId: config.instanceId, namespace: null }))));
    this.pulse = new BusPulse({
      intervalMs: config.heartbeatMs,
      silenceMs: config.heartbeatMs * SILENT_BEATS,
      send: (beat) => this.sendBeat(beat),
      tick: () => this.flushOutbox(),
      silent: (answered) => this.silent(answered),
    });
    this.pulse.start();
    this.bus = new Bus(config.client, [this.channel, this.pulseChannel], {
      message: (channel, text) => (channel === this.pulseChannel ? this.onBeat(text) : this.onMessage(text)),
      subscribed: (subscribed) => this.onSubscribed(subscribed),
      error: (error) => hooks.error(error),
    });
  }

  /** Invalidations waiting to be appended to the log. */
  get pending(): number {
    return this.outbox.size;
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Publishes `message` (after the write it announces). Invalidations go through the log: one
   * script appends and publishes them; when that fails they wait in the outbox and are sent
   * again once Redis answers. Lock wake-ups (`r`) are plain `PUBLISH`es. Never rejects.
   */
  async publish(message: BusMessage): Promise<void> {
    const log = this.log;
    if (log === undefined || message.o === BusOp.lockReleased) {
      const sent = await this.config.l2.publish(this.channel, JSON.stringify(message));
      if (sent !== FAIL) this.messagesOut++;
      return;
    }
    const text = JSON.stringify(this.stamp(message));
    const seq = await this.config.l2.run('publish', () => log.append(this.channel, text));
    if (seq === FAIL) this.outbox.add(text);
    else this.messagesOut++;
  }

  private stamp(message: BusMessage): BusMessage {
    message.u = ++this.sentCount;
    return message;
  }

  private flushOutbox(): void {
    const log = this.log;
    if (log === undefined || this.outbox.size === 0 || this.closed) return;
    // Not gated by the L2 breaker: it may still be cooling down while Redis answers again.
    void this.outbox.flush(async (text) => {
      const sent = await within(() => log.append(this.channel, text), this.config.timeoutMs);
      if (sent.ok) this.messagesOut++;
      return sent.ok;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  private onMessage(text: string): void {
    const message = parseMessage(text);
    if (message === undefined) {
      this.hooks.error(unreadableBus(`unreadable bus message ${JSON.stringify(text.slice(0, 80))}`));
      return;
    }
    const mine = message.i === this.config.instanceId;
    if (!mine) {
      this.messagesIn++;
      this.hooks.apply(message);
    }
    const cursor = this.cursor;
    if (cursor !== undefined && typeof message.q === 'number' && cursor.live(message.q, message.i, message.u)) this.catchUp();
  }

  private onBeat(text: string): void {
    this.pulse.heard();
    const cursor = this.cursor;
    if (cursor === undefined) {
      if (this.up || !this.subscribed) return;
      // Without a log, a bus that comes back after being down cannot know what it missed.
      if (this.everUp) this.resync();
      this.goUp();
      return;
    }
    const top = Number(text.slice(text.indexOf(':') + 1));
    if (!Number.isSafeInteger(top)) return;
    cursor.start(top);
    // Coming back, the log is read even when its top is where this instance stopped: the entry
    // there must be the one it saw (a log that was reset and grew again has other messages).
    if (cursor.behind(top) || !this.up || this.catching !== undefined) this.catchUp();
  }

  private onSubscribed(subscribed: boolean): void {
    this.subscribed = subscribed;
    if (subscribed) this.pulse.beat();
    else if (this.up) this.goDown('disconnected');
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat

  private async sendBeat(beat: number): Promise<boolean> {
    const { client } = this.config;
    const log = this.log;
    const silenceMs = this.config.heartbeatMs * SILENT_BEATS;
    const sent = await within(() => (log === undefined ? client.publish(this.pulseChannel, String(beat)) : log.pulse(this.pulseChannel, beat)), silenceMs);
    return sent.ok;
  }

  private silent(answered: boolean): void {
    if (this.up) this.goDown('silent');
    // Redis answers the heartbeat but its echo never arrives: the subscriber connection is
    // silent without being closed (or stuck reconnecting). Make a new one, at most once per
    // silence period.
    const now = Date.now();
    if (answered && now - this.lastReconnect > this.config.heartbeatMs * SILENT_BEATS) {
      this.lastReconnect = now;
      this.bus.reconnect();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // State

  private goUp(): void {
    if (this.closed || this.up) return;
    this.up = true;
    const { caughtUp, resynced } = this.sinceDown;
    this.sinceDown = { caughtUp: 0, resynced: false };
    const first = !this.everUp;
    this.everUp = true;
    this.hooks.up({ first, caughtUp, resynced });
  }

  private goDown(reason: BusDownReason): void {
    if (this.closed || !this.up) return;
    this.up = false;
    this.hooks.down(reason);
  }

  private resync(): void {
    this.resyncs++;
    this.sinceDown.resynced = true;
    this.hooks.resync();
  }

  /** Runs one catch-up at a time; a request during one runs another right after it. */
  private catchUp(): void {
    if (this.catching !== undefined) {
      this.catchAgain = true;
      return;
    }
    this.catching = this.runCatchUp().finally(() => {
      this.catching = undefined;
    });
  }

  private async runCatchUp(): Promise<void> {
    const cursor = this.cursor;
    const log = this.log;
    if (cursor === undefined || log === undefined) return;
    do {
      this.catchAgain = false;
      const result = await cursor.catchUp({
        read: (from, count) => this.readLog(log, from, count),
        apply: (message) => {
          if (message.i === this.config.instanceId || this.closed) return;
          this.caughtUp++;
          this.sinceDown.caughtUp++;
          this.hooks.apply(message);
        },
        resync: () => this.resync(),
      });
      if (result === undefined) {
        // Messages were missed and the log cannot be read: L1 is not to be trusted.
        if (this.up) this.goDown('behind');
        return;
      }
    } while (this.catchAgain && !this.closed);
    if (!this.up && this.subscribed && !this.pulse.isSilent()) this.goUp();
  }

  private async readLog(log: InvalidationLog, from: number, count: number): Promise<LogPage | undefined> {
    if (this.closed) return undefined;
    const read = await within(() => log.read(from, count), this.config.timeoutMs);
    if (read.ok) return read.value;
    this.hooks.error(read.error);
    return undefined;
  }

  /** Stops the heartbeat, sends what the outbox holds (bounded), and quits the subscriber connection. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.pulse.stop();
    const log = this.log;
    if (log !== undefined && this.outbox.size > 0) {
      const deadline = Date.now() + timeoutMs;
      await this.outbox.flush(async (text) => {
        const left = deadline - Date.now();
        return left > 0 && (await within(() => log.append(this.channel, text), left)).ok;
      });
    }
    this.closed = true;
    this.up = false;
    await this.bus.close(timeoutMs);
  }
}
