/**
 * One of the four processes of the cross-process stampede benchmark (forked by bench/cache.ts).
 *
 * It builds its caches against the throwaway Redis named on the command line, says `ready`, then
 * for every `run` message fires `callers` concurrent cold `getOrSet` calls of one key and reports
 * how many times its factory ran and whether every caller got the value.
 */
import { Redis } from 'ioredis';
import { bentoMemoryRedis, type Peer } from './cache-peers.js';
import { headroomPeer } from './cache-headroom.js';

/** Message from the parent. */
export type WorkerCommand = { type: 'run'; scenario: string; key: string; callers: number; factoryMs: number } | { type: 'exit' };
/** Message to the parent. */
export type WorkerReply =
  { type: 'ready'; scenarios: string[] } | { type: 'done'; scenario: string; factoryCalls: number; wrong: number; errors: number; ms: number };

const port = Number(process.argv[2]);
const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
redis.on('error', () => {});
const send = (reply: WorkerReply): void => {
  process.send?.(reply);
};

const peers = new Map<string, Peer>();
peers.set('headroom', headroomPeer({ name: 'headroom', prefix: 'bench-mp', l1: true, redis }));
peers.set('headroom, lock: true', headroomPeer({ name: 'headroom, lock: true', prefix: 'bench-mp', l1: true, redis, lock: true }));
peers.set('BentoCache (memory + redis)', bentoMemoryRedis(redis, 'bench-mp-bento'));

process.on('message', (command: WorkerCommand) => {
  if (command.type === 'exit') {
    void Promise.all([...peers.values()].map((p) => p.close()))
      .catch(() => {})
      .finally(() => {
        redis.disconnect();
        process.disconnect?.();
      });
    return;
  }
  const peer = peers.get(command.scenario);
  if (peer === undefined) throw new Error(`worker: unknown scenario ${command.scenario}`);
  let factoryCalls = 0;
  const factory = async (): Promise<unknown> => {
    factoryCalls++;
    await new Promise((r) => setTimeout(r, command.factoryMs));
    return { key: command.key, rows: [1, 2, 3] };
  };
  const start = performance.now();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < command.callers; i++) calls.push(peer.getOrSet(command.key, factory));
  void Promise.allSettled(calls).then((results) => {
    let wrong = 0;
    let errors = 0;
    for (const r of results) {
      if (r.status === 'rejected') errors++;
      else if ((r.value as { key?: string } | undefined)?.key !== command.key) wrong++;
    }
    send({ type: 'done', scenario: command.scenario, factoryCalls, wrong, errors, ms: performance.now() - start });
  });
});

send({ type: 'ready', scenarios: [...peers.keys()] });
