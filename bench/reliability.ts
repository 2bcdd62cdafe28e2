/**
 * Fault figures for docs/reliability.md: how fast the cache's bus notices that it went deaf,
 * what catching up saves after a Redis outage, and what readiness says during a Cluster
 * failover. Real servers, real faults (SIGSTOP, SIGKILL, a proxy that black-holes a
 * connection), the library's default settings unless a line says otherwise.
 *
 *   node --import tsx bench/reliability.ts
 *
 * Not part of `npm run bench` (it waits through outages and failovers: about two minutes).
 * `--cluster-only` runs the Cluster part alone.
 */
import { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../src/cache/index.js';
import { HealthChecker, redisCheck } from '../src/health/index.js';
import { logKey } from '../src/cache/invalidation-log.js';
import { startCluster, startRedis, stopAllRedis, type RedisCluster, type RedisServer } from '../test/support/redis.js';
import { startProxy, type TcpProxy } from '../test/support/tcp-proxy.js';

const RUNS = 5;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('bench/reliability: timed out');
    await sleep(5);
  }
  return Date.now();
}

function spread(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  return `${median} ms (min ${sorted[0]}, max ${sorted[sorted.length - 1]})`;
}

/** A reader whose connections go through `proxy`, and a writer on a direct connection. */
async function pair(
  server: RedisServer,
  proxy: TcpProxy | undefined,
  prefix: string,
  options: CacheOptions = {},
): Promise<{ a: Cache; b: Cache; close: () => Promise<void> }> {
  const writer = server.client();
  const reader = proxy === undefined ? server.client() : new Redis({ host: proxy.host, port: proxy.port, maxRetriesPerRequest: 1 });
  reader.on('error', () => {});
  const a = createCache({ redis: writer, prefix, ...options });
  const b = createCache({ redis: reader, prefix, ...options });
  await until(() => a.stats().bus.connected && b.stats().bus.connected);
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      reader.disconnect();
    },
  };
}

async function detection(server: RedisServer, proxy: TcpProxy): Promise<void> {
  const holed = { down: [] as number[], up: [] as number[] };
  const paused = { down: [] as number[], up: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    const { a, b, close } = await pair(server, proxy, `det${run}:`);
    await b.getOrSet('k', () => 'v');
    let down = 0;
    let up = 0;
    b.on('bus-down', () => (down = Date.now()));
    b.on('bus-up', () => (up = Date.now()));
    const silencedAt = Date.now();
    proxy.blackhole((c) => c.sent('SUBSCRIBE'));
    await a.set('k', 'changed');
    await until(() => up > 0 && b.stats().bus.connected);
    holed.down.push(down - silencedAt);
    holed.up.push(up - silencedAt);

    down = 0;
    up = 0;
    const pausedAt = Date.now();
    server.pause();
    await until(() => down > 0);
    paused.down.push(down - pausedAt);
    await sleep(500);
    const resumedAt = Date.now();
    server.resume();
    await until(() => up > 0 && b.stats().bus.connected);
    paused.up.push(up - resumedAt);
    await close();
  }
  console.log('### Bus heartbeat (defaults: busHeartbeat 500 ms, standalone Redis)\n');
  console.log('| fault | bus-down after | bus-up (caught up) after |');
  console.log('| --- | --- | --- |');
  console.log(`| subscriber connection black-holed (no close, no error) | ${spread(holed.down)} | ${spread(holed.up)} from the fault |`);
  console.log(`| Redis paused (SIGSTOP) | ${spread(paused.down)} | ${spread(paused.up)} from SIGCONT |`);
  console.log(`\n${RUNS} runs each; bus-down is bounded by 4 heartbeats (2 s).\n`);
}

/**
 * A reader holds `keys` entries in L1 and serves them round robin; Redis is paused for 5 s;
 * meanwhile a writer deletes `changed` of them. Counts what reaches the source afterwards.
 */
async function outage(server: RedisServer, busLog: number | false, fault: 'pause' | 'restart', persistent = false): Promise<string> {
  const keys = 1_000;
  const changed = 10;
  const prefix = `out${busLog === false ? 'legacy' : 'log'}${fault}:`;
  const { a, b, close } = await pair(server, undefined, prefix, { busLog });
  let sourceReads = 0;
  const source = (key: string) => async () => {
    sourceReads++;
    await sleep(2); // a database read
    return `${key}@${sourceReads}`;
  };
  for (let i = 0; i < keys; i++) await b.getOrSet(`item:${i}`, source(`item:${i}`));
  for (let i = 0; i < 5; i++) await a.set(`other:${i}`, i); // some invalidations in the log already
  await sleep(5_200); // older than busDownL1Ttl once the outage starts
  const loaded = sourceReads;
  let stop = false;
  const reader = (async () => {
    for (let i = 0; !stop; i++) {
      await b.getOrSet(`item:${i % keys}`, source(`item:${i % keys}`));
      if (i % 50 === 0) await sleep(1);
    }
  })();
  let upAt = 0;
  b.on('bus-up', () => (upAt = Date.now()));
  if (fault === 'pause') server.pause();
  else await server.kill();
  await sleep(200);
  const writes = Promise.all(Array.from({ length: changed }, (_, i) => a.delete(`item:${i * 7}`)));
  await sleep(4_800);
  const duringOutage = sourceReads - loaded;
  const resumedAt = Date.now();
  const l2Before = b.stats().l2;
  if (fault === 'pause') server.resume();
  else await server.start();
  await writes;
  await until(() => upAt > 0 && b.stats().bus.connected);
  await sleep(10_000);
  stop = true;
  await reader;
  const after = sourceReads - loaded - duringOutage;
  const stats = b.stats();
  const l2Reads = stats.l2.hits + stats.l2.misses - l2Before.hits - l2Before.misses;
  await close();
  const label = busLog === false ? '`busLog: false` (L1 emptied on reconnect, as before)' : 'catch-up log (default)';
  const what = fault === 'pause' ? 'paused (SIGSTOP)' : persistent ? 'killed, restarted from its AOF' : 'killed, restarted empty';
  return `| ${what} | ${label} | ${duringOutage} | ${after} | ${l2Reads} | ${upAt - resumedAt} ms | ${stats.bus.caughtUp} caught up, ${stats.bus.resyncs} resync |`;
}

