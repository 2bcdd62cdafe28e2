/**
 * Throwaway redis-server processes for tests: single servers and 3-master clusters (optionally
 * with replicas and a short cluster-node-timeout, for failover tests) on free ports (never 6379),
 * with pause/resume (SIGSTOP/SIGCONT) and kill/restart for fault tests. See also tcp-proxy.ts
 * (black-holing one connection) and cluster-topology.ts (what a Cluster says about itself).
 *
 * Every server started here is stopped by `stopAllRedis()` (call it in `afterAll`) and, as a last
 * resort, when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { clusterInfo, clusterNodes, keySlot, pollUntil, servingPort, type ClusterNodeInfo } from './cluster-topology.js';
import { redisCommand } from './redis-command.js';

export const INSTALL_HINT =
  'redis-server was not found on PATH. The tests start their own throwaway Redis servers. ' +
  'Install it with `sudo apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).';

let checked = false;

/** Throws a clear error naming the install command when redis-server is missing. */
export function assertRedisInstalled(): void {
  if (checked) return;
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(INSTALL_HINT);
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (cli.error !== undefined || cli.status !== 0) throw new Error(INSTALL_HINT.replace('redis-server was', 'redis-cli was'));
  checked = true;
}

/** Finds a free TCP port on 127.0.0.1 (never 6379). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const found = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(found));
      });
    });
    if (port !== 6379 && port !== 0 && port < 55_000) return port;
  }
}

/**
 * Asks `INFO server` over a raw socket; true when the server answering on `port` is the process
 * `pid`. Another test's redis-server that took the port first answers too, with its own pid.
 */
function answersAs(port: number, pid: number | undefined, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let text = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (data) => {
      text += data.toString();
      const found = /process_id:(\d+)\r\n/.exec(text);
      if (found !== null) done(Number(found[1]) === pid);
      else if (text.startsWith('-')) done(false);
    });
  });
}

/** Thrown by {@link RedisServer.start} when redis-server exits at once: most often its port was taken. */
class StartFailedError extends Error {}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`test support: timed out waiting for ${what}`);
}

const running = new Set<RedisServer>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of running) server.process?.kill('SIGKILL');
  });
}

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** Start as a cluster node (used by {@link startCluster}). */
  cluster?: boolean;
  /** `cluster-node-timeout` in ms, for cluster nodes. Default 2000. */
  clusterNodeTimeout?: number;
}

/** One throwaway redis-server process. */
export class RedisServer {
  readonly host = '127.0.0.1';
  process: ChildProcess | undefined;
  private paused = false;
  private readonly clients = new Set<Redis | Cluster>();

  constructor(
    readonly port: number,
    private readonly args: string[],
    private readonly dir: string,
    /** The cluster bus port, for cluster nodes. */
    readonly busPort?: number,
  ) {}

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  /** Spawns the process and waits until it answers PING. */
  async start(): Promise<void> {
    assertRedisInstalled();
    installExitHook();
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args],
      { stdio: 'ignore' },
    );
    this.process = child;
    this.paused = false;
    running.add(this);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    await waitFor(async () => {
      if (exited) throw new StartFailedError(`test support: redis-server on port ${this.port} exited at start`);
      return answersAs(this.port, child.pid);
    }, `redis-server on port ${this.port}`);
  }

  /** A new ioredis client to this server; closed by {@link RedisServer.stop}. */
  client(options: RedisOptions = {}): Redis {
    const client = new Redis({ host: this.host, port: this.port, lazyConnect: false, maxRetriesPerRequest: 1, ...options });
    client.on('error', () => {});
    this.clients.add(client);
    return client;
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    this.process?.kill('SIGSTOP');
    this.paused = true;
  }

  /** True while paused by {@link RedisServer.pause}. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** True while the process runs (paused or not). */
  get alive(): boolean {
    const child = this.process;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Thaws a paused server (SIGCONT). */
  resume(): void {
    this.process?.kill('SIGCONT');
    this.paused = false;
  }

  /** Kills the server (SIGKILL) and waits for it to be gone. Data is lost (no persistence). */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.paused) child.kill('SIGCONT');
    child.kill('SIGKILL');
    await gone;
    this.process = undefined;
  }

  /** Kills and starts again on the same port, empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  /** Disconnects the clients made by {@link RedisServer.client} and kills the server. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    await this.kill();
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** @internal used by RedisCluster */
  trackClient(client: Redis | Cluster): void {
    this.clients.add(client);
  }
}

/** How many ports {@link startRedis} tries before giving up. */
const START_ATTEMPTS = 4;

