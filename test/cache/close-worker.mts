/**
 * Uses every part of a cache (L1, L2, bus, lock, timeouts, events), then closes it and quits its
 * Redis client without calling process.exit: the test checks this process ends on its own.
 */
import { Redis } from 'ioredis';
import { createCache } from '../../src/cache/index.js';

const redis = new Redis({ port: Number(process.argv[2]), host: '127.0.0.1' });
const cache = createCache({
  redis,
  prefix: 'close-worker:',
  l2Timeout: 200,
  factoryTimeout: { soft: 50, hard: 500 },
  lock: true,
  earlyRefresh: 0.5,
  ttl: 100,
  grace: '1m',
});
cache.on('hit', () => {});
await cache.getOrSet('a', () => 1);
await cache.getOrSet('a', () => 1);
await cache.set('b', 2, { tags: ['t'] });
await cache.invalidateTags('t');
await cache.namespace('api').getOrSet('c', () => 3);
await cache.invalidatePattern('x*');
await new Promise((r) => setTimeout(r, 80));
await cache.getOrSet('a', () => 4); // early refresh in the background
await cache.close();
await redis.quit();
process.stdout.write('done\n');
