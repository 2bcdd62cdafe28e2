import { invalidArgument } from '../../core/index.js';
import type { CheckResult, HealthCheck } from '../types.js';

/** What {@link pgCheck} needs: a `pg` `Pool` or `Client`, or anything with `query(sql)`. */
export interface Queryable {
  /** Runs one SQL statement. */
  query(sql: string): Promise<unknown>;
}

/**
 * A check that runs `SELECT 1` and reports the round trip in ms (`responseTime`). Works with a
 * `pg` `Pool` or `Client`, and with any client exposing `query(sql)` (mysql2's promise pool,
 * a Knex instance's `raw` wrapped in an object...).
 *
 * @param pool - the pool the service already uses.
 * @param sql - the statement to run. Default `'SELECT 1'`.
 * @example
 * ```ts
 * import pg from 'pg';
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * health.register('postgres', pgCheck(pool));
 * ```
 */
export function pgCheck(pool: Queryable, sql = 'SELECT 1'): HealthCheck {
  if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function') {
    throw invalidArgument('pool', 'a database pool or client with query()', pool);
  }
  if (typeof sql !== 'string' || sql.length === 0) throw invalidArgument('sql', 'a non-empty string', sql);
  const check: HealthCheck = async (): Promise<CheckResult> => {
    const started = performance.now();
    await pool.query(sql);
    return { status: 'pass', observedValue: Math.round((performance.now() - started) * 100) / 100, observedUnit: 'ms' };
  };
  check.kind = 'datastore';
  check.measurement = 'responseTime';
  return check;
}
