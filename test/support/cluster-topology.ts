/**
 * What a Redis Cluster says about itself (CLUSTER NODES, CLUSTER INFO), read asynchronously and
 * with deadlines, for fault tests that kill or pause nodes and wait for a failover.
 */
import { parseClusterNodes as parseLines } from '../../src/health/checks/cluster-view.js';
import { redisCommand, tryRedisCommand } from './redis-command.js';

/** One line of CLUSTER NODES. */
export interface ClusterNodeInfo {
  id: string;
  host: string;
  port: number;
  /** `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`... */
  flags: string[];
  /** True for a master (flag `master`). */
  master: boolean;
  /** True when flagged `fail` or `fail?` by the node asked. */
  failing: boolean;
  /** The master's id, for a replica. */
  masterId: string | undefined;
  /** Slot ranges served (inclusive), for a master. */
  slots: Array<[number, number]>;
}

/** Parses CLUSTER NODES output (with the library's own parser). */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return parseLines(text).map((line) => {
    const colon = line.address.lastIndexOf(':');
    return {
      id: line.id,
      host: line.address.slice(0, colon),
      port: Number(line.address.slice(colon + 1)),
      flags: [...line.flags],
      master: line.flags.includes('master'),
      failing: line.flags.includes('fail') || line.flags.includes('fail?'),
      masterId: line.masterId,
      slots: line.slots,
    };
  });
}

/** CLUSTER NODES as node `port` sees it; rejects when it does not answer within `timeoutMs`. */
export async function clusterNodes(port: number, timeoutMs = 1_000): Promise<ClusterNodeInfo[]> {
  const reply = await redisCommand(port, ['CLUSTER', 'NODES'], timeoutMs);
  if (typeof reply !== 'string') throw new Error(`test support: CLUSTER NODES on ${port} answered ${String(reply)}`);
  return parseClusterNodes(reply);
}

/** CLUSTER INFO of node `port` as fields, or `undefined` when it does not answer. */
export async function clusterInfo(port: number, timeoutMs = 500): Promise<Record<string, string> | undefined> {
  const reply = await tryRedisCommand(port, ['CLUSTER', 'INFO'], timeoutMs);
  if (typeof reply !== 'string') return undefined;
  const fields: Record<string, string> = {};
  for (const line of reply.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** The hash slot of `key` (asked of node `port`). */
export async function keySlot(port: number, key: string): Promise<number> {
  const reply = await redisCommand(port, ['CLUSTER', 'KEYSLOT', key]);
  if (typeof reply !== 'number') throw new Error(`test support: CLUSTER KEYSLOT answered ${String(reply)}`);
  return reply;
}

/** The port of the master serving `slot` in `nodes`, if any (and not flagged failing). */
export function servingPort(nodes: readonly ClusterNodeInfo[], slot: number): number | undefined {
  for (const node of nodes) {
    if (!node.master || node.failing) continue;
    for (const [from, to] of node.slots) if (slot >= from && slot <= to) return node.port;
  }
  return undefined;
}

/** Polls `check` every 25 ms until it resolves true, or rejects after `timeoutMs`. */
export async function pollUntil(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`test support: timed out after ${timeoutMs} ms waiting for ${what}`);
}
