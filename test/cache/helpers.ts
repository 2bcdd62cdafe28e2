import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Cache, CacheEvents } from '../../src/cache/index.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';

/** The per-file setup every cache test shares; see {@link cacheSuite}. */
export interface CacheSuite {
  /** The file's throwaway Redis server, started before the first test. */
  readonly server: RedisServer;
  /** A connection to it, for assertions and for caches that share one client. */
  readonly redis: Redis;
  /** A prefix of the running test's own: caches made with it in one test share a key space. */
  readonly testPrefix: string;
  /** A prefix no other call returns: a key space of its own. */
  nextPrefix(): string;
  /** The prefix {@link CacheSuite.nextPrefix} returned last. */
  readonly lastPrefix: string;
  /** Closes `caches` after the running test. */
  track(...caches: Cache[]): void;
  /** How many times Redis has run `command` so far (INFO commandstats). */
  commandCalls(command: string): Promise<number>;
}

/**
 * Starts one throwaway Redis for the file, closes the caches a test tracked after it, and stops
 * Redis after the file. `name` starts every prefix, so keys in Redis show which file wrote them.
 */
export function cacheSuite(name: string): CacheSuite {
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  let test = 0;
  let unique = 0;
  const open: Cache[] = [];
  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
  });
  afterEach(async () => {
    test++;
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(stopAllRedis);
  return {
    get server() {
      if (server === undefined) throw new Error('cacheSuite: Redis is not started yet (use it inside a test)');
      return server;
    },
    get redis() {
      if (redis === undefined) throw new Error('cacheSuite: Redis is not started yet (use it inside a test)');
      return redis;
    },
    get testPrefix() {
      return `${name}${test}:`;
    },
    nextPrefix: () => `${name}-${++unique}:`,
    get lastPrefix() {
      return `${name}-${unique}:`;
    },
    track: (...caches) => {
      open.push(...caches);
    },
    commandCalls: async (command) => {
      const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await redis!.info('commandstats'));
      return match === null ? 0 : Number(match[1]);
    },
  };
}

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until the cache's bus is subscribed. */
export function busReady(...caches: Cache[]): Promise<void> {
  return waitFor(() => caches.every((c) => c.stats().bus.connected), 'the bus to connect');
}

/** A promise plus its resolve/reject. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A `bus-down` or `bus-up` event seen by {@link recordBusEvents}, with when it came. */
export interface BusEvent {
  at: number;
  event: 'bus-down' | 'bus-up';
  payload: CacheEvents['bus-down'] | CacheEvents['bus-up'];
}

/** Records the `bus-down` and `bus-up` events of `cache`, in order, with their time. */
export function recordBusEvents(cache: Cache): BusEvent[] {
  const events: BusEvent[] = [];
  cache.on('bus-down', (payload) => events.push({ at: Date.now(), event: 'bus-down', payload }));
  cache.on('bus-up', (payload) => events.push({ at: Date.now(), event: 'bus-up', payload }));
  return events;
}
