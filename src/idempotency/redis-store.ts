import { createHash } from 'node:crypto';
import { invalidArgument, objectArgument, stringOption, type RedisScripting } from '../core/index.js';
import type { AcquireResult, AcquiredRecord, IdempotencyStore } from './store.js';

/**
 * The client {@link RedisIdempotencyStore} uses: an ioredis `Redis` or `Cluster`, of ioredis 5 or
 * 6, with either reply mapping (also from another ioredis copy than the one headroom was built
 * against). Written as the commands the store sends: its Lua scripts.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis: IdempotencyRedis = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type IdempotencyRedis = RedisScripting;

/** Options for {@link RedisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /**
   * Prepended to every record's key. Default `'headroom:idem:'`. Give each application its own
   * when several share a Redis. A hash tag here (`'{idem}:'`) would put every record in one
   * Cluster slot: leave it out, each record is a single key and spreads over the slots by itself.
   */
  prefix?: string;
}

/*
 * A record is one hash: s = 'p' (in progress) or 'd' (done), t = the lease holder's token (the
 * token that completed it, once done), f = fingerprint, v = stored value (done only). The key's own TTL is the lease
 * while in progress and the result's ttl once done, so an expired record is simply absent.
 * Every script touches KEYS[1] only, so it runs on a Cluster too.
 */

// Acquire-or-get: one round trip for a first request (takes the key) and for a replay (returns the value).
const ACQUIRE = `
local r = redis.call('HMGET', KEYS[1], 's', 'f', 'v')
if not r[1] then
  redis.call('HSET', KEYS[1], 's', 'p', 't', ARGV[1], 'f', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if r[1] == 'p' then return {r[2], redis.call('PTTL', KEYS[1])} end
return {r[2], false, r[3]}
`;

// Fenced by the token: a record held or completed by another token is never overwritten. A
// record this token already completed answers 1 (a retry of a complete that landed).
const COMPLETE = `
local r = redis.call('HMGET', KEYS[1], 's', 't')
if r[1] and r[2] ~= ARGV[1] then return 0 end
if r[1] == 'd' then return 1 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 's', 'd', 't', ARGV[1], 'f', ARGV[2], 'v', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

const RENEW = `
local r = redis.call('HMGET', KEYS[1], 's', 't')
if r[1] == 'p' and r[2] == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

const RELEASE = `
local r = redis.call('HMGET', KEYS[1], 's', 't')
if r[1] == 'p' and r[2] == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = { acquire: script(ACQUIRE), complete: script(COMPLETE), renew: script(RENEW), release: script(RELEASE) };

const ACQUIRED: AcquiredRecord = Object.freeze({ status: 'acquired' });

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * An {@link IdempotencyStore} in Redis, shared by every process that uses the same Redis. Works
 * with an ioredis `Redis` and with a `Cluster`: each record is a single key and each operation a
 * single-key Lua script (EVALSHA, falling back to EVAL once per node after a restart or
 * `SCRIPT FLUSH`), so records spread over the slots.
 *
 * Round trips: a first request costs 2 (acquire, complete), a replay or an in-flight duplicate 1
 * (acquire answers with the stored result), a failed operation 2 (acquire, release). Lease renewal
 * adds 1 per `lockTtl / 3` of run time, so only operations longer than that pay it.
 *
 * If Redis loses its data (restart without persistence, failover before replication, eviction),
 * the records go with it: a retry after that runs the operation again. Use `appendonly yes` and
 * `maxmemory-policy noeviction` (or a `volatile-*` policy on a dedicated database) to keep them.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL!, { commandTimeout: 2_000, maxRetriesPerRequest: 1 });
 * redis.on('error', (err) => console.warn('redis:', err.message)); // never crash on a connection error
 * const store = new RedisIdempotencyStore(redis, { prefix: 'payments:idem:' });
 * const idempotency = new Idempotency({ store, ttl: '24h', lockTtl: '30s' });
 * ```
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  /** The key prefix in use. */
  readonly prefix: string;
  private readonly redis: IdempotencyRedis;

  /**
   * @param redis - an ioredis `Redis` or `Cluster` client you own; the store never closes it.
   * @param options - see {@link RedisIdempotencyStoreOptions}.
   */
  constructor(redis: IdempotencyRedis, options: RedisIdempotencyStoreOptions = {}) {
    if (redis === null || typeof redis !== 'object' || typeof (redis as Partial<IdempotencyRedis>).evalsha !== 'function') {
      throw invalidArgument('redis', 'an ioredis Redis or Cluster client', redis);
    }
    objectArgument(options, 'options');
    this.redis = redis;
    this.prefix = stringOption(options.prefix, 'prefix', 'headroom:idem:');
  }

  /** {@inheritDoc IdempotencyStore.acquire} */
  async acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
    const reply = (await this.call(SCRIPTS.acquire, key, token, fingerprint, Math.ceil(lockTtlMs))) as number | [string | null, number | null, string?];
    if (reply === 1) return ACQUIRED;
    const [storedFingerprint, pttl, value] = reply as [string | null, number | null, string | undefined];
    if (value !== undefined && value !== null) return { status: 'completed', fingerprint: storedFingerprint ?? '', value };
    return { status: 'in-progress', fingerprint: storedFingerprint ?? '', leaseRemainingMs: Math.max(0, pttl ?? 0) };
  }

  /** {@inheritDoc IdempotencyStore.complete} */
  async complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.call(SCRIPTS.complete, key, token, fingerprint, value, Math.ceil(ttlMs))) === 1;
  }

  /** {@inheritDoc IdempotencyStore.renew} */
  async renew(key: string, token: string, lockTtlMs: number): Promise<boolean> {
    return (await this.call(SCRIPTS.renew, key, token, Math.ceil(lockTtlMs))) === 1;
  }

  /**
   * Deletes the in-progress record of `key` when `token` holds it, so that a retry runs the
   * operation again. Resolves `false`, changing nothing, otherwise.
   *
   * Sent as EVAL with the script's source, never EVALSHA: a release may be the compensation of
   * an acquire that timed out, written behind it on a stalled connection. If the server then
   * answered EVALSHA with NOSCRIPT (a restarted or newly promoted node has an empty script
   * cache), the client would already have given up on the reply and never send the fallback,
   * and the late acquire's lease would stay. EVAL cannot miss, and costs the same round trip.
   */
  async release(key: string, token: string): Promise<boolean> {
    return (await this.redis.eval(SCRIPTS.release.source, 1, this.prefix + key, token)) === 1;
  }

  private async call(s: Script, key: string, ...args: Array<string | number>): Promise<unknown> {
    const fullKey = this.prefix + key;
    try {
      return await this.redis.evalsha(s.sha, 1, fullKey, ...args);
    } catch (err) {
      // First use on this node, or its script cache was flushed (restart): EVAL loads it for next time.
      if (!isNoScript(err)) throw err;
      return await this.redis.eval(s.source, 1, fullKey, ...args);
    }
  }
}
