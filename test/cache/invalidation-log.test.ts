import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import type { BusMessage } from '../../src/cache/bus-message.js';
import { InvalidationLog, logKey } from '../../src/cache/invalidation-log.js';
import { LogCursor } from '../../src/cache/log-cursor.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';

let server: RedisServer;
let redis: Redis;
let unique = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(stopAllRedis);

/** A log of its own, a cursor on it, and what a catch-up did. */
function setup(capacity = 1_000) {
  const prefix = `log${++unique}:`;
  const log = new InvalidationLog(redis, prefix, capacity);
  const cursor = new LogCursor(capacity);
  const applied: BusMessage[] = [];
  let resyncs = 0;
  const context = {
    read: (from: number, count: number) => log.read(from, count),
    apply: (message: BusMessage) => applied.push(message),
    resync: () => resyncs++,
  };
  let counter = 0;
  const append = (key: string, from = 'writer') => log.append(`${prefix}bus`, JSON.stringify({ i: from, o: 'd', n: null, k: [key], u: ++counter }));
  /** Appends `n` messages that the cursor hears live, in order. */
  const appendHeard = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const seq = Number(await append(`heard${i}`));
      cursor.live(seq, 'writer', counter);
    }
  };
  return { prefix, log, cursor, applied, context, append, appendHeard, resyncs: () => resyncs };
}

describe('the catch-up log in Redis', () => {
  it('numbers entries 1, 2, 3... and publishes each with its number, in one script', async () => {
    const { prefix, append } = setup();
    const sub = server.client();
    const seen: string[] = [];
    sub.on('message', (_channel: string, text: string) => seen.push(text));
    await sub.subscribe(`${prefix}bus`);
    expect(await append('a')).toBe(1);
    expect(await append('b')).toBe(2);
    await expect.poll(() => seen.length).toBe(2);
    expect(seen.map((t) => JSON.parse(t) as BusMessage)).toEqual([
      { q: 1, i: 'writer', o: 'd', n: null, k: ['a'], u: 1 },
      { q: 2, i: 'writer', o: 'd', n: null, k: ['b'], u: 2 },
    ]);
    expect(await redis.xrange(logKey(prefix), '-', '+')).toEqual([
      ['0-1', ['m', '{"i":"writer","o":"d","n":null,"k":["a"],"u":1}']],
      ['0-2', ['m', '{"i":"writer","o":"d","n":null,"k":["b"],"u":2}']],
    ]);
    sub.disconnect();
  });

  it('works again after the script cache is flushed (NOSCRIPT falls back to EVAL)', async () => {
    const { append } = setup();
    expect(await append('a')).toBe(1);
    await redis.script('FLUSH');
    expect(await append('b')).toBe(2);
  });

  it('catches a cursor up from where it stopped, applying only what it missed', async () => {
    const { cursor, applied, context, append, resyncs } = setup();
    cursor.start(0);
    await append('a');
    expect(cursor.live(1, 'writer', 1)).toBe(false); // heard live, in order
    await append('b');
    await append('c');
    expect(cursor.live(3, 'writer', 3)).toBe(true); // 2 was missed
    expect(await cursor.catchUp(context)).toEqual({ applied: 2, resynced: false });
    expect(applied.map((m) => m.k)).toEqual([['b'], ['c']]);
    expect(cursor.seq).toBe(3);
    expect(await cursor.catchUp(context)).toEqual({ applied: 0, resynced: false });
    expect(resyncs()).toBe(0);
  });

  it('judges a page by where the cursor is when it arrives (live messages moved it meanwhile)', async () => {
    const { cursor, applied, context, append, resyncs } = setup();
    cursor.start(0);
    await append('a');
    cursor.live(1, 'writer', 1);
    await append('b');
    await append('c');
    const result = cursor.catchUp({
      ...context,
      read: async (from, count) => {
        const page = await context.read(from, count);
        cursor.live(2, 'writer', 2); // message 2 arrives live while the read is in flight
        return page;
      },
    });
    expect(await result).toEqual({ applied: 1, resynced: false });
    expect(applied.map((m) => m.k)).toEqual([['c']]);
    expect(resyncs()).toBe(0);
  });

  it('starts from the first heartbeat: earlier entries are not replayed', async () => {
    const { cursor, applied, context, append } = setup();
    await append('before-1');
    await append('before-2');
    cursor.start(2);
    await append('after');
    expect(cursor.behind(3)).toBe(true);
    expect(await cursor.catchUp(context)).toEqual({ applied: 1, resynced: false });
    expect(applied.map((m) => m.k)).toEqual([['after']]);
  });

  it('resyncs when the log was trimmed past the cursor (fell too far behind)', async () => {
    const { cursor, context, append, resyncs, applied } = setup(10);
    cursor.start(0);
    await append('first');
    cursor.live(1, 'writer', 1);
    for (let i = 0; i < 400; i++) await append(`k${i}`); // MAXLEN ~ 10 trims whole stream nodes
    expect(await cursor.catchUp(context)).toEqual({ applied: 0, resynced: true });
    expect(resyncs()).toBe(1);
    expect(applied).toEqual([]);
    expect(cursor.seq).toBe(401);
  });

  it('resyncs when the log went back (Redis restarted empty, or the log key was lost)', async () => {
    const { cursor, context, append, appendHeard, resyncs, log } = setup();
    cursor.start(0);
    await appendHeard(3);
    await redis.del(log.key);
    await append('after-reset');
    expect(cursor.behind(1)).toBe(true);
    expect(await cursor.catchUp(context)).toEqual({ applied: 0, resynced: true });
    expect(resyncs()).toBe(1);
    expect(cursor.seq).toBe(1);
  });

  it('resyncs when the entry it stopped at was replaced (a failover lost entries, then the log grew again)', async () => {
    const { cursor, context, append, appendHeard, resyncs, log } = setup();
    cursor.start(0);
    await appendHeard(3);
    await redis.del(log.key); // as if a promoted replica had none of it
    for (let i = 1; i <= 4; i++) await append(`other${i}`, 'someone-else');
    expect(await cursor.catchUp(context)).toEqual({ applied: 0, resynced: true });
    expect(resyncs()).toBe(1);
    expect(cursor.seq).toBe(4);
  });
});
