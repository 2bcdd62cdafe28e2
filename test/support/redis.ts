/**
 * Throwaway redis-server processes for tests: single servers and 3-master clusters on free ports
 * (never 6379), with pause/resume (SIGSTOP/SIGCONT) and kill/restart for fault tests.
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

/** Sends PING over a raw socket; true when the server answers PONG. */
function ping(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

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
      if (exited) throw new Error(`test support: redis-server on port ${this.port} exited at start`);
      return ping(this.port);
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

/** Starts one throwaway redis-server on a free port and waits until it answers. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'headroom-redis-'));
  const args = [...(options.args ?? [])];
  let busPort: number | undefined;
  if (options.cluster === true) {
    busPort = await freePort();
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--cluster-port', String(busPort));
  }
  const server = new RedisServer(port, args, dir, busPort);
  await server.start();
  return server;
}

/** A 3-master Redis Cluster made of throwaway servers. */
export class RedisCluster {
  private readonly clients = new Set<Cluster>();

  constructor(readonly nodes: RedisServer[]) {}

  /** `[{ host, port }]` of every master, for `new Cluster(startupNodes)`. */
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

  /** Stops every node and every client made by {@link RedisCluster.client}. */
  async stop(): Promise<void> {
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}

/** Sends one command with redis-cli and returns its output. */
export function redisCli(port: number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`test support: redis-cli ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * Starts a 3-master Redis Cluster (cluster-enabled servers, all 16384 slots assigned) and waits
 * until every node reports `cluster_state:ok`.
 */
export async function startCluster(): Promise<RedisCluster> {
  assertRedisInstalled();
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis({ cluster: true })));
  const cluster = new RedisCluster(nodes);
  try {
    const ranges: Array<[number, number]> = [
      [0, 5460],
      [5461, 10922],
      [10923, 16383],
    ];
    nodes.forEach((node, i) => {
      const [from, to] = ranges[i] as [number, number];
      redisCli(node.port, 'CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
    });
    for (const node of nodes.slice(1)) redisCli(node.port, 'CLUSTER', 'MEET', '127.0.0.1', String(nodes[0]!.port), String(nodes[0]!.busPort));
    await waitFor(
      async () => nodes.every((n) => redisCli(n.port, 'CLUSTER', 'INFO').includes('cluster_state:ok') && redisCli(n.port, 'CLUSTER', 'INFO').includes('cluster_known_nodes:3')),
      'cluster_state:ok on all 3 nodes',
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
