import { corkClient, promiseWithSettlers, Deadline, settlers, type Settle } from '../core/index.js';
import { CircuitBreaker } from '../resilience/index.js';
import { l2Timeout } from './cache-errors.js';
import type { CacheRedis } from './cache-options.js';
import { directReadsAllowed, getCommandFor, type DirectClient, type GetCommandClass } from './get-command.js';
import { FAIL, FAIL_PROMISE, type Fail } from './l2-outcome.js';
import { ReadBatch, settlerOf, type L2Read, type ReadOwner } from './l2-read.js';

const RELEASE_LOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const SCAN_COUNT = '500';

/** What `scanDelete` sends to one server: a standalone client, or one master of a Cluster. */
interface ScanNode {
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: string): Promise<[cursor: string, keys: string[]]>;
  unlink(...keys: string[]): Promise<number>;
  pipeline(): { unlink(key: string): unknown; exec(): Promise<Array<[error: Error | null, reply: unknown]> | null> };
}

/** An ioredis `Cluster`'s list of its masters. */
interface ClusterNodes {
  nodes(role: 'master'): ScanNode[];
}

/** How an {@link L2} is set up (read once by `createCache`). */
export interface L2Settings {
  /** `l2Timeout` in ms. */
  timeoutMs: number;
  /** `breaker.threshold`. */
  breakerThreshold: number;
  /** `breaker.cooldown` in ms. */
  breakerCooldownMs: number;
  /** `directReads`: whether standalone clients may take the direct read path. */
  directReads: boolean;
}

/** Hooks the L2 reports to. */
export interface L2Hooks {
  error(error: unknown, operation: string, timedOut: boolean): void;
  down(error: unknown): void;
  up(): void;
}

/**
 * Called at most once, when a write's outcome is unknown: it failed (it may have been applied
 * before the connection broke), or it passed `l2Timeout` and Redis answered it later (it was
 * applied after the cache stopped waiting). Never called for a write that succeeded in time or
 * that the breaker skipped (never sent).
 */
export type Unsure = () => void;

/** A bounded call other than a read: resolves its promise with the value, or FAIL. */
class BoundCall extends Deadline {
  readonly promise: Promise<unknown>;
  private readonly resolve: Settle;
  private done = false;
  readonly onValue: Settle;
  readonly onError: Settle;

  constructor(
    private readonly l2: L2,
    private readonly operation: string,
    /** See {@link Unsure}; cleared once called. */
    private unsure: Unsure | undefined,
  ) {
    super();
    this.promise = promiseWithSettlers();
    this.resolve = settlers.resolve;
    this.onValue = (value) => this.settle(value, false);
    this.onError = (error) => this.settle(error, true);
  }

  private settle(outcome: unknown, failed: boolean): void {
    if (this.done) {
      // A late answer to a call that timed out: a write it carried may have been applied.
      this.callUnsure();
      return;
    }
    this.done = true;
    this.disarmDeadline();
    if (failed) {
      this.l2.failed(outcome, this.operation, false);
      this.callUnsure();
      this.resolve(FAIL);
    } else {
      this.unsure = undefined;
      this.l2.breaker.recordSuccess();
      this.resolve(outcome);
    }
  }

  private callUnsure(): void {
    const unsure = this.unsure;
    if (unsure === undefined) return;
    this.unsure = undefined;
    unsure();
  }

  onDeadline(): void {
    if (this.done) return;
    this.done = true;
    this.l2.timedOut(this.operation);
    this.resolve(FAIL);
  }
}

/**
 * The cache's view of Redis: every call bounded by `l2Timeout` (on headroom's shared deadline
 * timer, no timer per call), gated by the breaker, and never rejecting (a failed, slow or skipped
 * call resolves with {@link FAIL}).
 */
export class L2 implements ReadOwner {
  readonly isCluster: boolean;
  readonly breaker: CircuitBreaker;
  private closed = false;
  /** The batch of the reads started in this tick, until `armBatch` arms it at the end of the tick. */
  private batch: ReadBatch | undefined = undefined;
  private readonly armBatch = (): void => {
    const batch = this.batch as ReadBatch;
    this.batch = undefined;
    const corked = batch.corked;
    if (corked !== undefined) {
      batch.corked = undefined;
      corked.uncork();
    }
    if (batch.pending > 0) batch.armDeadline(this.timeoutMs);
  };
  /** The direct GET command class (standalone clients), see `get-command.ts`. */
  private readonly GetCommand: GetCommandClass | undefined;

  private readonly timeoutMs: number;