async function clusterBus(c: RedisCluster): Promise<void> {
  console.log('### The bus on a Cluster (3 masters + 3 replicas, cluster-node-timeout 1000 ms, busHeartbeat 500 ms)\n');
  console.log('| fault | bus-down after | the reader sees a value set just after the fault, after |');
  console.log('| --- | --- | --- |');
  for (const fault of ['pause the subscriber node', 'kill the master holding the log'] as const) {
    const prefix = fault.startsWith('pause') ? 'cbp:' : 'cbk:';
    const name = `reader-${prefix}`;
    const a = createCache({ redis: c.client(), prefix });
    const b = createCache({ redis: c.client({ redisOptions: { connectionName: name, maxRetriesPerRequest: 1 } }), prefix });
    await until(() => a.stats().bus.connected && b.stats().bus.connected);
    let down = 0;
    b.on('bus-down', () => (down = Date.now()));
    const victim = fault.startsWith('pause') ? await c.pubsubNode(name) : await c.masterOf(logKey(prefix));
    let key = 'k';
    for (let i = 0; (await c.masterOf(`${prefix}_:e:${key}`)) === victim; i++) key = `k${i}`;
    await b.set(key, 'old');
    await c.waitForReplication(await c.masterOf(logKey(prefix)));
    const at = Date.now();
    const failover = fault.startsWith('pause') ? (victim.pause(), Promise.resolve()) : c.killMaster(victim);
    await until(() => victim.isPaused || !victim.alive);
    await a.set(key, 'new');
    const seen = await until(async () => (await b.get(key)) === 'new');
    await until(() => down > 0 || Date.now() - at > 5_000);
    console.log(`| ${fault} | ${down > 0 ? `${down - at} ms` : 'none'} | ${seen - at} ms |`);
    if (fault.startsWith('pause')) victim.resume();
    else {
      await failover;
      await c.rejoin(victim);
    }
    await c.waitForState();
    await Promise.all([a.close(), b.close()]);
  }
  console.log('');
}

async function cluster(): Promise<void> {
  const c = await startCluster({ replicas: 1, nodeTimeout: 1_000 });
  await clusterBus(c);
  const client = c.client();
  await client.ping();
  const health = new HealthChecker({ cacheFor: 0 }).register('redis', redisCheck(client), { timeout: 500 });
  const master = (await c.masters())[0] as RedisServer;
  const killedAt = Date.now();
  await master.kill();
  let firstFail = 0;
  let healthyAgain = 0;
  while (healthyAgain === 0) {
    const report = await health.check();
    if (report.status !== 'healthy' && firstFail === 0) firstFail = Date.now() - killedAt;
    if (report.status === 'healthy' && firstFail > 0) healthyAgain = Date.now() - killedAt;
    await sleep(20);
    if (Date.now() - killedAt > 30_000) throw new Error('bench/reliability: readiness did not recover');
  }
  health.close();
  console.log('### Readiness during a Cluster failover (3 masters + 3 replicas, cluster-node-timeout 1000 ms)\n');
  console.log('| event | after the master was killed |');
  console.log('| --- | --- |');
  console.log(`| \`redisCheck\` fails | ${firstFail} ms |`);
  console.log(`| \`redisCheck\` passes again (replica promoted, cluster_state ok) | ${healthyAgain} ms |`);
  console.log('');
  await c.stop();
}

async function main(): Promise<void> {
  if (process.argv.includes('--cluster-only')) {
    await cluster();
    await stopAllRedis();
    return;
  }
  const server = await startRedis();
  const proxy = await startProxy({ host: server.host, port: server.port });
  try {
    await detection(server, proxy);
    console.log("### A 5 s Redis outage, 1,000 keys in the reader's L1, 10 deleted by a writer during it\n");
    console.log(
      '| Redis | bus | source reads during the outage | source reads in the 10 s after | L2 reads in the 10 s after | bus-up after Redis is back | log |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const fault of ['pause', 'restart'] as const) {
      console.log(await outage(server, 10_000, fault));
      console.log(await outage(server, false, fault));
    }
    const aof = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    console.log(await outage(aof, 10_000, 'restart', true));
    console.log('');
    await cluster();
  } finally {
    await proxy.close();
    await stopAllRedis();
  }
}

await main();
