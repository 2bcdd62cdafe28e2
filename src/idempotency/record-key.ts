import { randomUUID } from 'node:crypto';

/** The longest key or scope accepted, in characters. */
export const MAX_KEY_PART = 2 ** 16;

/**
 * Lease tokens: a random prefix per process (122 random bits) and a counter, unique across
 * processes like a UUID per call, without drawing and formatting random bytes on every request.
 */
const TOKEN_PREFIX = randomUUID() + ':';
let tokenSequence = 0;

/** A lease token no other call, in this process or another, ever uses. */
export function nextToken(): string {
  return TOKEN_PREFIX + (++tokenSequence).toString(36);
}

/**
 * The store key for `key` in `scope`. Length-prefixing the scope makes the mapping injective:
 * scope `a:b` + key `c` and scope `a` + key `b:c` can never meet in one record.
 */
export function scopedKey(scope: string | undefined, key: string): string {
  return scope === undefined ? ':' + key : `${scope.length}:${scope}:${key}`;
}
