import { corkClient, invalidArgument, objectArgument, stringOption, type CorkableSocket, type RedisScripting } from '../core/index.js';
import { takeAllOrNothing, type AtomicPart } from './all-or-nothing.js';
import { CheckBatch } from './check-batch.js';
import { clusterSlot } from './cluster-slot.js';
import { asPeeks, type RateLimitPolicy, type StoreReply } from './policy.js';
import { CHECK, CHECK_ALL, REFUND, type Script } from './redis-scripts.js';
import type { RateLimitCheck, RateLimitStore } from './store.js';

/** Options for {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /**
   * Prepended to every key. Default `'headroom:rl:'`. Give each application its own when several
   * share a Redis. Keep hash tags (`{...}`) out of it: on a Cluster they would put every key in
   * one slot. Put them in your keys instead when several limits of one request should share a
   * slot (see {@link RateLimiter.takeAll}).
   */
  prefix?: string;
}

/**
 * The client {@link RedisRateLimitStore} uses: an ioredis `Redis` or `Cluster`, of ioredis 5 or 6,
 * with either reply mapping (also from another ioredis copy than the one headroom was built
 * against). Written as the commands the store sends.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis: RateLimitRedis = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RateLimitRedis extends RedisScripting {
  /** `DEL key...` ({@link RedisRateLimitStore.reset}). */
  del(...keys: string[]): Promise<number>;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
}

/** What the store sends for a policy, built once per policy: its keys' start, and its figures in microseconds. */
interface PolicyArgs {
  /** `prefix + name + ':'`. */
  keyPrefix: string;
  interval: string;
  tolerance: string;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function allFromMicros(replies: unknown): StoreReply[] {
  return (replies as unknown[]).map((reply) => Number(reply) / 1000);
}

/**
 * A {@link RateLimitStore} in Redis, shared by every process using the same Redis: a `Redis` or
 * a `Cluster` from ioredis 5 or 6. Each check is one `EVALSHA` of a small Lua script (loaded with
 * `EVAL` the first time a node answers `NOSCRIPT`, after a restart or `SCRIPT FLUSH`): one round
 * trip, atomic, and timed by Redis' own clock (`TIME` inside the script), so the callers' clocks
 * do not matter. A check touches one key (prefix, limiter name, your key) holding one number, which
 * expires when its budget is whole again; so it spreads over a Cluster's slots by itself.
 *
 * `takeAll` runs one script per Cluster slot: keys in one slot are checked and taken atomically,
 * and keys in several slots are taken at once and given back when one refuses (see
 * {@link RateLimiter.takeAll}).
 *
 * The checks started in one turn of the event loop go to Redis as one script call carrying all
 * their keys (on a Cluster, one call per hash slot), each caller settled from its place in the
 * reply: a lone caller costs one round trip, and concurrent callers share one command, which is
 * what Redis spends most of its time on. Checks of one key in one batch apply in order. On a
 * standalone client the commands started in one tick leave in one socket write.
 *
 * Needs Redis 5 or later. The store never closes the client; the limiter bounds every call with
 * `storeTimeout`, and ioredis' own `commandTimeout`, `maxRetriesPerRequest` and
 * `enableOfflineQueue` say what happens to a command meanwhile.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL!);
 * redis.on('error', (err) => log.warn({ err }, 'redis'));
 * const store = new RedisRateLimitStore(redis, { prefix: 'api:rl:' });
 * const limiter = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m', store, onStoreError: 'local', instances: 4 });
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  /** The key prefix in use. */
  readonly prefix: string;
  private readonly redis: RateLimitRedis;
  private readonly isCluster: boolean;
  private readonly args = new WeakMap<RateLimitPolicy, PolicyArgs>();
  private readonly batch: CheckBatch;
  /** The socket corked for the commands of this tick, until {@link RedisRateLimitStore.uncork} runs. */
  private corked: CorkableSocket | undefined = undefined;
  private readonly uncork = (): void => {
    const stream = this.corked;
    this.corked = undefined;
    stream?.uncork();
  };

  /**
   * @param redis - an ioredis `Redis` or `Cluster` client you own; the store never closes it.
   * @param options - see {@link RedisRateLimitStoreOptions}.
   */
  constructor(redis: RateLimitRedis, options: RedisRateLimitStoreOptions = {}) {
    if (redis === null || typeof redis !== 'object' || typeof (redis as Partial<RateLimitRedis>).evalsha !== 'function') {
      throw invalidArgument('redis', 'an ioredis Redis or Cluster client', redis);
    }
    objectArgument(options, 'options');
    this.redis = redis;
    this.isCluster = (redis as { isCluster?: boolean }).isCluster === true;
    this.prefix = stringOption(options.prefix, 'prefix', 'headroom:rl:');
    this.batch = new CheckBatch((keys, argv) => {
      this.cork();
      return this.run(CHECK, keys, argv);
    }, this.isCluster);
  }

