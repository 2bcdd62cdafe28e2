/**
 * The `RateLimit-Policy` and `RateLimit` response fields of draft-ietf-httpapi-ratelimit-headers
 * (revision 11), serialized as Structured Field Lists (RFC 9651): each member an sf-string naming
 * the policy, with Integer parameters.
 *
 * - `RateLimit-Policy: "per-ip";q=100;w=60`: quota `q` per window `w` (whole seconds; left out
 *   for a window that is not a whole number of seconds, as the draft allows no fractions).
 * - `RateLimit: "per-ip";r=42;t=1`: `r` units left now, and `t` the seconds within which no more
 *   than `r` can be used (with GCRA: until the next unit comes back).
 */
import { invalidArgument } from '../core/index.js';
import type { RateLimitPolicy } from './policy.js';
import { nextUnitMs, type RateLimitResult } from './result.js';

/** The largest Integer a Structured Field may carry (15 digits). */
const SF_INTEGER_MAX = 999_999_999_999_999;
const PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * An sf-string: printable ASCII in double quotes, with `\` and `"` escaped. Throws
 * `INVALID_ARGUMENT` naming `option` for anything else (empty, control characters, non-ASCII).
 *
 * @internal
 */
export function sfString(value: unknown, option: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256 || !PRINTABLE.test(value)) {
    throw invalidArgument(option, 'printable ASCII text of 1 to 256 characters', value);
  }
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function sfInteger(value: number): number {
  return value > SF_INTEGER_MAX ? SF_INTEGER_MAX : Math.max(0, Math.floor(value));
}

/**
 * One member of `RateLimit-Policy` for `policy` under the serialized name `name`.
 *
 * @internal
 */
export function policyMember(name: string, policy: RateLimitPolicy): string {
  const windowSeconds = policy.windowMs / 1000;
  const w = Number.isInteger(windowSeconds) ? `;w=${sfInteger(windowSeconds)}` : '';
  return `${name};q=${sfInteger(policy.limit)}${w}`;
}

/**
 * One member of `RateLimit` for an answer of `policy` under the serialized name `name`.
 *
 * @internal
 */
export function limitMember(name: string, policy: RateLimitPolicy, result: RateLimitResult): string {
  return `${name};r=${sfInteger(result.remaining)};t=${sfInteger(Math.ceil(nextUnitMs(policy, result) / 1000))}`;
}

/** Joins List members as RFC 9651 serializes them: a comma and one space. @internal */
export function sfList(members: readonly string[]): string {
  return members.join(', ');
}
