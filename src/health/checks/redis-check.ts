import { invalidArgument } from '../../core/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** What {@link redisCheck} needs of an ioredis `Redis` (or any client with `ping()`). */
export interface PingableRedis {
  /** Sends PING. */
  ping(): Promise<unknown>;
}

/** One node of a Cluster, as {@link redisCheck} pings it. */
export interface RedisNodeLike extends PingableRedis {
  /** The node's connection options; `host` and `port` name it in a failure's output. */
  readonly options?: {
    /** The node's host. */
    host?: string;
    /** The node's port. */
    port?: number;
  };
}

/** What {@link redisCheck} needs of an ioredis `Cluster`. */
export interface RedisClusterLike extends PingableRedis {
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster: boolean;
  /** The connected nodes with `role`; {@link redisCheck} pings every `'master'`. */
  nodes(role: 'master'): RedisNodeLike[];
}

/**
 * A check that sends PING and reports the round trip in ms (`responseTime`). With an ioredis
 * `Cluster` it pings every master in parallel, fails when any of them fails, and reports the
 * slowest. ioredis cannot cancel a command, so a frozen server makes the check time out, and
 * the checker will not send another PING until that one settles.
 *
 * @param redis - an ioredis `Redis` or `Cluster` (the client the service already uses).
 * @example
 * ```ts
 * health.register('redis', redisCheck(redis), { timeout: '250ms' });
 * ```
 */
export function redisCheck(redis: PingableRedis | RedisClusterLike): HealthCheck {
  if (redis === null || typeof redis !== 'object' || typeof redis.ping !== 'function') {
    throw invalidArgument('redis', 'an ioredis Redis or Cluster (anything with ping())', redis);
  }
  const cluster = (redis as RedisClusterLike).isCluster === true && typeof (redis as RedisClusterLike).nodes === 'function';
  const check: HealthCheck = cluster ? () => pingMasters(redis as RedisClusterLike) : () => pingOne(redis);
  check.kind = 'datastore';
  check.measurement = 'responseTime';
  return check;
}

async function pingOne(redis: PingableRedis): Promise<CheckResult> {
  const started = performance.now();
  await redis.ping();
  return { status: 'pass', observedValue: elapsed(started), observedUnit: 'ms' };
}

async function pingMasters(cluster: RedisClusterLike): Promise<CheckResult> {
  const masters = cluster.nodes('master');
  if (masters.length === 0) return { status: 'fail', output: 'no cluster master is connected' };
  const started = performance.now();
  const outcomes = await Promise.allSettled(masters.map((node) => node.ping()));
  const failed: string[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') {
      const options = masters[i]?.options;
      const reason: unknown = outcome.reason;
      failed.push(`${options?.host ?? '?'}:${options?.port ?? '?'} ${reason instanceof Error ? reason.message : String(reason)}`);
    }
  });
  const observedValue = elapsed(started);
  if (failed.length > 0) return { status: 'fail', observedValue, observedUnit: 'ms', output: `${failed.length} of ${masters.length} masters failed: ${failed.join('; ')}` };
  return { status: 'pass', observedValue, observedUnit: 'ms' };
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
