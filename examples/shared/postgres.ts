import pg from 'pg';

/** A row of the example's product table. */
export interface Product {
  id: number;
  name: string;
  priceCents: number;
}

/** An order placed through POST /orders. */
export interface Order {
  id: number;
  sku: string;
  quantity: number;
}

/** A pool whose every call is bounded: 2 s to connect, 2 s per query. */
export function connectPostgres(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 8, connectionTimeoutMillis: 2_000, query_timeout: 2_000 });
  pool.on('error', (err) => console.warn('postgres:', err.message)); // an idle client lost its connection
  return pool;
}

/** Creates and seeds the example's tables once; several apps starting together take turns. */
export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(4711)'); // CREATE TABLE IF NOT EXISTS races otherwise
    await client.query('CREATE TABLE IF NOT EXISTS headroom_example_product (id int PRIMARY KEY, name text NOT NULL, price_cents int NOT NULL)');
    await client.query("INSERT INTO headroom_example_product VALUES (1, 'kettle', 3900), (2, 'teapot', 2450) ON CONFLICT (id) DO NOTHING");
    await client.query('CREATE TABLE IF NOT EXISTS headroom_example_order (id serial PRIMARY KEY, sku text NOT NULL, quantity int NOT NULL)');
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  } finally {
    client.release();
  }
}

/** One product, or `null`. */
export async function selectProduct(pool: pg.Pool, id: number): Promise<Product | null> {
  const sql = 'SELECT id, name, price_cents AS "priceCents" FROM headroom_example_product WHERE id = $1';
  const { rows } = await pool.query<Product>(sql, [id]);
  return rows[0] ?? null;
}

/** An aggregate that takes the database a while (a stand-in for a real report). */
export async function selectReport(pool: pg.Pool): Promise<{ products: number; averageCents: number }> {
  const sql = 'SELECT count(*)::int AS products, avg(price_cents)::int AS "averageCents" FROM headroom_example_product, pg_sleep(0.3)';
  const { rows } = await pool.query<{ products: number; averageCents: number }>(sql);
  return rows[0]!;
}

export async function insertOrder(pool: pg.Pool, input: Omit<Order, 'id'>): Promise<Order> {
  const sql = 'INSERT INTO headroom_example_order (sku, quantity) VALUES ($1, $2) RETURNING id, sku, quantity';
  const { rows } = await pool.query<Order>(sql, [input.sku, input.quantity]);
  return rows[0]!;
}