  constructor(
    readonly client: CacheRedis,
    settings: L2Settings,
    private readonly hooks: L2Hooks,
  ) {
    this.isCluster = client.isCluster === true;
    this.timeoutMs = settings.timeoutMs;
    // headroom/resilience's breaker, asked on every call through its allocation-free
    // tryAcquire / recordSuccess / recordFailure (the closed path is one comparison each).
    this.breaker = new CircuitBreaker({ name: 'cache-l2', trip: { consecutive: settings.breakerThreshold }, cooldown: settings.breakerCooldownMs });
    this.breaker.on('open', ({ error }) => hooks.down(error));
    this.breaker.on('close', () => hooks.up());
    this.GetCommand = settings.directReads ? getCommandFor(client) : undefined;
  }

  /**
   * True when reads take the direct path now: a standalone client whose ioredis passed the probe
   * (see `get-command.ts`), `directReads` not turned off, and nobody tracing ioredis commands.
   */
  get directReads(): boolean {
    return this.GetCommand !== undefined && directReadsAllowed();
  }

  /**
   * Starts `read`'s GET of `key`. Its outcome reaches `read.onReply` asynchronously, also when
   * the breaker skips the call. The read joins this tick's {@link ReadBatch}, armed at the end of
   * the tick with an exact clock reading (a coarse or earlier start could make a deadline fire
   * early after a long synchronous stretch, and spurious timeouts would open the breaker).
   *
   * On a standalone client the GET is a direct command (see `get-command.ts`) and the batch corks
   * the socket until it is armed, so the GETs of a tick leave in one write, as auto-pipelining
   * would send them, without its per-command promises. On a Cluster, or while ioredis commands
   * are traced, it is `client.get(key)`.
   */
  read(read: L2Read, key: string): void {
    if (!this.usable()) {
      const settle = settlerOf(read);
      void FAIL_PROMISE.then(settle);
      return;
    }
    const GetCommand = this.GetCommand;
    const direct = GetCommand !== undefined && directReadsAllowed();
    let batch = this.batch;
    if (batch === undefined) {
      batch = this.batch = new ReadBatch(this);
      if (direct) batch.corked = corkClient(this.client);
      queueMicrotask(this.armBatch);
    }
    read.batch = batch;
    read.slot = batch.reads.push(read) - 1;
    batch.pending++;
    if (direct) {
      try {
        (this.client as unknown as DirectClient).sendCommand(new GetCommand(key, read));
      } catch (error) {
        read.settled(error);
      }
    } else {
      const settle = settlerOf(read);
      this.client.get(key).then(settle, settle);
    }
  }

  /**
   * True when a call may be sent: the cache is open (nothing reaches the client after `close()`,
   * which the user may `quit()` right after) and the breaker lets it through. Checked before the
   * client is called, never after.
   */
  private usable(): boolean {
    return !this.closed && this.breaker.tryAcquire();
  }

  /** Resolves with `promise`'s value, or {@link FAIL} when it rejects or passes `l2Timeout`. */
  private bound<T>(promise: Promise<T>, operation: string, unsure?: Unsure): Promise<T | Fail> {
    const call = new BoundCall(this, operation, unsure);
    call.armDeadline(this.timeoutMs);
    promise.then(call.onValue, call.onError);
    return call.promise as Promise<T | Fail>;
  }

  /** @internal A call failed: reply errors (WRONGTYPE, NOSCRIPT...) mean Redis answered, so they do not open the breaker. */
  failed(error: unknown, operation: string, timedOut: boolean): void {
    if (timedOut || (error as { name?: string } | null)?.name !== 'ReplyError') this.breaker.recordFailure(error);
    this.hooks.error(error, operation, timedOut);
  }

  /** @internal A call passed `l2Timeout`. */
  timedOut(operation: string): void {
    this.failed(l2Timeout(operation, this.timeoutMs), operation, true);
  }

  /** @internal A call was answered: the breaker counts a success. */
  succeeded(): void {
    this.breaker.recordSuccess();
  }

  /** GET `key` (reply, or {@link FAIL}). */
  get(key: string): Promise<string | null | Fail> {
    if (!this.usable()) return FAIL_PROMISE;
    return this.bound(this.client.get(key), 'get');
  }

