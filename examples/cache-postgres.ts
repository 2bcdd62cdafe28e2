/**
 * Caching a PostgreSQL query with headroom's cache: L1 in process, Redis as L2, two service
 * instances kept coherent by the invalidation bus.
 *
 *   node --import tsx examples/cache-postgres.ts
 *
 * Needs PostgreSQL on 127.0.0.1:5432 (user postgres, database `test`, trust auth) and Redis
 * (REDIS_URL, default redis://127.0.0.1:6379). It creates and seeds a small table if missing and
 * touches only its own Redis keys (prefix `headroom-example:`); it never flushes anything.
 */
import pg from 'pg';
import { Redis } from 'ioredis';
import { createCache, type Cache } from 'headroom/cache';

interface Product {
  id: number;
  name: string;
  priceCents: number;
}

const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true, maxRetriesPerRequest: 1 });
redis.on('error', (err) => console.warn('redis:', err.message)); // connection errors: log them, never crash

// Two instances of the same service (two pods, say): each has its own L1, both share Redis.
const options = { prefix: 'headroom-example:', redis, ttl: '10m', jitter: 0.1, grace: '1h' } as const;
const podA = createCache(options);
const podB = createCache(options);
for (const [name, cache] of [
  ['A', podA],
  ['B', podB],
] as const) {
  cache.on('hit', ({ key, layer }) => layer === 'l2' && console.log(`  pod ${name}: hit ${key} in L2 (Redis)`));
  cache.on('miss', ({ key }) => console.log(`  pod ${name}: miss ${key} -> Postgres`));
}

await pool.query('CREATE TABLE IF NOT EXISTS headroom_example_product (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL)');
await pool.query("INSERT INTO headroom_example_product VALUES (1, 'kettle', 3900), (2, 'teapot', 2450) ON CONFLICT (id) DO NOTHING");

let queries = 0;
/** Reads a product through `cache`: Postgres runs only on a miss, once for concurrent callers. */
function product(cache: Cache, id: number): Promise<Product | undefined> {
  return cache.getOrSet(
    `product:${id}`,
    async () => {
      queries++;
      const sql = 'SELECT id, name, price_cents AS "priceCents" FROM headroom_example_product WHERE id = $1';
      const { rows } = await pool.query<Product>(sql, [id]);
      return rows[0]; // undefined (no such row) is returned to the caller, not cached
    },
    { tags: ['products'] },
  );
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50)); // let the bus deliver

try {
  await podA.delete('product:1'); // start cold, whatever a previous run left behind
  console.log('pod A reads product 1, then pod B, then pod A ten times at once:');
  console.log(' ', await product(podA, 1));
  await product(podB, 1);
  await Promise.all(Array.from({ length: 10 }, () => product(podA, 1)));
  console.log(`  pod A: ${podA.stats().l1.hits} hits in L1 (in process, no Redis call)`);

  console.log('pod A changes the price; pod B reads again:');
  await pool.query('UPDATE headroom_example_product SET price_cents = $2 WHERE id = $1', [1, 3900 + (Date.now() % 100)]);
  await podA.delete('product:1'); // Redis and pod A's L1 now; pod B's L1 through the bus
  await settle();
  console.log(' ', await product(podB, 1));

  console.log('a bulk import invalidates the "products" tag; pod A reads again:');
  await podB.invalidateTags('products');
  await settle();
  console.log(' ', await product(podA, 1));
  const { l1, l2, factory } = podA.stats();
  console.log(`Postgres queries: ${queries}. Pod A: L1 ${l1.hits} hits, L2 ${l2.hits} hits, ${factory.calls} factory calls.`);
} finally {
  await Promise.all([podA.close(), podB.close()]); // closes the bus connections the caches made
  await pool.end();
  await redis.quit(); // the client we passed in is ours to close
}
