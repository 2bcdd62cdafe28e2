/**
 * A TCP proxy for fault tests: it forwards connections made to its port to a target (a Redis
 * server) and can black-hole any of them, that is stop forwarding in both directions while
 * keeping both sockets open, as a NAT or a load balancer that forgot a connection does. The
 * client sees no error and no close: its writes are taken, nothing ever comes back, and a FIN
 * it sends is never answered (so a client that only `end()`s its socket waits forever).
 *
 * Each connection records the names of the Redis commands its client sent, so a test can pick
 * one out, e.g. the cache's subscriber connection: `proxy.blackhole((c) => c.sent('SUBSCRIBE'))`.
 *
 * For a Cluster, start one proxy per node and give ioredis `natMap: proxiesNatMap(proxies)`, so
 * that the addresses the Cluster announces are reached through the proxies.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Where a proxy forwards to. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** One proxied connection. */
export class ProxyConnection {
  /** True once black-holed: nothing is forwarded any more, both sockets stay open. */
  blackholed = false;
  private readonly commands = new Set<string>();

  constructor(
    /** Order of arrival on the proxy, from 1. */
    readonly id: number,
    private readonly client: Socket,
    private readonly upstream: Socket,
  ) {}

  /** True when the client sent command `name` (case-insensitive) on this connection. */
  sent(name: string): boolean {
    return this.commands.has(name.toUpperCase());
  }

  /** @internal records the command names of a chunk the client sent (RESP arrays). */
  record(chunk: Buffer): void {
    if (this.commands.size > 64) return;
    const pattern = /\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n/g;
    const text = chunk.toString('latin1');
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) this.commands.add((match[1] as string).toUpperCase());
  }

  /** Stops forwarding both ways; data that arrives is dropped, nothing is closed. */
  blackhole(): void {
    this.blackholed = true;
  }

  /** Closes both sockets at once (a reset, as when a server dies). */
  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }

  /** @internal true while either socket is still open. */
  get open(): boolean {
    return !this.client.destroyed || !this.upstream.destroyed;
  }
}

/** A running proxy; see the module comment. */
export class TcpProxy {
  readonly host = '127.0.0.1';
  /** Whether connections made from now on are black-holed as soon as they open. */
  blackholeNew = false;
  private readonly all: ProxyConnection[] = [];
  private count = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly target: ProxyTarget,
  ) {}

  /** Starts a proxy on a free loopback port, forwarding to `target`. */
  static async start(target: ProxyTarget): Promise<TcpProxy> {
    // allowHalfOpen: a client's FIN must not make the proxy close its side by itself.
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const proxy = new TcpProxy(server, port, target);
    // Nobody knows the port before start() returns, so no connection can come before this.
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** Connections still open, in order of arrival. */
  get connections(): ProxyConnection[] {
    return this.all.filter((c) => c.open);
  }

  /** Black-holes the open connections `match` selects (all by default); returns how many. */
  blackhole(match: (connection: ProxyConnection) => boolean = () => true): number {
    let n = 0;
    for (const connection of this.connections) {
      if (!connection.blackholed && match(connection)) {
        connection.blackhole();
        n++;
      }
    }
    return n;
  }

  /** Resets every open connection (both sockets destroyed). */
  resetAll(): void {
    for (const connection of this.connections) connection.destroy();
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    const connection = new ProxyConnection(++this.count, client, upstream);
    if (this.blackholeNew) connection.blackhole();
    this.all.push(connection);
    if (this.all.length > 256) this.all.splice(0, this.all.length - 256);
    client.on('data', (chunk: Buffer) => {
      connection.record(chunk);
      if (!connection.blackholed) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!connection.blackholed) client.write(chunk);
    });
    // Ends and closes travel only while the connection is not black-holed.
    client.on('end', () => {
      if (!connection.blackholed) upstream.end();
    });
    upstream.on('end', () => {
      if (!connection.blackholed) client.end();
    });
    client.on('close', () => {
      if (!connection.blackholed) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!connection.blackholed) client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => {
      if (!connection.blackholed) client.destroy();
    });
  }

  /** Closes the proxy and every connection through it. */
  async close(): Promise<void> {
    for (const connection of this.all) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a proxy forwarding to `target`; see {@link TcpProxy}. */
export function startProxy(target: ProxyTarget): Promise<TcpProxy> {
  return TcpProxy.start(target);
}

/**
 * An ioredis `natMap` that sends a Cluster client through `proxies` (one per node): the
 * addresses the nodes announce are replaced by their proxy's.
 */
export function proxiesNatMap(proxies: readonly TcpProxy[]): Record<string, { host: string; port: number }> {
  const map: Record<string, { host: string; port: number }> = {};
  for (const proxy of proxies) map[`${proxy.target.host}:${proxy.target.port}`] = { host: proxy.host, port: proxy.port };
  return map;
}