  /** {@inheritDoc RateLimitStore.take} */
  take(key: string, cost: number, policy: RateLimitPolicy): Promise<StoreReply> {
    return this.check(key, cost, policy, '1');
  }

  /** {@inheritDoc RateLimitStore.peek} */
  peek(key: string, cost: number, policy: RateLimitPolicy): Promise<StoreReply> {
    return this.check(key, cost, policy, '0');
  }

  /** {@inheritDoc RateLimitStore.takeAll} */
  async takeAll(checks: readonly RateLimitCheck[]): Promise<StoreReply[]> {
    if (!this.isCluster) return this.checkAll(checks);
    const slots = new Map<number, number[]>();
    checks.forEach((check, i) => {
      const slot = clusterSlot(this.argsOf(check.policy).keyPrefix + check.key);
      const indices = slots.get(slot);
      if (indices === undefined) slots.set(slot, [i]);
      else indices.push(i);
    });
    if (slots.size === 1) return this.checkAll(checks);
    const replies = new Array<StoreReply>(checks.length);
    const parts = [...slots.values()].map((indices) => this.slotPart(checks, indices, replies));
    await takeAllOrNothing(parts);
    return replies;
  }

  /** {@inheritDoc RateLimitStore.refund} */
  async refund(checks: readonly RateLimitCheck[]): Promise<void> {
    if (!this.isCluster) return this.refundKeys(checks);
    const slots = new Map<number, RateLimitCheck[]>();
    for (const check of checks) {
      const slot = clusterSlot(this.argsOf(check.policy).keyPrefix + check.key);
      const group = slots.get(slot);
      if (group === undefined) slots.set(slot, [check]);
      else group.push(check);
    }
    await Promise.all([...slots.values()].map((group) => this.refundKeys(group)));
  }

  /** {@inheritDoc RateLimitStore.reset} */
  async reset(key: string, policy: RateLimitPolicy): Promise<void> {
    await this.redis.del(this.argsOf(policy).keyPrefix + key);
  }

  private check(key: string, cost: number, policy: RateLimitPolicy, commit: string): Promise<StoreReply> {
    const args = this.argsOf(policy);
    return this.batch.add(args.keyPrefix + key, args.interval, args.tolerance, cost, commit);
  }

  /** One CHECK_ALL for checks that share a node (and, on a Cluster, a slot). */
  private checkAll(checks: readonly RateLimitCheck[]): Promise<StoreReply[]> {
    const keys: string[] = [];
    const argv: Array<string | number> = [];
    for (const { key, cost, policy } of checks) {
      const args = this.argsOf(policy);
      keys.push(args.keyPrefix + key);
      argv.push(args.interval, args.tolerance, cost);
    }
    return this.run(CHECK_ALL, keys, argv).then(allFromMicros);
  }

  private refundKeys(checks: readonly RateLimitCheck[]): Promise<void> {
    const keys = checks.map(({ key, policy }) => this.argsOf(policy).keyPrefix + key);
    const argv = checks.map(({ cost, policy }) => String(cost * policy.intervalMs * 1000));
    return this.run(REFUND, keys, argv).then(() => undefined);
  }

  /** The part of a multi-slot `takeAll` that lives in one slot; it writes its replies into `replies`. */
  private slotPart(checks: readonly RateLimitCheck[], indices: number[], replies: StoreReply[]): AtomicPart {
    const own = indices.map((i) => checks[i] as RateLimitCheck);
    let answers: StoreReply[] = [];
    const publish = (): void => indices.forEach((index, j) => (replies[index] = answers[j] as number));
    return {
      take: async () => {
        answers = await this.checkAll(own);
        publish();
        return answers.every((reply) => reply >= 0);
      },
      // A refund that fails leaves its units taken (stricter, never looser); the refusal stands.
      refund: async () => {
        answers = asPeeks(own, answers);
        publish();
        await this.refundKeys(own);
      },
    };
  }

  private run(s: Script, keys: string[], argv: Array<string | number>): Promise<unknown> {
    return this.redis.evalsha(s.sha, keys.length, ...keys, ...argv).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return this.redis.eval(s.source, keys.length, ...keys, ...argv);
    });
  }

  private argsOf(policy: RateLimitPolicy): PolicyArgs {
    let args = this.args.get(policy);
    if (args === undefined) {
      args = {
        keyPrefix: `${this.prefix}${policy.name}:`,
        interval: String(policy.intervalMs * 1000),
        tolerance: String(policy.toleranceMs * 1000),
      };
      this.args.set(policy, args);
    }
    return args;
  }

  /**
   * Corks a standalone client's socket for the rest of the tick, so that the checks started in
   * it leave in one write. A Cluster routes each command to its node itself: left alone.
   */
  private cork(): void {
    if (this.corked !== undefined || this.isCluster) return;
    const stream = corkClient(this.redis);
    if (stream === undefined) return;
    this.corked = stream;
    queueMicrotask(this.uncork);
  }
}
