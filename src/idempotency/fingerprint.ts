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
 * await idempotency.run(key, () => payments.charge(order), { fingerprint: fingerprint(order) });
 * ```
 */
export function fingerprint(value: unknown): string {
  if (typeof value === 'string') return sha256(value);
  if (value instanceof Uint8Array) return crypto.createHash('sha256').update(value).digest('base64url');
  return sha256(canonicalJson(value));
}

// A scanner over raw request bytes: does the text already read as canonicalParsedJson would
// write it? Then it is its own canonical form, and the fingerprint needs no UTF-8 decoding, no
// JSON.parse and no re-serialising. Only a conservative subset qualifies (ASCII; compact; object
// keys strictly ascending; strings without escapes; integers of at most 15 digits, no -0); any
// other text answers false and takes the parse-and-serialise path, so the fingerprint is the same
// either way.
let at = 0;
let src: Uint8Array = new Uint8Array(0);
const MAX_DEPTH = 64;
const MAX_INT_DIGITS = 15;

/**
 * Whether `bytes` is JSON exactly as `canonicalParsedJson(JSON.parse(text))` would write it, in
 * a subset that can be checked without parsing (see above). False means "not known", not "not JSON".
 * @internal
 */
export function isCanonicalJsonBytes(bytes: Uint8Array): boolean {
  src = bytes;
  at = 0;
  const ok = scanValue(0) && at === bytes.length;
  src = EMPTY_BYTES;
  return ok;
}

const EMPTY_BYTES = new Uint8Array(0);

function scanValue(depth: number): boolean {
  if (at >= src.length) return false;
  const c = src[at]!;
  if (c === 0x22 /* " */) return scanString() >= 0;
  if (c === 0x7b /* { */) return depth < MAX_DEPTH && scanObject(depth + 1);
  if (c === 0x5b /* [ */) return depth < MAX_DEPTH && scanArray(depth + 1);
  if (c === 0x74 /* t */) return scanWord(TRUE);
  if (c === 0x66 /* f */) return scanWord(FALSE);
  if (c === 0x6e /* n */) return scanWord(NULL);
  return scanInteger();
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function scanWord(word: readonly number[]): boolean {
  if (at + word.length > src.length) return false;
  for (let i = 0; i < word.length; i++) if (src[at + i] !== word[i]) return false;
  at += word.length;
  return true;
}

function scanInteger(): boolean {
  let c = src[at];
  const negative = c === 0x2d; /* - */
  if (negative) c = src[++at];
  if (c === undefined || c < 0x30 || c > 0x39) return false;
  if (c === 0x30) {
    at++;
    // "-0" is written "0"; "0" followed by digits is not JSON.
    if (negative) return false;
  } else {
    const start = at;
    while (at < src.length && src[at]! >= 0x30 && src[at]! <= 0x39) at++;
    if (at - start > MAX_INT_DIGITS) return false;
  }
  const next = src[at];
  // A fraction or exponent may be written differently once parsed: leave it to the slow path.
  return next !== 0x2e && next !== 0x65 && next !== 0x45;
}

/** Scans a string at `at`; returns the index of its first character, or -1. */
function scanString(): number {
  const start = ++at;
  for (; at < src.length; at++) {
    const c = src[at]!;
    if (c === 0x22) {
      at++;
      return start;
    }
    // Escapes, control characters (not JSON) and non-ASCII (may be written differently, and
    // compare differently as UTF-16): slow path.
    if (c === 0x5c || c < 0x20 || c >= 0x7f) return -1;
  }
  return -1;
}

function scanArray(depth: number): boolean {
  at++;
  if (src[at] === 0x5d /* ] */) {
    at++;
    return true;
  }
  for (;;) {
    if (!scanValue(depth)) return false;
    const c = src[at];
    at++;
    if (c === 0x5d) return true;
    if (c !== 0x2c /* , */) return false;
  }
}

function scanObject(depth: number): boolean {
  at++;
  if (src[at] === 0x7d /* } */) {
    at++;
    return true;
  }
  let prevStart = -1;
  let prevEnd = -1;
  for (;;) {
    if (src[at] !== 0x22) return false;
    const start = scanString();
    if (start < 0) return false;
    const end = at - 1;
    // Strictly ascending keys (a duplicate key is left to the slow path, where the last one wins).
    if (prevStart >= 0 && !keyBefore(prevStart, prevEnd, start, end)) return false;
    prevStart = start;
    prevEnd = end;
    if (src[at] !== 0x3a /* : */) return false;
    at++;
    if (!scanValue(depth)) return false;
    const c = src[at];
    at++;
    if (c === 0x7d) return true;
    if (c !== 0x2c) return false;
  }
}

/** Whether the ASCII key in [a, aEnd) sorts strictly before the one in [b, bEnd). */
function keyBefore(a: number, aEnd: number, b: number, bEnd: number): boolean {
  for (; a < aEnd && b < bEnd; a++, b++) {
    const x = src[a]!;
    const y = src[b]!;
    if (x !== y) return x < y;
  }
  return aEnd - a < bEnd - b;
}
