/**
 * Properties of request fingerprints: two JSON payloads get the same fingerprint exactly when
 * they hold the same JSON value. How the value is written never matters (key order, whitespace,
 * how a number or a string is spelled: `1`, `1.0` and `1e0` are one number, `"\u00e9"` and `"é"`
 * one string); what it holds always does.
 *
 * "The same value" is JSON's data model as `JSON.parse` reads it: numbers are IEEE doubles (so
 * `-0` is `0`, as `JSON.stringify` and RFC 8785 write it, and digits beyond a double's precision
 * are not told apart, as I-JSON, RFC 7493, advises senders), strings are compared code unit by
 * code unit (no Unicode normalisation: precomposed `é` and `e` + combining accent differ), and
 * object members are unordered. Numbers here stay within a double's range: beyond it
 * `JSON.parse` reads `1e400` as Infinity, which a canonical writer can only write as `null`, so
 * `{"a":1e400}` and `{"a":null}` share a fingerprint today (a known gap, not covered here).
 *
 * Checked on the functions themselves and through the middleware: a retry with the same key and
 * the same value is replayed, one with another value is refused with 422, with the in-process
 * store and with Redis, on the fetch adapter and on Express over loopback.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toFetch } from '../../src/http/index.js';
import { canonicalJson, fingerprint, Idempotency, idempotencyMiddleware, MemoryIdempotencyStore, RedisIdempotencyStore } from '../../src/idempotency/index.js';
import { canonicalParsedJson, isCanonicalJsonBytes } from '../../src/idempotency/fingerprint.js';
import { startRedis, stopAllRedis, type RedisServer } from '../support/redis.js';
import { startPaymentApp, type PaymentApp } from './payment-apps.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An object with these own members, in this order (`__proto__` included, as JSON.parse makes it). */
function objectOf(members: readonly (readonly [string, Json])[]): { [key: string]: Json } {
  const o: { [key: string]: Json } = {};
  for (const [k, v] of members) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** JSON's notion of equal values (see the top of the file). */
function sameJson(a: Json, b: Json): boolean {
  if (a === null || typeof a !== 'object' || b === null || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]!));
  }
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k]!, b[k]!));
}

// Values drawn from a small universe, so that equal and nearly equal pairs are common.
const nearNumber = fc.constantFrom(0, -0, 1, -1, 1.5, 0.1, 0.3, 0.1 + 0.2, 1e21, 1e-7, 2 ** 53, 2 ** 53 + 2, 123456789.125);
const nearString = fc.constantFrom('', 'a', 'A', 'é', 'e\u0301', '\ud800', '\udc00', '😀', '"', '\\', '/', '\n', '\u2028', 'null', '1');
const nearKey = fc.constantFrom('a', 'b', 'A', 'é', '', '10', '9', '__proto__');
const { near } = fc.letrec<{ near: Json; array: Json[]; object: { [key: string]: Json } }>((tie) => ({
  near: fc.oneof({ depthSize: 'small' }, fc.constantFrom(null, true, false), nearNumber, nearString, tie('array'), tie('object')),
  array: fc.array(tie('near'), { maxLength: 3 }),
  object: fc.uniqueArray(fc.tuple(nearKey, tie('near')), { maxLength: 3, selector: ([k]) => k }).map(objectOf),
}));

/** Any JSON value, with strings of any UTF-16 (lone surrogates included). */
const anyJson = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }) as fc.Arbitrary<Json>;

