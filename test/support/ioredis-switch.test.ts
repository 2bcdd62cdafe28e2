import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Cluster, Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { afterAll, describe, expect, it } from 'vitest';
import { startCluster, startRedis, stopAllRedis } from './redis.js';

afterAll(stopAllRedis);

const require = createRequire(import.meta.url);
const CHILD = fileURLToPath(new URL('./ioredis-switch-child.ts', import.meta.url));

/** What the environment asks for (see ioredis-switch.mjs). */
const wantedMajor = process.env.HEADROOM_TEST_IOREDIS === '6' ? 6 : 5;
const wantedResp = wantedMajor === 5 || process.env.HEADROOM_TEST_RESP === '2' ? 2 : 3;

/** The ioredis version `Redis` comes from: the `ioredis6` copy, or the `ioredis` (5) copy. */
function versionOf(RedisClass: unknown): string {
  const six = RedisClass === Redis6 || (typeof RedisClass === 'function' && RedisClass.prototype instanceof Redis6);
  return (require(six ? 'ioredis6/package.json' : 'ioredis/package.json') as { version: string }).version;
}

/** The protocol the server says this connection speaks (`resp=` of CLIENT INFO). */
async function respOf(client: Pick<Redis, 'call'>): Promise<number> {
  const info = String(await client.call('CLIENT', 'INFO'));
  const match = / resp=(\d)/.exec(info);
  if (match === null) throw new Error(`CLIENT INFO without resp=: ${info}`);
  return Number(match[1]);
}

describe('the ioredis the suite runs on (HEADROOM_TEST_IOREDIS, HEADROOM_TEST_RESP)', () => {
  it('is the major and protocol the environment asks for, on a standalone client and its duplicate', async () => {
    const server = await startRedis();
    const client = server.client();
    const version = versionOf(Redis);
    const resp = await respOf(client);
    const duplicate = client.duplicate();
    const duplicateResp = await respOf(duplicate);
    duplicate.disconnect();
    console.log(
      `ioredis ${version}, RESP${resp} negotiated (HEADROOM_TEST_IOREDIS=${process.env.HEADROOM_TEST_IOREDIS ?? ''}, HEADROOM_TEST_RESP=${process.env.HEADROOM_TEST_RESP ?? ''})`,
    );
    expect(Number(version.split('.')[0])).toBe(wantedMajor);
    expect(resp).toBe(wantedResp);
    expect(duplicateResp).toBe(wantedResp);
  });

  it('is the same on the connections of a Cluster', async () => {
    const cluster = await startCluster();
    const client = cluster.client();
    await client.get('warm-up');
    expect(client).toBeInstanceOf(Cluster);
    const nodes = client.nodes('master');
    expect(nodes.length).toBeGreaterThan(0);
    const resps = await Promise.all(nodes.map((node) => respOf(node)));
    console.log(`ioredis ${versionOf(Redis)} Cluster nodes: RESP${resps.join(', RESP')}`);
    expect(resps).toEqual(nodes.map(() => wantedResp));
  });

  it('is the same in the child processes tests start', async () => {
    const server = await startRedis();
    const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, String(server.port)], { encoding: 'utf8', timeout: 15_000 });
    const output = `${child.stdout}${child.stderr}`;
    const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, output).toBeDefined();
    expect(JSON.parse(line as string)).toEqual({ major: wantedMajor, resp: wantedResp });
  });
});
