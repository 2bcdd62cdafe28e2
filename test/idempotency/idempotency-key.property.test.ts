/**
 * The `Idempotency-Key` header parser against the grammar of an RFC 9651 (formerly 8941)
 * structured-field String, the form the IETF draft gives the header:
 *
 *   sf-string = DQUOTE *( unescaped / "%" / escaped ) DQUOTE      (in effect:)
 *   chars     = %x20-21 / %x23-5B / %x5D-7E                       any printable ASCII but " and \
 *   escaped   = "\" ( DQUOTE / "\" )
 *
 * plus what the middleware documents on top of it: surrounding spaces and tabs are ignored (HTTP
 * strips them from field values); an empty key is refused; a key longer than `maxKeyLength`
 * characters (counted after unescaping) is refused; nothing may follow the closing quote, so
 * parameters (`"k";a=1`) and lists (`"a", "b"`, which is also how two header lines arrive) are
 * refused; and a value that does not start with a quote is read as a bare key of visible ASCII,
 * as Stripe clients send it (`a1b2-c3`, `'foo'`), where the structured-field grammar would only
 * take a Token.
 *
 * The HTTP working group's structured-field test corpus covers this ground in string.json and
 * string-generated.json (every ASCII character raw and escaped inside a string, empty, long,
 * whitespace-only, non-ASCII, tab, newline, single quotes, unbalanced, bad and trailing escapes,
 * two field lines) and key-generated.json (parameter and dictionary keys). This project commits
 * no code or data taken from other projects, so the corpus is not vendored: every one of those
 * categories is covered below, by properties generated from the grammar above and by cases
 * written here, with the whole ASCII range enumerated rather than sampled.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toFetch } from '../../src/http/index.js';
import { Idempotency, idempotencyMiddleware, MemoryIdempotencyStore } from '../../src/idempotency/index.js';
import { KeyProblem, parseIdempotencyKey } from '../../src/idempotency/idempotency-key.js';

const MAX = 40;
const TOO_LONG = new KeyProblem('too long');
const parse = (raw: string, max = MAX): string | KeyProblem => parseIdempotencyKey(raw, max, TOO_LONG);

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));
/** Characters a String holds as they are. */
const PLAIN = range(0x20, 0x7e).filter((c) => c !== '"' && c !== '\\');
/** What surrounds a field value and is ignored. */
const OWS = fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 3 });

/** Writes `key` as a String: quotes around, `"` and `\` escaped. */
const quote = (key: string): string => `"${key.replace(/["\\]/g, (c) => `\\${c}`)}"`;

/** Any String value: printable ASCII, quotes and backslashes included, of any length up to 2 * MAX. */
const stringValue = fc.string({ unit: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...PLAIN) }, fc.constantFrom('"', '\\')), maxLength: 2 * MAX });

/** Characters a String may never hold raw: controls, DEL, and anything beyond ASCII. */
const forbidden = fc.oneof(
  fc.constantFrom(...range(0x00, 0x1f), '\u007f'),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).filter((c) => c.charCodeAt(0) > 0x7e),
);

function refused(raw: string, max = MAX): void {
  expect(parse(raw, max), `accepted ${JSON.stringify(raw)}`).toBeInstanceOf(KeyProblem);
}