/**
 * Starts one throwaway redis-server on a free port and waits until it answers. A port found free
 * can be taken by another test process before redis-server binds it (it then exits at once): the
 * start is retried on new ports, a few times.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'headroom-redis-'));
    const args = [...(options.args ?? [])];
    let busPort: number | undefined;
    if (options.cluster === true) {
      busPort = await freePort();
      const nodeTimeout = String(options.clusterNodeTimeout ?? 2000);
      args.push(
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        '--cluster-node-timeout',
        nodeTimeout,
        '--cluster-port',
        String(busPort),
      );
      // A replica's first sync starts at once instead of after the default 5 s diskless delay.
      args.push('--repl-diskless-sync-delay', '0');
    }
    const server = new RedisServer(port, args, dir, busPort);
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      if (!(err instanceof StartFailedError) || attempt >= START_ATTEMPTS) throw err;
    }
  }
}

/** A 3-master Redis Cluster made of throwaway servers, with replicas when asked. */
export class RedisCluster {
  private readonly clients = new Set<Cluster>();

  constructor(
    /** Every server: the three first masters, then the replicas (roles change on failover). */
    readonly nodes: RedisServer[],
  ) {}

  /** `[{ host, port }]` of every node, for `new Cluster(startupNodes)`. */
  get startupNodes(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: n.host, port: n.port }));
  }

  /** A new ioredis `Cluster` client; closed by {@link RedisCluster.stop}. */
  client(options: ClusterOptions = {}): Cluster {
    const client = new Cluster(this.startupNodes, {
      redisOptions: { maxRetriesPerRequest: 1 },
      slotsRefreshTimeout: 2000,
      ...options,
    });
    client.on('error', () => {});
    this.clients.add(client);
    return client;
  }

  /** The server listening on `port`. */
  server(port: number): RedisServer {
    const server = this.nodes.find((n) => n.port === port);
    if (server === undefined) throw new Error(`test support: no cluster node on port ${port}`);
    return server;
  }

  /** CLUSTER NODES as the first live, unpaused node sees it. */
  async topology(): Promise<ClusterNodeInfo[]> {
    for (const node of this.nodes) {
      if (!node.alive || node.isPaused) continue;
      try {
        return await clusterNodes(node.port);
      } catch {
        // try the next node
      }
    }
    throw new Error('test support: no cluster node answers CLUSTER NODES');
  }

  /** The servers that are masters now and serve slots. */
  async masters(): Promise<RedisServer[]> {
    return (await this.topology()).filter((n) => n.master && n.slots.length > 0 && !n.failing).map((n) => this.server(n.port));
  }

  /** The master serving `key` now. */
  async masterOf(key: string): Promise<RedisServer> {
    const live = this.nodes.find((n) => n.alive && !n.isPaused) as RedisServer;
    const port = servingPort(await this.topology(), await keySlot(live.port, key));
    if (port === undefined) throw new Error(`test support: no master serves ${key}`);
    return this.server(port);
  }

  /**
   * The node holding the pub/sub connection of a Cluster client made with
   * `redisOptions: { connectionName: name }` (ioredis names it `ioredis-cluster(subscriber):name`;
   * clients made with `duplicate()` inherit the name). Waits until there is one.
   */
  async pubsubNode(name: string, timeoutMs = 5_000): Promise<RedisServer> {
    let found: RedisServer | undefined;
    await pollUntil(
      async () => {
        for (const node of this.nodes) {
          if (!node.alive || node.isPaused) continue;
          const list = await redisCommand(node.port, ['CLIENT', 'LIST', 'TYPE', 'pubsub'], 500).catch(() => '');
          if (typeof list === 'string' && list.includes(`name=ioredis-cluster(subscriber):${name}`)) found = node;
        }
        return found !== undefined;
      },
      `the pub/sub connection of ${name}`,
      timeoutMs,
    );
    return found as RedisServer;
  }

  /** The replicas of `master` now. */
  async replicasOf(master: RedisServer): Promise<RedisServer[]> {
    const nodes = await this.topology();
    const id = nodes.find((n) => n.port === master.port)?.id;
    return nodes.filter((n) => id !== undefined && n.masterId === id && !n.failing).map((n) => this.server(n.port));
  }

  /**
   * Waits until every replica of `master` has received everything `master` wrote so far
   * (replication is asynchronous: a master killed before that loses its last writes).
   */
  async waitForReplication(master: RedisServer, timeoutMs = 5_000): Promise<void> {
    await pollUntil(
      async () => {
        const info = await redisCommand(master.port, ['INFO', 'replication'], 500).catch(() => undefined);
        if (typeof info !== 'string') return false;
        const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => m[1]);
        return replicas.length > 0 && replicas.every((o) => o === offset);
      },
      `the replicas of ${master.port} to catch up`,
      timeoutMs,
    );
  }

  /**
   * Waits until every live, unpaused node reports `cluster_state:ok` and sees every slot
   * served by a master it does not flag as failing.
   */
  async waitForState(timeoutMs = 20_000): Promise<void> {
    await pollUntil(
      async () => {
        const live = this.nodes.filter((n) => n.alive && !n.isPaused);
        for (const node of live) {
          const info = await clusterInfo(node.port);
          if (info?.cluster_state !== 'ok' || info.cluster_slots_ok !== '16384') return false;
        }
        return true;
      },
      'cluster_state:ok on every live node',
      timeoutMs,
    );
  }

  /**
   * Kills `master` (SIGKILL) and waits until one of its replicas took over its slots and the
   * cluster is ok again. Resolves with the promoted server and the time from the kill to then.
   */
  async killMaster(master: RedisServer, timeoutMs = 20_000): Promise<{ promoted: RedisServer; failoverMs: number }> {
    const replicas = await this.replicasOf(master);
    if (replicas.length === 0) throw new Error(`test support: master ${master.port} has no replica to take over`);
    const slot = (await this.topology()).find((n) => n.port === master.port)?.slots[0]?.[0] ?? 0;
    const started = Date.now();
    await master.kill();
    const promoted = await this.waitForFailover(slot, master, timeoutMs);
    return { promoted, failoverMs: Date.now() - started };
  }

  /** Waits until a node other than `old` serves `slot` and the cluster is ok; resolves with it. */
  async waitForFailover(slot: number, old: RedisServer, timeoutMs = 20_000): Promise<RedisServer> {
    let promoted: RedisServer | undefined;
    await pollUntil(
      async () => {
        const port = servingPort(await this.topology().catch(() => []), slot);
        if (port === undefined || port === old.port) return false;
        promoted = this.server(port);
        return true;
      },
      `a replica to take over slot ${slot} from ${old.port}`,
      timeoutMs,
    );
    await this.waitForState(timeoutMs);
    return promoted as RedisServer;
  }

  /**
   * Starts a killed node again on its port with its old cluster config. A master that was
   * failed over rejoins as a replica of the one that replaced it (started before the failover,
   * it simply is the master again). Resolves once it replicates or serves, and the cluster is ok.
   */
  async rejoin(node: RedisServer, timeoutMs = 20_000): Promise<void> {
    if (!node.alive) await node.start();
    await pollUntil(
      async () => {
        const role = await redisCommand(node.port, ['ROLE'], 500).catch(() => undefined);
        return replicating(role) || (Array.isArray(role) && role[0] === 'master');
      },
      `node ${node.port} to rejoin`,
      timeoutMs,
    );
    await this.waitForState(timeoutMs);
  }

  /** Stops every node and every client made by {@link RedisCluster.client}. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** True for a ROLE reply of a replica in sync with its master. */
