import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from '../../src/idempotency/index.js';
import { canonicalParsedJson, isCanonicalJsonBytes } from '../../src/idempotency/fingerprint.js';
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
    expect(fingerprint({ amount: 10, currency: 'eur', meta: { a: 1, b: 2 } })).toBe(fingerprint({ meta: { b: 2, a: 1 }, currency: 'eur', amount: 10 }));
  });

  it('tells different payloads apart', () => {
    expect(fingerprint({ amount: 10 })).not.toBe(fingerprint({ amount: 11 }));
    expect(fingerprint([1, 2])).not.toBe(fingerprint([2, 1]));
  });

  it('hashes bytes and strings as bytes', () => {
    expect(fingerprint(new Uint8Array([1, 2, 3]))).toBe(fingerprint(Buffer.from([1, 2, 3])));
    expect(fingerprint('abc')).toBe(fingerprint(Buffer.from('abc')));
  });

  describe('canonical bytes check', () => {
    const canonicalOf = (text: string): string | undefined => {
      try {
        return canonicalParsedJson(JSON.parse(text));
      } catch {
        return undefined;
      }
    };

    it.each([
      '{"amount":1999,"currency":"eur","customer":"cus_42","description":"order #1001"}',
      '{"a":[1,-2,{"b":null,"c":true,"d":false}],"e":{},"f":[]}',
      '"text"',
      '123',
      '{"10":1,"9":2}',
      '{"A":1,"a":2,"aa":3}',
    ])('accepts text that is already canonical: %s', (text) => {
      expect(isCanonicalJsonBytes(Buffer.from(text))).toBe(true);
      expect(canonicalOf(text)).toBe(text);
    });

    it.each([
      '{"b":1,"a":2}',
      '{"a":1,"a":2}',
      '{ "a":1}',
      '{"a":1.5}',
      '{"a":1e3}',
      '{"a":-0}',
      '{"a":0123}',
      '{"a":1234567890123456789}',
      '{"a":"\\u0041"}',
      '{"a":"é"}',
      '{"a":1,}',
      '[1,2',
      '{"a":tru}',
      '',
      '1 ',
    ])('declines text that is not known to be canonical: %s', (text) => {
      expect(isCanonicalJsonBytes(Buffer.from(text))).toBe(false);
    });

    it('never accepts text whose canonical form differs from it (random corpus)', () => {
      let seed = 42;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const atoms = ['0', '7', '-3', '10', '1.5', '1e2', '-0', 'true', 'false', 'null', '"x"', '"a b"', '"\\n"', '"é"', '99999999999999999'];
      const keys = ['a', 'b', 'B', '10', '9', 'aa', '_', '__proto__'];
      const value = (depth: number): string => {
        const kind = depth > 3 ? 0 : random(4);
        if (kind === 0 || kind === 1) return atoms[random(atoms.length)]!;
        if (kind === 2) return '[' + Array.from({ length: random(4) }, () => value(depth + 1)).join(random(10) === 0 ? ', ' : ',') + ']';
        const picked = Array.from({ length: random(4) }, () => keys[random(keys.length)]!);
        if (random(2) === 0) picked.sort();
        return '{' + picked.map((k) => JSON.stringify(k) + (random(12) === 0 ? ': ' : ':') + value(depth + 1)).join(',') + '}';
      };
      let accepted = 0;
      for (let i = 0; i < 5000; i++) {
        const text = value(0);
        if (isCanonicalJsonBytes(Buffer.from(text))) {
          accepted++;
          expect(canonicalOf(text)).toBe(text);
        }
      }
      expect(accepted).toBeGreaterThan(100);
    });
  });
});
