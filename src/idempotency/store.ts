/**
 * The contract between {@link Idempotency} and where its records live. Two implementations ship
 * (`MemoryIdempotencyStore`, `RedisIdempotencyStore`); write your own for another database.
 */

/** {@link IdempotencyStore.acquire} took the key: the caller now holds the lease and runs the operation. */
export interface AcquiredRecord {
  /** Always `'acquired'`. */
  readonly status: 'acquired';
}

/** {@link IdempotencyStore.acquire} found the key held by a live lease: the first call is still running. */
export interface InProgressRecord {
  /** Always `'in-progress'`. */
  readonly status: 'in-progress';
  /** The fingerprint the holder acquired the key with (`''` when it gave none). */
  readonly fingerprint: string;
  /** How long the holder's lease still runs, in milliseconds (a hint for `Retry-After`). */
  readonly leaseRemainingMs: number;
}

/** {@link IdempotencyStore.acquire} found a completed record: the stored result. */
export interface CompletedRecord {
  /** Always `'completed'`. */
  readonly status: 'completed';
  /** The fingerprint the record was completed with (`''` when none was given). */
  readonly fingerprint: string;
  /**
   * The stored result, the string exactly as it was passed to {@link IdempotencyStore.complete}
   * (an encoded outcome: the store never interprets it).
   */
  readonly value: string;
}

/** What {@link IdempotencyStore.acquire} found, in one answer. */
export type AcquireResult = AcquiredRecord | InProgressRecord | CompletedRecord;

/**
 * Where idempotency records live. A record is one key in one of three states: absent, in
 * progress (a lease: the holder's `token` and an expiry of `lockTtlMs`), or completed (a
 * fingerprint and a stored value, expiring after `ttlMs`).
 *
 * Every method must be atomic for its key: two processes calling {@link IdempotencyStore.acquire}
 * on an absent key at the same moment must see exactly one `'acquired'`. Keys are opaque strings
 * built by {@link Idempotency} (already scoped); values are opaque strings. A method rejects only
 * when the store itself fails (network, database down).
 *
 * Latency matters: `acquire` runs on every request, `complete` on every first request. The Redis
 * store does each in one round trip (a single-key Lua script). In SQL, `acquire` is one
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE <lease lapsed or record expired> RETURNING` and
 * `complete`/`renew`/`release` are one `UPDATE`/`DELETE ... WHERE key = $1 AND token = $2`.
 *
 * @example
 * ```ts fragment
 * // A PostgreSQL store (sketch): table idem(key text primary key, state text, token text,
 * //   fingerprint text, value text, expires_at timestamptz)
 * class PgIdempotencyStore implements IdempotencyStore {
 *   constructor(private readonly pool: pg.Pool) {}
 *   async acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult> {
 *     const { rows } = await this.pool.query(
 *       `INSERT INTO idem AS i VALUES ($1, 'p', $2, $3, NULL, now() + $4 * interval '1 ms')
 *        ON CONFLICT (key) DO UPDATE SET state = 'p', token = $2, fingerprint = $3, value = NULL,
 *          expires_at = excluded.expires_at WHERE i.expires_at <= now()
 *        RETURNING true AS acquired`, [key, token, fingerprint, lockTtlMs]);
 *     if (rows.length === 1) return { status: 'acquired' };
 *     const found = await this.pool.query(
 *       `SELECT state, fingerprint, value, extract(epoch from expires_at - now()) * 1000 AS left_ms
 *        FROM idem WHERE key = $1`, [key]);
 *     const r = found.rows[0];
 *     if (r === undefined) return this.acquire(key, token, fingerprint, lockTtlMs); // expired in between
 *     return r.state === 'p'
 *       ? { status: 'in-progress', fingerprint: r.fingerprint, leaseRemainingMs: Number(r.left_ms) }
 *       : { status: 'completed', fingerprint: r.fingerprint, value: r.value };
 *   }
 *   // complete: UPDATE idem SET state = 'd', value = $3, expires_at = now() + ttl
 *   //           WHERE key = $1 AND token = $2 (true also when already 'd' with this token;
 *   //           INSERT when the row is gone)
 *   // renew:    UPDATE idem SET expires_at = now() + lockTtl WHERE key = $1 AND token = $2 AND state = 'p'
 *   // release:  DELETE FROM idem WHERE key = $1 AND token = $2 AND state = 'p'
 * }
 * ```
 */
export interface IdempotencyStore {
  /**
   * Atomically: when `key` is absent or expired, records it as in progress, held by `token` with
   * `fingerprint`, for `lockTtlMs`, and answers `'acquired'`; otherwise answers what is there
   * without changing it (`'in-progress'` with the holder's fingerprint, or `'completed'` with the
   * stored value). A lease that has lapsed counts as absent: that is how a key held by a crashed
   * process becomes free again.
   */
  acquire(key: string, token: string, fingerprint: string, lockTtlMs: number): Promise<AcquireResult>;

  /**
   * Stores `value` as the completed result of `key` for `ttlMs`, when `token` still holds the lease
   * or the record is gone (it expired or the store lost it: storing the result is still right).
   * Resolves `false`, changing nothing, when another token now holds the key or it was completed
   * by another token: this fence is what keeps a stale holder (whose lease lapsed while another
   * caller took the key) from overwriting the newer holder's result. Resolves `true`, changing
   * nothing, when the record was already completed by `token`: `Idempotency` retries a `complete`
   * that failed or timed out, and the first try may have landed. So a completed record keeps the
   * token that completed it.
   */
  complete(key: string, token: string, fingerprint: string, value: string, ttlMs: number): Promise<boolean>;

  /**
   * Extends the lease of `key` to `lockTtlMs` from now, only when `token` still holds it
   * (compare-and-set). Resolves `false` when it does not: the lease was lost.
   */
  renew(key: string, token: string, lockTtlMs: number): Promise<boolean>;

  /**
   * Deletes the in-progress record of `key` when `token` holds it, so that a retry runs the
   * operation again. Resolves `false`, changing nothing, otherwise.
   */
  release(key: string, token: string): Promise<boolean>;
}
