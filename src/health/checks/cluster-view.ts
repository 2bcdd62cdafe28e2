/**
 * One node as `CLUSTER NODES` describes it (the fields {@link redisCheck} uses).
 *
 * @internal
 */
export interface ClusterNodeLine {
  /** The node id. */
  id: string;
  /** `host:port` as the cluster announces it. */
  address: string;
  /** `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`... */
  flags: readonly string[];
  /** The master's id, for a replica. */
  masterId: string | undefined;
  /** Slot ranges served (inclusive), for a master. */
  slots: Array<[number, number]>;
}

/**
 * Parses the text of `CLUSTER NODES`: one line per node, `<id> <ip:port@cport[,hostname]>
 * <flags> <master> <ping-sent> <pong-recv> <epoch> <link-state> <slot>...`.
 *
 * @internal
 */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  const nodes: ClusterNodeLine[] = [];
  for (const line of text.split('\n')) {
    const parts = line.trim().split(' ');
    if (parts.length < 8) continue;
    const [id, address, flags, master] = parts as [string, string, string, string];
    const slots: Array<[number, number]> = [];
    for (const part of parts.slice(8)) {
      if (part.startsWith('[')) continue; // a slot being imported or migrated
      const dash = part.indexOf('-');
      const from = Number(dash < 0 ? part : part.slice(0, dash));
      const to = Number(dash < 0 ? part : part.slice(dash + 1));
      if (Number.isInteger(from) && Number.isInteger(to)) slots.push([from, to]);
    }
    nodes.push({
      id,
      address: address.split('@')[0] as string,
      flags: flags.split(','),
      masterId: master === '-' ? undefined : master,
      slots,
    });
  }
  return nodes;
}

/** `cluster_state` from the text of `CLUSTER INFO`, or `undefined`. @internal */
export function clusterState(info: string): string | undefined {
  const match = /cluster_state:(\w+)/.exec(info);
  return match?.[1];
}