  /** SET with a ttl; `unsure` as in {@link Unsure}. */
  set(key: string, value: string, ttlMs: number, unsure?: Unsure): Promise<'OK' | Fail> {
    if (!this.usable()) return FAIL_PROMISE;
    return this.bound(this.client.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs))), 'set', unsure);
  }

  /**
   * Deletes keys; on a Cluster one `UNLINK` per key (keys of one call may sit in different
   * slots). `unsure` as in {@link Unsure}.
   */
  del(keys: readonly string[], unsure?: Unsure): Promise<number | Fail> {
    if (keys.length === 0) return Promise.resolve(0);
    if (!this.usable()) return FAIL_PROMISE;
    if (!this.isCluster || keys.length === 1) return this.bound(this.client.unlink(...keys), 'unlink', unsure);
    return this.bound(
      Promise.all(keys.map((k) => this.client.unlink(k))).then((counts) => counts.reduce((a, b) => a + b, 0)),
      'unlink',
      unsure,
    );
  }

  /** Reads several string keys; `MGET` on a single server, one `GET` each on a Cluster. */
  mget(keys: readonly string[]): Promise<Array<string | null> | Fail> {
    if (!this.usable()) return FAIL_PROMISE;
    if (!this.isCluster) return this.bound(this.client.mget(...keys), 'mget');
    return this.bound(Promise.all(keys.map((k) => this.client.get(k))), 'mget');
  }

  /** Sets several keys to `value` with a ttl, in one bounded call; `unsure` as in {@link Unsure}. */
  setMany(keys: readonly string[], value: string, ttlMs: number, unsure?: Unsure): Promise<unknown> {
    if (!this.usable()) return FAIL_PROMISE;
    const px = Math.max(1, Math.ceil(ttlMs));
    return this.bound(Promise.all(keys.map((k) => this.client.set(k, value, 'PX', px))), 'set', unsure);
  }

  publish(channel: string, message: string): Promise<number | Fail> {
    if (!this.usable()) return FAIL_PROMISE;
    return this.bound(this.client.publish(channel, message), 'publish');
  }

  /**
   * Sends the command `send` makes, gated by the breaker and bounded by `l2Timeout` like the
   * others (`operation` names it in errors: `l2-<operation>`). `send` is not called when the
   * breaker skips the call.
   */
  run<T>(operation: string, send: (client: CacheRedis) => Promise<T>): Promise<T | Fail> {
    if (!this.usable()) return FAIL_PROMISE;
    let sent: Promise<T>;
    try {
      sent = send(this.client);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return this.bound(sent, operation);
  }

  /** `SET key token NX PX ttl`: true when acquired, false when held by another, FAIL when unknown. */
  async acquire(key: string, token: string, ttlMs: number): Promise<boolean | Fail> {
    if (!this.usable()) return FAIL;
    const reply = await this.bound(this.client.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'), 'lock');
    return reply === FAIL ? FAIL : reply === 'OK';
  }

  /** Deletes the lock only if it still holds `token`. */
  release(key: string, token: string): Promise<unknown> {
    if (!this.usable()) return FAIL_PROMISE;
    return this.bound(this.client.eval(RELEASE_LOCK, 1, key, token), 'unlock');
  }

  /**
   * Deletes every key matching `match` with `SCAN` (never `KEYS`) + `UNLINK`, on every master of a
   * Cluster. Resolves with the number of keys deleted, or {@link FAIL} if any step failed (the
   * keys deleted before the failure stay deleted).
   */
  async scanDelete(match: string): Promise<number | Fail> {
    const nodes = this.isCluster ? (this.client as unknown as ClusterNodes).nodes('master') : [this.client as unknown as ScanNode];
    const results = await Promise.all(nodes.map((node) => this.scanNode(node, match)));
    let total = 0;
    for (const r of results) {
      if (r === FAIL) return FAIL;
      total += r;
    }
    return total;
  }

  private async scanNode(node: ScanNode, match: string): Promise<number | Fail> {
    let cursor = '0';
    let deleted = 0;
    do {
      if (!this.usable()) return FAIL;
      const reply = await this.bound(node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT), 'scan');
      if (reply === FAIL) return FAIL;
      cursor = reply[0];
      const keys = reply[1];
      if (keys.length > 0) {
        let removed: number | Fail;
        if (this.isCluster) {
          // Keys of one node can sit in different slots: one UNLINK each, pipelined to that node.
          const pipeline = node.pipeline();
          for (const key of keys) pipeline.unlink(key);
          removed = await this.bound(
            pipeline.exec().then((rows) => (rows ?? []).reduce((n, [, count]) => n + (typeof count === 'number' ? count : 0), 0)),
            'unlink',
          );
        } else {
          removed = await this.bound(node.unlink(...keys), 'unlink');
        }
        if (removed === FAIL) return FAIL;
        deleted += removed;
      }
    } while (cursor !== '0');
    return deleted;
  }

  /**
   * Later calls resolve with {@link FAIL} at once. Calls already sent settle with their reply,
   * or at their deadline at the latest (the shared timer holds the process open only until then).
   */
  close(): void {
    this.closed = true;
  }
}