/** Ways to write `n` in JSON that read back as `n`. */
function spellings(n: number): string[] {
  const out = new Set<string>([String(n), n.toPrecision(17)]);
  const exp = n.toExponential();
  out
    .add(exp)
    .add(exp.replace('e+', 'e'))
    .add(exp.toUpperCase())
    .add(exp.replace(/e([+-])(\d+)$/, 'e$1000$2'));
  if (Number.isInteger(n) && Math.abs(n) < 1e21) out.add(`${n}.0`).add(`${n}.000`).add(`${n}e0`).add(`${n}0e-1`);
  if (Object.is(n, -0)) out.add('-0').add('-0.0').add('-0e5');
  return [...out].filter((s) => {
    try {
      return JSON.parse(s) === n; // -0 === 0: one JSON number
    } catch {
      return false; // "00e-1": not JSON
    }
  });
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const hex = (unit: number, upper: boolean): string => {
  const h = unit.toString(16).padStart(4, '0');
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/**
 * Writes `value` as JSON text, choosing with `g` how: members in any order, any whitespace
 * between tokens, numbers in any spelling, characters raw or escaped.
 */
/** `fc.constantFrom` for strings (its catch-all overload would type the picked value `any`). */
const pickString: (...values: string[]) => fc.Arbitrary<string> = fc.constantFrom;

function render(value: Json, g: fc.GeneratorValue): string {
  const space = (): string => g(pickString, '', '', '', ' ', '\n', '\t', '\r\n  ');
  const str = (s: string): string => {
    let out = '"';
    for (const ch of s) {
      // By code point: a surrogate pair is written whole, raw or as two escapes.
      const units = [...Array(ch.length).keys()].map((i) => ch.charCodeAt(i));
      const lone = ch.length === 1 && units[0]! >= 0xd800 && units[0]! <= 0xdfff;
      const must = units[0]! < 0x20 || ch === '"' || ch === '\\' || lone;
      const how = g(fc.nat, 3);
      if (!must && how < 2) out += ch;
      else if (!must && how === 2 && ch === '/') out += '\\/';
      else if (SHORT_ESCAPES[ch] !== undefined && how !== 3) out += SHORT_ESCAPES[ch];
      else {
        const upper = g(fc.boolean);
        out += units.map((unit) => hex(unit, upper)).join('');
      }
    }
    return out + '"';
  };
  const write = (v: Json): string => {
    if (v === null || typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return g(pickString, ...spellings(v));
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${v.map((x) => space() + write(x) + space()).join(',')}]`;
    const keys = Object.keys(v);
    const order = keys.length < 2 ? keys : g(fc.shuffledSubarray, keys, { minLength: keys.length, maxLength: keys.length });
    return `{${order.map((k) => `${space()}${str(k)}${space()}:${space()}${write(v[k]!)}${space()}`).join(',')}}`;
  };
  return space() + write(value) + space();
}

/** The canonical text of JSON text, as the middleware computes it for a raw body. */
const canonicalOfText = (text: string): string => canonicalParsedJson(JSON.parse(text));

describe('canonical JSON and fingerprints (properties)', () => {
  it('never depends on key order, whitespace, or how numbers and strings are spelled', () => {
    fc.assert(
      fc.property(anyJson, fc.gen(), (value, g) => {
        const text = render(value, g);
        expect(canonicalOfText(text)).toBe(canonicalJson(value));
        expect(fingerprint(JSON.parse(text))).toBe(fingerprint(value));
      }),
      { numRuns: 150 },
    );
  });

  it('gives two values the same canonical text and fingerprint exactly when they are the same JSON value', () => {
    fc.assert(
      fc.property(near, near, (a, b) => {
        expect(canonicalJson(a) === canonicalJson(b), `${canonicalJson(a)} vs ${canonicalJson(b)}`).toBe(sameJson(a, b));
        // fingerprint() hashes a string as the payload's text (see the next test): compare values in an array.
        expect(fingerprint([a]) === fingerprint([b])).toBe(sameJson(a, b));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes a string as payload text, not as a JSON string value', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        expect(fingerprint(JSON.stringify(value))).toBe(fingerprint(Buffer.from(JSON.stringify(value))));
      }),
      { numRuns: 30 },
    );
  });

  it('writes text that reads back as the value it was made from', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        expect(sameJson(JSON.parse(canonicalJson(value)) as Json, value)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('only takes the no-parse shortcut for text that is already canonical', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, near), fc.gen(), (value, g) => {
        const text = g(fc.boolean) ? canonicalJson(value) : render(value, g);
        if (isCanonicalJsonBytes(Buffer.from(text))) expect(canonicalOfText(text)).toBe(text);
      }),
      { numRuns: 150 },
    );
  });
});

describe('the idempotency middleware fingerprints JSON bodies by value (properties)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(stopAllRedis);

  /** A fetch handler behind the middleware, with a store of `kind`; counts handler runs. */
  function fetchApp(kind: 'memory' | 'redis'): (key: string, body: string | Uint8Array) => Promise<Response> {
    const store = kind === 'memory' ? new MemoryIdempotencyStore() : new RedisIdempotencyStore(server.client(), { prefix: `fp-${Math.random()}:` });
    let runs = 0;
    const handler = toFetch(idempotencyMiddleware(new Idempotency({ store })), async () => new Response(JSON.stringify({ run: ++runs }), { status: 201 }));
    return (key, body) =>
      handler(
        new Request('http://local/payments', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body: typeof body === 'string' ? body : new Uint8Array(body),
        }),
      );
  }

  /** Sends `first`, then `second` with the same key: true when the second was a replay. */
  async function replayed<B>(send: (key: string, body: B) => Promise<Response>, key: string, first: B, second: B): Promise<boolean> {
    const a = await send(key, first);
    expect(a.status).toBe(201);
    const b = await send(key, second);
    expect([201, 422]).toContain(b.status);
    if (b.status === 201) expect(b.headers.get('idempotent-replayed')).toBe('true');
    return b.status === 201;
  }

  describe.each(['memory', 'redis'] as const)('on the fetch adapter, %s store', (kind) => {
    let n = 0;

    it('replays a retry that writes the same value differently', async () => {
      const send = fetchApp(kind);
      await fc.assert(
        fc.asyncProperty(anyJson, fc.gen(), async (value, g) => {
          expect(await replayed(send, `k${++n}`, render(value, g), render(value, g))).toBe(true);
        }),
        { numRuns: 30 },
      );
    });

    it('refuses a retry with another value, replays one with the same', async () => {
      const send = fetchApp(kind);
      await fc.assert(
        fc.asyncProperty(near, near, fc.gen(), async (a, b, g) => {
          expect(await replayed(send, `k${++n}`, render(a, g), render(b, g))).toBe(sameJson(a, b));
        }),
        { numRuns: 40 },
      );
    });

    it('tells apart bodies that are not UTF-8 (JSON text must be), byte for byte', async () => {
      // A client writing Latin-1: "José" and "Josè" differ in one byte, 0xE9 vs 0xE8.
      const send = fetchApp(kind);
      // Bytes that make valid UTF-8 (0xC3 0xA9 is é), invalid UTF-8, or both, so that pairs often collide.
      const byte = fc.constantFrom(0x41, 0x80, 0x81, 0xa9, 0xc3, 0xe8, 0xe9);
      const body = fc
        .array(byte, { minLength: 1, maxLength: 3 })
        .map((bytes) => Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('"}')]));
      await fc.assert(
        fc.asyncProperty(body, body, async (a, b) => {
          expect(await replayed(send, `k${++n}`, a, b)).toBe(a.equals(b));
        }),
        { numRuns: 30 },
      );
    });
  });

  describe('on Express over loopback (bodies parsed by express.json)', () => {
    let app: PaymentApp;
    beforeAll(async () => {
      app = await startPaymentApp('express', idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
      return () => app.close();
    });
    const send = (key: string, body: string): Promise<Response> =>
      fetch(`${app.url}/payments`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
    let n = 0;

    it('refuses a retry with another value, replays one with the same', async () => {
      await fc.assert(
        fc.asyncProperty(near, near, fc.gen(), async (a, b, g) => {
          // express.json takes objects and arrays only.
          const wrap = (v: Json): Json => objectOf([['v', v]]);
          expect(await replayed(send, `e${++n}`, render(wrap(a), g), render(wrap(b), g))).toBe(sameJson(a, b));
        }),
        { numRuns: 15 },
      );
    });
  });

  // The counterexample the byte-for-byte property found, on the adapters that hand the middleware
  // the raw body (Express's and Fastify's JSON parsers decode it, U+FFFD included, before we see it).
  describe.each(['node', 'koa', 'hono'] as const)('on %s over loopback', (kind) => {
    it('answers 422 when a Latin-1 client reuses a key for "José" and then "Josè"', async () => {
      const app = await startPaymentApp(kind, idempotencyMiddleware(new Idempotency({ store: new MemoryIdempotencyStore() })));
      try {
        const post = (name: number): Promise<Response> =>
          fetch(`${app.url}/payments`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'idempotency-key': 'latin-1' },
            body: Buffer.concat([Buffer.from('{"name":"Jos'), Buffer.from([name]), Buffer.from('"}')]),
          });
        expect((await post(0xe9)).status).toBe(201);
        expect((await post(0xe8)).status).toBe(422);
        expect((await post(0xe9)).headers.get('idempotent-replayed')).toBe('true');
        expect(app.runs).toBe(1);
      } finally {
        await app.close();
      }
    });
  });
});