describe('parseIdempotencyKey as an RFC 9651 String (properties)', () => {
  it('reads every valid String exactly, escapes of " and \\ included, whatever spaces surround it', () => {
    fc.assert(
      fc.property(OWS, stringValue, OWS, (before, key, after) => {
        const result = parse(before + quote(key) + after);
        if (key.length === 0) expect((result as KeyProblem).detail).toMatch(/empty/);
        else if (key.length > MAX) expect(result).toBe(TOO_LONG);
        else expect(result).toBe(key);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a String holding a control character, DEL or anything beyond ASCII', () => {
    fc.assert(
      fc.property(stringValue, fc.nat(), forbidden, (key, at, bad) => {
        const body = quote(key).slice(1, -1);
        const i = at % (body.length + 1);
        refused(`"${body.slice(0, i)}${bad}${body.slice(i)}"`);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses an escape of anything but " and \\', () => {
    const notEscapable = fc.oneof(fc.constantFrom(...PLAIN), forbidden);
    fc.assert(
      fc.property(stringValue, stringValue, notEscapable, (head, tail, c) => {
        refused(`"${quote(head).slice(1, -1)}\\${c}${quote(tail).slice(1, -1)}"`);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a String without its closing quote, or ending in a lone backslash', () => {
    fc.assert(
      fc.property(OWS, stringValue, fc.constantFrom('', '\\', '\\"'), (before, key, end) => {
        refused(before + quote(key).slice(0, -1) + end);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses anything after the closing quote: parameters, a list, another String, any text', () => {
    const param = fc.tuple(
      fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz*'),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-.*'), maxLength: 6 }),
      fc.constantFrom('', '=1', '=?0', '=?1', '=tok', '="v"', '=:cHJldGVuZA==:', '=1.5'),
    );
    const trailing = fc.oneof(
      fc.array(param, { minLength: 1, maxLength: 3 }).map((ps) => ps.map(([a, b, v]) => `;${a}${b}${v}`).join('')),
      fc.tuple(OWS, stringValue).map(([s, k]) => `,${s}${quote(k)}`),
      stringValue.map(quote),
      fc.string({ minLength: 1, maxLength: 8 }).filter((s) => /[^ \t]/.test(s)),
    );
    fc.assert(
      fc.property(
        stringValue.filter((k) => k.length > 0 && k.length <= MAX),
        OWS,
        trailing,
        (key, space, rest) => {
          refused(quote(key) + space + rest);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads a bare key of visible ASCII as it is, and refuses one with a space, control or non-ASCII character', () => {
    const visible = fc.constantFrom(...range(0x21, 0x7e));
    const bare = fc
      .tuple(
        visible.filter((c) => c !== '"'),
        fc.string({ unit: visible, maxLength: MAX - 1 }),
      )
      .map(([first, rest]) => first + rest);
    fc.assert(
      fc.property(OWS, bare, OWS, (before, key, after) => {
        expect(parse(before + key + after)).toBe(key);
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(bare, fc.nat(), fc.oneof(forbidden, fc.constantFrom(' ', '\t')), (key, at, bad) => {
        const i = 1 + (at % key.length);
        fc.pre(i < key.length || (bad !== ' ' && bad !== '\t')); // trailing spaces are trimmed
        refused(key.slice(0, i) + bad + key.slice(i));
      }),
      { numRuns: 150 },
    );
  });

  it('counts maxKeyLength in characters of the key, after unescaping', () => {
    fc.assert(
      fc.property(
        stringValue.filter((k) => k.length > 0),
        fc.integer({ min: 1, max: 2 * MAX }),
        (key, max) => {
          expect(parse(quote(key), max)).toBe(key.length <= max ? key : TOO_LONG);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('answers every input with a key of printable ASCII or a refusal, and never throws', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', 'a', ' ', '\t', ';', ',', '\u0000', 'é') })), (raw) => {
        const result = parse(raw);
        if (typeof result === 'string') {
          expect(result.length).toBeGreaterThan(0);
          expect(result.length).toBeLessThanOrEqual(MAX);
          expect(result).toMatch(/^[\x20-\x7e]+$/);
        } else {
          expect(result).toBeInstanceOf(KeyProblem);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseIdempotencyKey, every ASCII character and every corpus category, case by case', () => {
  const allowed = new Set(PLAIN);

  it.each(range(0x00, 0x7f).map((c) => [c.charCodeAt(0).toString(16).padStart(2, '0'), c] as const))(
    'reads 0x%s inside a String only where the grammar allows it',
    (_, c) => {
      const raw = `" ${c} "`;
      if (allowed.has(c)) expect(parse(raw)).toBe(` ${c} `);
      else refused(raw);
    },
  );

  it.each(range(0x00, 0x7f).map((c) => [c.charCodeAt(0).toString(16).padStart(2, '0'), c] as const))('reads 0x%s escaped only when it is " or \\', (_, c) => {
    const raw = `"\\${c}"`;
    if (c === '"' || c === '\\') expect(parse(raw)).toBe(c);
    else refused(raw);
  });

  it.each([
    ['a plain String', '"order 42"', 'order 42'],
    ['a String of spaces only', '"   "', '   '],
    ['a String as long as allowed', quote('x'.repeat(MAX)), 'x'.repeat(MAX)],
    ['escaped quotes and backslash', '"say \\"hi\\" \\\\ bye"', 'say "hi" \\ bye'],
    ['spaces around the String', '  "k"  ', 'k'],
    ['two header lines joined inside one String', '"first, second"', 'first, second'],
    ['single quotes, read as a bare key', "'k'", "'k'"],
    ['a bare key with a leading digit, which a Token may not have', '1abc', '1abc'],
  ])('reads %s', (_, raw, key) => {
    expect(parse(raw)).toBe(key);
  });

  it.each([
    ['an empty String', '""', /empty/],
    ['a String one character too long', quote('x'.repeat(MAX + 1)), /too long/],
    ['a String with an accented letter', '"caf\u00e9"', /printable ASCII/],
    ['a String with a tab', '"a\tb"', /printable ASCII/],
    ['a String with a line feed', '"a\nb"', /printable ASCII/],
    ['a String with no closing quote', '"order 42', /malformed/],
    ['a String whose closing quote is escaped', '"order 42\\"', /malformed/],
    ['a String cut after a backslash', '"order 42\\', /malformed/],
    ['an escaped comma', '"a\\,b"', /malformed/],
    ['a String with a parameter', '"k";a=1', /malformed/],
    ['a String with a boolean parameter', '"k";a', /malformed/],
    ['two Strings, as two header lines arrive', '"a", "b"', /malformed/],
    ['two bare keys, as two header lines arrive', 'a, b', /printable ASCII/],
    ['a quote alone', '"', /malformed/],
  ])('refuses %s', (_, raw, reason) => {
    const result = parse(raw);
    expect(result).toBeInstanceOf(KeyProblem);
    expect((result as KeyProblem).detail).toMatch(reason);
  });
});

describe('the middleware reads the header with this parser (properties)', () => {
  let runs = 0;
  const handler = toFetch(
    idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })),
    async () => new Response(String(++runs), { status: 201 }),
  );
  const post = (key: string): Promise<Response> =>
    handler(new Request('http://local/payments', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: '{}' }));
  let n = 0;

  it('treats a key sent bare and the same key sent as a String as one key', async () => {
    // Both spellings name the key: the second request is the first one's retry.
    const key = fc.string({ unit: fc.constantFrom(...range(0x21, 0x7e)), minLength: 1, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(key, fc.boolean(), async (k, quotedFirst) => {
        const unique = `${++n}-${k}`;
        const [first, second] = quotedFirst ? [quote(unique), unique] : [unique, quote(unique)];
        expect((await post(first)).status).toBe(201);
        const retry = await post(second);
        expect(retry.status).toBe(201);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
      }),
      { numRuns: 30 },
    );
  });

  it('answers 400 IDEMPOTENCY_KEY_INVALID problem+json for every malformed String', async () => {
    const malformed = fc.oneof(
      stringValue.map((k) => quote(k).slice(0, -1)),
      fc.tuple(stringValue, fc.constantFrom('a', ',', 'n', ' ')).map(([k, c]) => `"${quote(k).slice(1, -1)}\\${c}"`),
      fc
        .tuple(
          stringValue.filter((k) => k.length > 0 && k.length <= MAX),
          fc.constantFrom(';a=1', ', "b"', 'x'),
        )
        .map(([k, t]) => quote(k) + t),
    );
    await fc.assert(
      fc.asyncProperty(malformed, async (raw) => {
        const res = await post(raw);
        expect(res.status).toBe(400);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(((await res.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_INVALID');
      }),
      { numRuns: 30 },
    );
  });
});
