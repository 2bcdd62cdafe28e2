/** Why an `Idempotency-Key` header was refused. @internal */
export class KeyProblem {
  constructor(readonly detail: string) {}
}

const EMPTY = new KeyProblem('The Idempotency-Key header is empty.');
const BAD_CHAR = new KeyProblem(
  'The Idempotency-Key header must be printable ASCII: a bare token without spaces or control characters, or an RFC 8941 quoted string.',
);
const BAD_QUOTED = new KeyProblem('The Idempotency-Key header is a malformed RFC 8941 string (unterminated, bad escape, or text after the closing quote).');

/**
 * Reads an `Idempotency-Key` header value: a bare token of visible ASCII (`a1b2-c3`, as Stripe
 * clients send it) or an RFC 8941 sf-string (`"a1b2-c3"`, as the IETF draft specifies; `\"` and
 * `\\` escapes). Returns the key, or the {@link KeyProblem} to answer 400 with.
 *
 * @internal
 */
export function parseIdempotencyKey(raw: string, maxLength: number, tooLong: KeyProblem): string | KeyProblem {
  let start = 0;
  let end = raw.length;
  while (start < end && (raw.charCodeAt(start) === 0x20 || raw.charCodeAt(start) === 0x09)) start++;
  while (end > start && (raw.charCodeAt(end - 1) === 0x20 || raw.charCodeAt(end - 1) === 0x09)) end--;
  if (start === end) return EMPTY;
  if (raw.charCodeAt(start) !== 0x22 /* " */) {
    if (end - start > maxLength) return tooLong;
    for (let i = start; i < end; i++) {
      const c = raw.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) return BAD_CHAR;
    }
    return start === 0 && end === raw.length ? raw : raw.slice(start, end);
  }
  // An sf-string: printable ASCII (space allowed) between quotes, with \" and \\ escapes only.
  let key = '';
  let escaped = false;
  for (let i = start + 1; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return BAD_CHAR;
    if (escaped) {
      if (c !== 0x22 && c !== 0x5c) return BAD_QUOTED;
      key += raw[i];
      escaped = false;
    } else if (c === 0x5c /* \ */) {
      escaped = true;
    } else if (c === 0x22) {
      if (i !== end - 1) return BAD_QUOTED;
      if (key.length === 0) return EMPTY;
      return key.length > maxLength ? tooLong : key;
    } else {
      key += raw[i];
    }
    if (key.length > maxLength) return tooLong;
  }
  return BAD_QUOTED;
}
