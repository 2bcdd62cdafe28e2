// A service's file as a user writes it against the installed package: one real name from every
// subpath export, and the Redis-backed parts given the ioredis clients the service already has
// (a Redis and a Cluster). .ci/consumers.sh type-checks it, never runs it: it would connect.
// It is copied to service.mts and service.cts, so that under `module: nodenext` both the
// `import` (.d.ts) and the `require` (.d.cts) types are checked; no top-level await for that.
import { Cluster, Redis } from 'ioredis';
import { HeadroomError, isHeadroomError, parseDuration, type Duration } from 'headroom';
import { createCache, type Cache } from 'headroom/cache';
import { dashboardHandler, metricsHandler } from 'headroom/dashboard';
import { HealthChecker, redisCheck } from 'headroom/health';
import { compose, shed, timeout, toNode } from 'headroom/http';
import { Idempotency, RedisIdempotencyStore } from 'headroom/idempotency';
import { PercentileTracker } from 'headroom/percentiles';
import { TaskQueue } from 'headroom/queue';
import { RateLimiter, RedisRateLimitStore } from 'headroom/ratelimit';
import { CircuitBreaker, RetryPolicy, pipeline } from 'headroom/resilience';
import { TimeoutError, withTimeout } from 'headroom/timeout';

const redis = new Redis({ lazyConnect: true });
const cluster = new Cluster([{ host: '127.0.0.1', port: 7000 }], { lazyConnect: true });

const cache: Cache = createCache({ redis, ttl: '5m' });
const clusterCache = createCache({ redis: cluster, ttl: '5m', prefix: 'c:' });

const idempotency = new Idempotency({ store: new RedisIdempotencyStore(redis), ttl: '24h' });
const clusterStore = new RedisIdempotencyStore(cluster);

const perIp = new RateLimiter({ name: 'per-ip', limit: 100, window: '1m', store: new RedisRateLimitStore(redis) });
const perAccount = new RateLimiter({ name: 'per-account', limit: 1000, window: '1h', store: new RedisRateLimitStore(cluster) });

const breaker = new CircuitBreaker({ name: 'pricing', share: { redis, channel: 'shop:breakers' } });
const clusterBreaker = new CircuitBreaker({ name: 'search', share: { redis: cluster, channel: 'shop:breakers' } });
const pricing = pipeline(new RetryPolicy({ maxAttempts: 3 }), breaker);

const health = new HealthChecker({ timeout: '500ms' }).register('redis', redisCheck(redis)).register('cluster', redisCheck(cluster));
const tracker = new PercentileTracker();
const queue = new TaskQueue({ concurrency: 4, maxSize: 100 });
const middleware = toNode(compose(timeout('2s'), shed(queue)));
const dashboard = toNode(dashboardHandler({ percentiles: tracker, cache, health, idempotency, queues: { http: queue } }));
const metrics = toNode(metricsHandler({ percentiles: tracker, cache }));

// A duration read from the environment: a plain string is not a Duration until parsed.
const fromEnv: Duration = parseDuration(process.env.CACHE_TTL ?? '5m', 'CACHE_TTL');

// The declarations are really checked, not `any`: each line below must be an error, or the
// unused @ts-expect-error fails the compile.
// @ts-expect-error a URL is not a client
createCache({ redis: 'redis://127.0.0.1:6379' });
// @ts-expect-error a plain string is not a Duration (parse it, as above)
createCache({ redis, ttl: process.env.CACHE_TTL ?? '5m' });
// @ts-expect-error the store needs a client
new RedisIdempotencyStore();

export async function handle(id: string): Promise<string | null> {
  try {
    return await withTimeout(
      (signal) => cache.getOrSet(`product:${id}`, async () => (signal.aborted ? null : id), { ttl: fromEnv }),
      '800ms',
      'product',
    );
  } catch (err) {
    if (err instanceof TimeoutError) return null; // headroom/timeout's class
    if (isHeadroomError(err, 'QUEUE_FULL')) return null;
    throw err instanceof HeadroomError ? new Error(`product ${id}: ${err.code}`, { cause: err }) : err;
  }
}

export const service = {
  clusterCache,
  clusterStore,
  limiters: [perIp, perAccount],
  clusterBreaker,
  pricing,
  middleware,
  dashboard,
  metrics,
};
