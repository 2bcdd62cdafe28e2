import { Redis } from 'ioredis';

/**
 * The service's Redis client, shared by the cache (L2 and its invalidation bus), the idempotency
 * store and the rate limiter. Every command is bounded (`commandTimeout`) and fails after one
 * reconnection attempt instead of queueing while Redis is away; each headroom module then does
 * what its docs say (the cache serves L1, the limiter follows `onStoreError`, idempotency 503s).
 */
export function connectRedis(url: string): Redis {
  const redis = new Redis(url, { enableAutoPipelining: true, commandTimeout: 1_000, connectTimeout: 2_000, maxRetriesPerRequest: 1 });
  redis.on('error', (err) => console.warn('redis:', err.message)); // connection errors: log them, never crash
  return redis;
}
