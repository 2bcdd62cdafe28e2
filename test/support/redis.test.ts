import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer, startCluster, startRedis, stopAllRedis } from './redis.js';

afterAll(stopAllRedis);

describe('test support: throwaway Redis', () => {
  it('starts a server on a free port other than 6379 that answers commands', async () => {
    const server = await startRedis();
    expect(server.port).not.toBe(6379);
    const client = server.client();
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    await server.stop();
  });

  it('refuses a start on a port another server holds instead of taking that server for its own', async () => {
    const holder = await startRedis();
    const second = new RedisServer(holder.port, [], mkdtempSync(join(tmpdir(), 'headroom-redis-')));
    await expect(second.start()).rejects.toThrow(/exited at start/);
    await second.stop();
    expect(await holder.client().ping()).toBe('PONG');
    await holder.stop();
  });

  it('starts many servers at once, each on its own port', async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => startRedis()));
    expect(new Set(servers.map((s) => s.port)).size).toBe(6);
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('pauses (no answer) and resumes a server', async () => {
    const server = await startRedis();
    const client = server.client({ commandTimeout: 200 });
    await client.ping();
    server.pause();
    await expect(client.ping()).rejects.toThrow(/timed out/i);
    server.resume();
    expect(await client.ping()).toBe('PONG');
    await server.stop();
  });

  it('restarts a killed server empty on the same port', async () => {
    const server = await startRedis();
    const client = server.client();
    await client.set('k', 'v');
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const fresh = server.client();
    expect(await fresh.get('k')).toBeNull();
    await server.stop();
  });

  it('starts a 3-master cluster whose slots are all served', async () => {
    const cluster = await startCluster();
    const client = cluster.client();
    const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
    for (const key of keys) await client.set(key, key);
    expect(client.nodes('master')).toHaveLength(3);
    const values = await Promise.all(keys.map((k) => client.get(k)));
    expect(values).toEqual(keys);
    await cluster.stop();
  });

  it('starts 3 masters + 3 replicas; a killed master fails over to its replica and rejoins as a replica', async () => {
    const cluster = await startCluster({ replicas: 1, nodeTimeout: 1_000 });
    const client = cluster.client();
    expect(await cluster.masters()).toHaveLength(3);
    const master = await cluster.masterOf('some-key');
    const [replica] = await cluster.replicasOf(master);
    expect(replica).toBeDefined();
    await client.set('some-key', 'v');
    await new Promise((resolve) => setTimeout(resolve, 100)); // replication is asynchronous
    const { promoted, failoverMs } = await cluster.killMaster(master);
    expect(promoted).toBe(replica);
    expect(failoverMs).toBeLessThan(15_000);
    expect(await cluster.masterOf('some-key')).toBe(promoted);
    await expect.poll(() => client.get('some-key').catch(() => 'unreachable'), { timeout: 5_000 }).toBe('v');
    await cluster.rejoin(master);
    expect(await cluster.replicasOf(promoted)).toEqual([master]);
    await cluster.stop();
  });
});
