import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from '../../src/idempotency/index.js';
import { canonicalParsedJson } from '../../src/idempotency/fingerprint.js';
import { KeyProblem, parseIdempotencyKey } from '../../src/idempotency/idempotency-key.js';

const TOO_LONG = new KeyProblem('too long');
const parse = (raw: string, max = 255): string | KeyProblem => parseIdempotencyKey(raw, max, TOO_LONG);

describe('parseIdempotencyKey', () => {
  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['  padded  ', 'padded'],
    ['"with space"', 'with space'],
    ['"esc\\"aped\\\\"', 'esc"aped\\'],
    ['a'.repeat(255), 'a'.repeat(255)],
  ])('reads %j as %j', (raw, key) => {
    expect(parse(raw)).toBe(key);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['""', /empty/],
    ['a'.repeat(256), /too long/],
    [`"${'a'.repeat(256)}"`, /too long/],
    ['bad\u0000key', /printable ASCII/],
    ['bad\u001fkey', /printable ASCII/],
    ['bad\u007fkey', /printable ASCII/],
    ['two words', /printable ASCII/],
    ['k1, k2', /printable ASCII/],
    ['ключ', /printable ASCII/],
    ['"tab\tinside"', /printable ASCII/],
    ['"unterminated', /malformed/],
    ['"a"b', /malformed/],
    ['"bad \\n escape"', /malformed/],
  ])('refuses %j', (raw, reason) => {
    const result = parse(raw);
    expect(result).toBeInstanceOf(KeyProblem);
    expect((result as KeyProblem).detail).toMatch(reason);
  });
});

describe('fingerprint', () => {
  it.each([
    '{"amount":1999,"currency":"eur","customer":"cus_42"}',
    '{ "b": 1, "a": { "d": [1, {"z": 0, "y": -0}], "c": "\\u0041" } }',
    '{"10":1,"2":2,"a":3}',
    '{"a":1e21,"b":1.50,"c":[],"d":{},"e":null,"f":true}',
    '[{"b":1,"a":2},{"a":1,"b":2}]',
    '"text"',
    '{"__proto__":1,"a":2}',
  ])('writes the same canonical text from already-sorted and unsorted parsed JSON: %s', (text) => {
    const value: unknown = JSON.parse(text);
    expect(canonicalParsedJson(value)).toBe(canonicalJson(value));
  });

  it('ignores key order at every depth', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], e: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    expect(fingerprint({ amount: 10, currency: 'eur', meta: { a: 1, b: 2 } })).toBe(
      fingerprint({ meta: { b: 2, a: 1 }, currency: 'eur', amount: 10 }),
    );
  });

  it('tells different payloads apart', () => {
    expect(fingerprint({ amount: 10 })).not.toBe(fingerprint({ amount: 11 }));
    expect(fingerprint([1, 2])).not.toBe(fingerprint([2, 1]));
  });

  it('hashes bytes and strings as bytes', () => {
    expect(fingerprint(new Uint8Array([1, 2, 3]))).toBe(fingerprint(Buffer.from([1, 2, 3])));
    expect(fingerprint('abc')).toBe(fingerprint(Buffer.from('abc')));
  });
});