function replicating(role: unknown): boolean {
  return Array.isArray(role) && role[0] === 'slave' && role[3] === 'connected';
}

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /** Replicas per master (each can take over when its master dies). Default 0. */
  replicas?: number;
  /**
   * `cluster-node-timeout` in ms: how long a node may be unreachable before it is failed over.
   * Default 2000; fault tests use about 1000 to keep failovers short.
   */
  nodeTimeout?: number;
}

/** Sends one command with redis-cli and returns its output. */
export function redisCli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`test support: redis-cli ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Starts a 3-master Redis Cluster (cluster-enabled servers, all 16384 slots assigned), with
 * `replicas` replicas per master, and waits until every node reports `cluster_state:ok` and
 * every replica is in sync with its master.
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<RedisCluster> {
  assertRedisInstalled();
  const replicas = options.replicas ?? 0;
  const total = 3 * (1 + replicas);
  const nodes = await Promise.all(Array.from({ length: total }, () => startRedis({ cluster: true, clusterNodeTimeout: options.nodeTimeout })));
  const cluster = new RedisCluster(nodes);
  try {
    const ranges: Array<[number, number]> = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ];
    const masters = nodes.slice(0, 3);
    masters.forEach((node, i) => {
      const [from, to] = ranges[i] as [number, number];
      redisCli(node.port, 'CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
    });
    for (const node of nodes.slice(1)) redisCli(node.port, 'CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port), String(nodes[0]!.busPort));
    const everyNode = async (check: (info: Record<string, string> | undefined) => boolean): Promise<boolean> =>
      (await Promise.all(nodes.map((n) => clusterInfo(n.port)))).every(check);
    await pollUntil(() => everyNode((info) => info?.cluster_known_nodes === String(total)), `every node to know the ${total} nodes`, 20_000);
    for (let i = 3; i < total; i++) {
      const master = masters[(i - 3) % 3] as RedisServer;
      const masterId = redisCli(master.port, 'CLUSTER', 'MYID').trim();
      redisCli(nodes[i]!.port, 'CLUSTER', 'REPLICATE', masterId);
    }
    await pollUntil(() => everyNode((info) => info?.cluster_state === 'ok'), `cluster_state:ok on all ${total} nodes`, 20_000);
    await pollUntil(
      async () => (await Promise.all(nodes.slice(3).map((n) => redisCommand(n.port, ['ROLE']).catch(() => undefined)))).every(replicating),
      'every replica to be in sync',
      20_000,
    );
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

/** Stops every server started in this process. Call it in `afterAll`. */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}
