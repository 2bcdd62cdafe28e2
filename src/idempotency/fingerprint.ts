import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'base64url') => string;

/**
 * `crypto.hash` (Node >= 20.12) hashes a string in one call, about 2.5x faster than
 * `createHash().update().digest()` for request-sized inputs; older Node 20 falls back.
 */
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/** SHA-256 of a string, base64url. @internal */
export function sha256(text: string): string {
  return oneShot === undefined ? crypto.createHash('sha256').update(text).digest('base64url') : oneShot('sha256', text, 'base64url');
}

/**
 * JSON text of `value` with object keys sorted at every depth, so that two payloads that differ
 * only in key order give the same text. Follows `JSON.stringify` otherwise (`toJSON`, `undefined`
 * members dropped, non-finite numbers as `null`).
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }); // '{"a":[{"c":3,"d":2}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/**
 * {@link canonicalJson} of a value that came out of `JSON.parse`. When every object's keys
 * already come in sorted order (what most clients send, and always for one-key objects),
 * the native `JSON.stringify` writes the same text several times faster; the check walks the
 * value without allocating.
 *
 * @internal
 */
export function canonicalParsedJson(value: unknown): string {
  return keysSorted(value, 0) ? JSON.stringify(value) : canonicalJson(value);
}

function keysSorted(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (depth > 64) return false; // deep nesting: leave it to canonicalJson
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!keysSorted(value[i], depth + 1)) return false;
    return true;
  }
  let previous: string | undefined;
  // for...in order is JSON.stringify's order for a parsed object (no prototype keys).
  for (const key in value as Record<string, unknown>) {
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!keysSorted((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function write(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
    if (typeof value === 'bigint') return JSON.stringify(value.toString());
    return JSON.stringify(value);
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i]) ?? 'null';
    }
    return out + ']';
  }
  const keys = Object.keys(value).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = write((value as Record<string, unknown>)[key]);
    if (member === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(key) + ':' + member;
  }
  return out + '}';
}

/**
 * A short stable digest (SHA-256, base64url) of `value`: of its bytes when it is a `Uint8Array` or
 * a string, else of its {@link canonicalJson}. Pass it as `fingerprint` to `Idempotency.run` so
 * that a key reused with another payload is refused with `IDEMPOTENCY_KEY_REUSED`.
 *
 * @example
 * ```ts
 * await idempotency.run(key, () => charge(order), { fingerprint: fingerprint(order) });
 * ```
 */
export function fingerprint(value: unknown): string {
  if (typeof value === 'string') return sha256(value);
  if (value instanceof Uint8Array) return crypto.createHash('sha256').update(value).digest('base64url');
  return sha256(canonicalJson(value));
}
