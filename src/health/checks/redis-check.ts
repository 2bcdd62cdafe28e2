import { invalidArgument, objectArgument, optionalDuration, type Duration } from '../../core/index.js';
import { TimeoutError, withTimeout } from '../../timeout/index.js';
import type { CheckResult, CheckStatus, HealthCheck } from '../types.js';
import { clusterState, parseClusterNodes, type ClusterNodeLine } from './cluster-view.js';

/** What {@link redisCheck} needs of an ioredis `Redis` (or any client with `ping()`). */
export interface PingableRedis {
  /** Sends PING. */
  ping(): Promise<unknown>;
}

/** One node of a Cluster, as {@link redisCheck} asks it about the cluster. */
export interface RedisNodeLike extends PingableRedis {
  /** Sends any command (ioredis' `call`); {@link redisCheck} sends `CLUSTER INFO` and `CLUSTER NODES`. */
  call(command: string, ...args: string[]): Promise<unknown>;
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
  /**
   * The nodes the client knows with `role`; {@link redisCheck} asks every one (`'all'`), so
   * that a replica promoted since the client last refreshed its slots is asked too.
   */
  nodes(role: 'master' | 'all'): RedisNodeLike[];
  /**
   * Reloads the client's slot map (ioredis' `refreshSlotsCache`); called when the cluster names
   * a master this client has no connection to.
   */
  refreshSlotsCache?(): void;
}

/**
 * Options of {@link redisCheck}.
 *
 * @example
 * ```ts
 * const options: RedisCheckOptions = { partial: 'warn', masterTimeout: '150ms' };
 * health.register('redis', redisCheck(cluster, options), { timeout: '500ms' });
 * ```
 */
export interface RedisCheckOptions {
  /**
   * On a Cluster, what the check reports while part of the cluster is out but at least one
   * master answers: a master that does not answer (or that the cluster flags as failing, or
   * that serves slots and this client is not connected to), or a node whose `cluster_state`
   * is not `ok`. `'fail'` fails the check (readiness answers 503 when it is critical);
   * `'warn'` makes the service degraded (readiness stays 200) while the cluster fails over.
   * With no master answering at all the check always fails. Default `'fail'`.
   */
  partial?: 'fail' | 'warn';
  /**
   * On a Cluster, how long each master has to answer before it counts as unreachable. Keep it
   * below the check's timeout, so that one hung master is reported as such instead of the
   * whole check timing out. Default `'200ms'`.
   */
  masterTimeout?: Duration;
}

/**
 * A check that sends PING and reports the round trip in ms (`responseTime`). ioredis cannot
 * cancel a command, so a frozen server makes the check time out, and the checker will not send
 * another PING until that one settles.
 *
 * With an ioredis `Cluster` it checks the whole cluster, not only the nodes the client is
 * connected to: every master is asked `CLUSTER INFO` and `CLUSTER NODES` in parallel (one round
 * trip each, bounded by `masterTimeout`), and the check reports the slowest answer. It fails (or
 * warns, see {@link RedisCheckOptions.partial}) while any master serving slots is unreachable,
 * flagged failing by a node, or missing from the client's connections, or while any node's
 * `cluster_state` is not `ok`; so readiness follows a failover from the master's death to the
 * replica's promotion.
 *
 * @param redis - an ioredis `Redis` or `Cluster` (the client the service already uses).
 * @param options - see {@link RedisCheckOptions}.
 * @example
 * ```ts
 * health.register('redis', redisCheck(redis), { timeout: '250ms' });
 * // On a Cluster, stay ready (degraded) while one shard fails over:
 * health.register('redis', redisCheck(cluster, { partial: 'warn' }), { timeout: '500ms' });
 * ```
 */
export function redisCheck(redis: PingableRedis | RedisClusterLike, options: RedisCheckOptions = {}): HealthCheck {
  if (redis === null || typeof redis !== 'object' || typeof redis.ping !== 'function') {
    throw invalidArgument('redis', 'an ioredis Redis or Cluster (anything with ping())', redis);
  }
  objectArgument(options, 'options');
  const partial = options.partial ?? 'fail';
  if (partial !== 'fail' && partial !== 'warn') throw invalidArgument('options.partial', "'fail' or 'warn'", options.partial);
  const masterTimeoutMs = optionalDuration(options.masterTimeout, 'options.masterTimeout', 200, { positive: true });
  const cluster = (redis as RedisClusterLike).isCluster === true && typeof (redis as RedisClusterLike).nodes === 'function';
  const check: HealthCheck = cluster ? () => checkCluster(redis as RedisClusterLike, partial, masterTimeoutMs) : () => pingOne(redis);
  check.kind = 'datastore';
  check.measurement = 'responseTime';
  return check;
}

