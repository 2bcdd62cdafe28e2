/** What the heartbeat needs from its owner. */
export interface BusPulseOptions {
  /** Time between two heartbeats. */
  intervalMs: number;
  /** Nothing heard for longer than this is silence. */
  silenceMs: number;
  /**
   * Sends heartbeat number `beat` through the main client, to come back on the subscriber
   * connection. Resolves with `true` when Redis answered it, `false` when it failed or gave up
   * (it must settle within `silenceMs` and never reject).
   */
  send(beat: number): Promise<boolean>;
  /** Called on every tick, before the silence check (work that waits for Redis to answer). */
  tick(): void;
  /**
   * Called on every tick while nothing was heard for `silenceMs`. `answered`: Redis answered a
   * heartbeat sent since the last one heard, so Redis is reachable and the echo was lost on the
   * way back (the subscriber connection is silent).
   */
  silent(answered: boolean): void;
  /** The clock (tests inject one). Default `Date.now`. */
  now?: () => number;
}

/**
 * The bus heartbeat: every `intervalMs` one message is published to a channel only this
 * instance listens to, and its echo on the subscriber connection proves the whole path works
 * (main connection, Redis or the Cluster bus, subscriber connection). Silence is declared
 * once nothing came back for `silenceMs`, so it is noticed within `silenceMs + intervalMs` of
 * the last echo. It costs one small command per interval and nothing per read.
 *
 * At most one heartbeat is in flight: a Redis that does not answer gets no pile of them.
 *
 * A starved event loop (a long synchronous stretch, a busy machine) delays our own timer and the
 * reading of the echo alike: after a stall, Node runs due timers before it reads sockets, so the
 * echo that arrived during the stall is still unread when the tick looks for it. The time our
 * ticks fired late is therefore not counted as silence: if a tick came X ms late, the echo had
 * X ms less than `silenceMs` to be read, and the check gives those X ms back.
 */
export class BusPulse {
  /** When the last echo arrived (or the pulse started). */
  lastHeard: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined = undefined;
  private beats = 0;
  private inFlight = false;
  /** A heartbeat sent after the last echo was answered by Redis. */
  private answered = false;
  /** When the last tick ran (or the pulse started). */
  private lastTickAt = 0;
  /** How late our ticks fired, in total, since the last echo: time the echo never had. */
  private starvedMs = 0;

  constructor(private readonly options: BusPulseOptions) {
    this.now = options.now ?? Date.now;
    this.lastHeard = this.now();
  }

  /** Starts the interval (unref'd: it never keeps a process alive). */
  start(): void {
    if (this.timer !== undefined) return;
    this.lastHeard = this.lastTickAt = this.now();
    this.starvedMs = 0;
    this.timer = setInterval(this.onTick, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the interval. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** An echo arrived. */
  heard(): void {
    this.lastHeard = this.now();
    this.answered = false;
    this.starvedMs = 0;
  }

  /**
   * True when nothing was heard for longer than `silenceMs`, not counting the time our own
   * ticks were held up by a starved event loop.
   */
  isSilent(): boolean {
    return this.now() - this.lastHeard - this.starvedMs > this.options.silenceMs;
  }

  /** Sends a heartbeat now, unless one is in flight. */
  beat(): void {
    if (this.inFlight || this.timer === undefined) return;
    this.inFlight = true;
    const sentAt = this.now();
    void this.options.send(++this.beats).then((answered) => {
      this.inFlight = false;
      if (answered && sentAt >= this.lastHeard) this.answered = true;
    });
  }

  private readonly onTick = (): void => {
    const now = this.now();
    const late = now - this.lastTickAt - this.options.intervalMs;
    if (late > 0) this.starvedMs += late;
    this.lastTickAt = now;
    this.beat();
    this.options.tick();
    if (this.isSilent()) this.options.silent(this.answered);
  };
}
