import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../support/redis.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Server {
  child: ChildProcess;
  port: number;
}

const children = new Set<ChildProcess>();

function startServer(env: Record<string, string>): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /ready (\d+)/.exec(out);
      if (match !== null) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`fixture exited (${code}) before ready: ${err}`)));
  });
}

async function killServer(server: Server): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const gone = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGKILL');
  await gone;
}

async function charge(port: number, key: string, opMs = 50): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/charge`, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'x-op-ms': String(opMs) },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let redisServer: RedisServer;
let cluster: RedisCluster;

beforeAll(async () => {
  [redisServer, cluster] = await Promise.all([startRedis(), startCluster()]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await stopAllRedis();
});

describe.each([
  ['Redis', () => ({ env: { REDIS_PORT: String(redisServer.port) }, client: (): Redis | Cluster => redisServer.client() })],
  ['a Cluster', () => ({ env: { CLUSTER_PORTS: cluster.nodes.map((n) => String(n.port)).join(',') }, client: (): Redis | Cluster => cluster.client() })],
] as const)('four processes sharing %s', (_name, setup) => {
  let servers: Server[] = [];
  let client: Redis | Cluster;

  beforeAll(async () => {
    const { env, client: makeClient } = setup();
    client = makeClient();
    servers = await Promise.all([0, 1, 2, 3].map(() => startServer({ ...env, LOCK_TTL_MS: '1500' })));
  }, 30_000);
  afterAll(async () => {
    await Promise.all(servers.map(killServer));
  });

  it('run the operation exactly once for 200 concurrent duplicates; the others replay or get 409, none a 500', async () => {
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => charge(servers[i % 4]!.port, key, 300)));
    expect(await client.get(`runs:${key}`)).toBe('1');
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409)).toBe(true);
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of ok) expect(r.body).toEqual(ok[0]!.body);
    for (const r of responses.filter((x) => x.status === 409)) expect(r.body.code).toBe('IDEMPOTENCY_IN_PROGRESS');
    // Once done, every process replays the same result.
    for (const s of servers) expect((await charge(s.port, key)).body).toEqual(ok[0]!.body);
  });

  it('let a retry run the operation once the lease of a killed holder lapses, and store its result once', async () => {
    const key = randomUUID();
    const [victim, other] = [servers[3]!, servers[0]!];
    void charge(victim.port, key, 60_000).catch(() => undefined);
    // Wait until the victim is inside the operation, then kill it.
    for (let i = 0; i < 200 && (await client.get(`runs:${key}`)) !== '1'; i++) await sleep(10);
    expect(await client.get(`runs:${key}`)).toBe('1');
    await killServer(victim);

    expect((await charge(other.port, key)).status).toBe(409); // the dead holder's lease still runs
    await sleep(1_900); // lockTtl 1500 ms, plus margin
    const retry = await charge(other.port, key);
    expect(retry.status).toBe(200);
    expect(retry.body.run).toBe(2);
    expect(await client.get(`runs:${key}`)).toBe('2');
    for (const s of servers.slice(0, 3)) expect(await charge(s.port, key)).toEqual(retry);
    expect(await client.get(`runs:${key}`)).toBe('2');
  });
});