async function pingOne(redis: PingableRedis): Promise<CheckResult> {
  const started = performance.now();
  await redis.ping();
  return { status: 'pass', observedValue: elapsed(started), observedUnit: 'ms' };
}

/** What one node said about the cluster. */
interface NodeView {
  address: string;
  ms: number;
  state: string | undefined;
  /** Its own line (flagged `myself`). */
  self: ClusterNodeLine | undefined;
  nodes: ClusterNodeLine[];
}

async function askNode(node: RedisNodeLike, timeoutMs: number): Promise<NodeView> {
  const started = performance.now();
  // Sent back to back on one connection: one round trip.
  const [info, text] = await withTimeout(Promise.all([node.call('CLUSTER', 'INFO'), node.call('CLUSTER', 'NODES')]), timeoutMs);
  const nodes = parseClusterNodes(String(text));
  return { address: addressOf(node), ms: elapsed(started), state: clusterState(String(info)), self: nodes.find((n) => n.flags.includes('myself')), nodes };
}

function failing(node: ClusterNodeLine): boolean {
  return node.flags.includes('fail') || node.flags.includes('fail?');
}

async function checkCluster(cluster: RedisClusterLike, partial: CheckStatus, timeoutMs: number): Promise<CheckResult> {
  // Every node the client knows, replicas included: a replica promoted since the client last
  // refreshed its slots is still listed as a replica, and must be asked as the master it is.
  const known = cluster.nodes('all');
  const masters = new Set(cluster.nodes('master'));
  if (masters.size === 0) return { status: 'fail', output: 'no cluster master is connected' };
  const outcomes = await Promise.allSettled(known.map((node) => askNode(node, timeoutMs)));
  const problems: string[] = [];
  const views: NodeView[] = [];
  const silent = new Set<string>();
  outcomes.forEach((outcome, i) => {
    const node = known[i] as RedisNodeLike;
    if (outcome.status === 'fulfilled') views.push(outcome.value);
    else if (masters.has(node)) {
      silent.add(addressOf(node));
      problems.push(`${addressOf(node)} ${reasonOf(outcome.reason)}`);
    }
  });
  const masterViews = views.filter((v) => v.self?.flags.includes('master') === true);
  if (masterViews.length === 0) return { status: 'fail', output: `no cluster master answered${problems.length > 0 ? `: ${problems.join('; ')}` : ''}` };
  const observedValue = Math.max(...masterViews.map((v) => v.ms));

  // Every master serving slots, as the answering nodes see the cluster, must have answered.
  const answered = new Set(views.flatMap((v) => (v.self === undefined ? [] : [v.self.id])));
  const reported = new Set<string>();
  let stale = false;
  for (const view of views) {
    for (const node of view.nodes) {
      if (!node.flags.includes('master') || node.slots.length === 0 || answered.has(node.id) || reported.has(node.id)) continue;
      reported.add(node.id);
      if (silent.has(node.address)) continue; // reported above
      const flagged = views.some((v) => v.nodes.some((n) => n.id === node.id && failing(n)));
      problems.push(`${node.address} ${flagged ? 'flagged failing by the cluster' : 'serves slots but this client is not connected to it'}`);
      stale = true;
    }
  }
  // The cluster changed since the client loaded its slot map (a failover): have it reload, so
  // that the next run can reach the new master.
  if (stale) cluster.refreshSlotsCache?.();
  for (const view of views) if (view.state !== 'ok') problems.push(`cluster_state:${view.state ?? 'unknown'} on ${view.address}`);

  if (problems.length === 0) return { status: 'pass', observedValue, observedUnit: 'ms' };
  return { status: partial, observedValue, observedUnit: 'ms', output: problems.join('; ') };
}

function addressOf(node: RedisNodeLike): string {
  return `${node.options?.host ?? '?'}:${node.options?.port ?? '?'}`;
}

function reasonOf(reason: unknown): string {
  if (reason instanceof TimeoutError) return `did not answer within ${reason.timeoutMs} ms`;
  return reason instanceof Error ? reason.message : String(reason);
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}
