/**
 * A separate process for the cross-process lock test: 20 concurrent getOrSet of one key with
 * `lock: true`; the factory counts its runs in Redis (INCR). Prints the value and exits on its own
 * after close() (which also shows that the cache leaves no handle behind).
 */
import { Redis } from 'ioredis';
import { createCache } from '../../src/cache/index.js';

const [port, prefix, counterKey, startAt] = process.argv.slice(2) as [string, string, string, string];
const redis = new Redis({ port: Number(port), host: '127.0.0.1' });
const cache = createCache({ redis, prefix, lock: true });
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const factory = async (): Promise<string> => {
  await redis.incr(counterKey);
  await new Promise((resolve) => setTimeout(resolve, 300));
  return 'value-from-factory';
};
const values = await Promise.all(Array.from({ length: 20 }, () => cache.getOrSet('report', factory)));
if (new Set(values).size !== 1) throw new Error('processes disagreed');
process.stdout.write(`${values[0]}\n`);
await cache.close();
await redis.quit();
