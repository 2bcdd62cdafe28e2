/**
 * Properties of the stored entry format: whatever an entry holds (its value, times and tags),
 * encoding it and decoding the text gives it back, for every payload kind (inline JSON, custom
 * text, custom bytes, each compressed or not).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheJsonSerializer, type CacheSerializer } from '../../src/cache/index.js';
import { createdAtOf, decodeEnvelope, encodeEnvelope, EXPIRES, staleUntilOf, TAGS, VALUE } from '../../src/cache/envelope.js';

/** A custom serializer whose output is text: the value's JSON, reversed, so that it is not JSON. */
const textSerializer: CacheSerializer = {
  serialize: (value) => [...JSON.stringify(value)].reverse().join(''),
  deserialize: (data) => JSON.parse([...(data as string)].reverse().join('')) as unknown,
};
/** A custom serializer whose output is bytes (UTF-8 JSON, in a view that does not start at 0). */
const bytesSerializer: CacheSerializer = {
  serialize: (value) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    return padded.subarray(3);
  },
  deserialize: (data) => JSON.parse(Buffer.from(data as Uint8Array).toString('utf8')) as unknown,
};
/** A custom serializer that hands strings over as they are (any UTF-16, lone surrogates included). */
const rawStringSerializer: CacheSerializer = {
  serialize: (value) => value as string,
  deserialize: (data) => data,
};

const serializers = fc.constantFrom(
  { name: 'json', serializer: cacheJsonSerializer },
  { name: 'text', serializer: textSerializer },
  { name: 'bytes', serializer: bytesSerializer },
);

/** Realistic times: epoch ms around now, a creation stamp in µs before expiry, grace up to a day. */
const times = fc
  .record({
    expiresAt: fc.integer({ min: 1_600_000_000_000, max: 2_100_000_000_000 }),
    ageUs: fc.integer({ min: -5_000, max: 30 * 86_400_000_000 }),
    graceMs: fc.integer({ min: 0, max: 86_400_000 }),
  })
  .map(({ expiresAt, ageUs, graceMs }) => ({ expiresAt, createdAt: expiresAt * 1000 - ageUs, staleUntil: expiresAt + graceMs }));

const tags = fc.option(fc.array(fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }), { maxLength: 4 }), { nil: undefined });
/** Whether the payload is compressed: never, always, or above a size that values straddle. */
const compressAbove = fc.constantFrom(Infinity, 0, 40);

/** What JSON makes of a value (the cache documents that it stores plain data). */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

describe('cache entry envelope (properties)', () => {
  it('gives back every entry it encodes: value, creation stamp, expiry, grace and tags', () => {
    fc.assert(
      fc.property(serializers, compressAbove, fc.jsonValue(), times, tags, ({ serializer }, above, value, t, entryTags) => {
        const { text, size } = encodeEnvelope({ serializer, compressAbove: above }, { value, ...t, tags: entryTags });
        expect(size).toBeGreaterThan(0);
        const e = decodeEnvelope(serializer, text);
        expect(e[VALUE]).toEqual(asJson(value));
        expect(createdAtOf(e)).toBe(t.createdAt);
        expect(e[EXPIRES]).toBe(t.expiresAt);
        expect(staleUntilOf(e)).toBe(t.staleUntil);
        expect(e[TAGS]).toEqual(entryTags === undefined || entryTags.length === 0 ? 0 : entryTags);
      }),
      { numRuns: 200 },
    );
  });

  it('gives back any string a custom serializer writes, compressed or not', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: fc.constantFrom('\ud800', '\udc00', 'a', '"', '\\', '\u0000'), maxLength: 80 }),
    );
    fc.assert(
      fc.property(compressAbove, anyText, times, (above, value, t) => {
        const { text } = encodeEnvelope({ serializer: rawStringSerializer, compressAbove: above }, { value, ...t, tags: undefined });
        expect(decodeEnvelope(rawStringSerializer, text)[VALUE]).toBe(value);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses text that is not an envelope instead of returning something else', () => {
    const notEnvelope = fc.oneof(
      fc.string().filter((s) => !s.startsWith('[')),
      fc
        .jsonValue()
        .map((v) => JSON.stringify(v))
        .filter((s) => !s.startsWith('[')),
      fc
        .array(fc.jsonValue(), { maxLength: 8 })
        .filter((a) => a.length !== 6)
        .map((a) => JSON.stringify(a)),
      fc.tuple(fc.constantFrom(0, 6, 99, '1', null), fc.constant('"x"')).map(([kind, payload]) => `[${JSON.stringify(kind)},1,0,0,0,${payload}]`),
    );
    fc.assert(
      fc.property(notEnvelope, (text) => {
        expect(() => decodeEnvelope(textSerializer, text)).toThrow();
      }),
      { numRuns: 100 },
    );
  });
});
