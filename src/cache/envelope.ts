import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { unreadableEntry } from './cache-errors.js';
import type { CacheSerializer } from './cache-options.js';
import { cacheJsonSerializer } from './serializer.js';

/**
 * How an entry is stored in Redis: one string, so that a read is one `GET`. The string is a JSON
 * array, so that with the default JSON serializer a read costs one `JSON.parse` of the stored
 * text, about what `JSON.parse` of the bare value would cost (no header to scan, no slice):
 *
 * ```
 * [<kind>,<expiresAt>,<graceMs>,<ageUs>,<tags or 0>,<payload>]
 * ```
 *
 * - `kind` says how `payload` is written: `1` the value itself, inline (JSON serializer, not
 *   compressed); `2` a string from a custom serializer; `3` bytes from a custom serializer, base64;
 *   `4` deflated serializer text, base64; `5` deflated serializer bytes, base64. Kinds 4 and 5
 *   mark compressed payloads.
 * - `expiresAt` (epoch ms) ends freshness; grace ends at `expiresAt + graceMs`.
 * - the creation stamp (µs, see `stamp()`, compared with tag invalidation times) is
 *   `expiresAt * 1000 - ageUs`. Stored as deltas so that they parse as small integers (no heap
 *   number per field on every read).
 * - `tags` is an array of strings, or `0` when the entry has none.
 */
export type Envelope = [kind: number, expiresAt: number, graceMs: number, ageUs: number, tags: string[] | 0, value: unknown, size?: number];

/** Index of the fields of an {@link Envelope}. */
export const EXPIRES = 1;
export const GRACE = 2;
export const AGE = 3;
export const TAGS = 4;
export const VALUE = 5;
/** Set after decoding: the stored text's length, the entry's size for `l1.maxBytes`. */
export const SIZE = 6;

/** The creation stamp (µs) of a decoded entry. */
export function createdAtOf(envelope: Envelope): number {
  return envelope[EXPIRES] * 1000 - envelope[AGE];
}

/** The end of grace (epoch ms) of a decoded entry. */
export function staleUntilOf(envelope: Envelope): number {
  return envelope[EXPIRES] + envelope[GRACE];
}

/** How values are encoded: the `serializer` and `compressAbove` options. */
export interface EntryCodec {
  readonly serializer: CacheSerializer;
  /** Payloads longer than this are deflated (`Infinity`: never). */
  readonly compressAbove: number;
}

/** What an entry holds, as it is written. */
export interface EntryContent {
  value: unknown;
  /** Creation stamp, µs (see `stamp()`). */
  createdAt: number;
  /** End of freshness, epoch ms. */
  expiresAt: number;
  /** End of grace, epoch ms. */
  staleUntil: number;
  tags: readonly string[] | undefined;
}

/** The stored text, and the payload size used by `l1.maxBytes`. */
export interface Encoded {
  text: string;
  size: number;
}

/** `String.prototype.isWellFormed` (Node 20+), not yet in the ES2023 lib this package compiles against. */
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** Encodes an entry; throws whatever the serializer throws. */
export function encodeEnvelope(codec: EntryCodec, entry: EntryContent): Encoded {
  const { serializer, compressAbove } = codec;
  const { createdAt, expiresAt, staleUntil, tags } = entry;
  const data = serializer.serialize(entry.value);
  let kind: number;
  let payload: string;
  let size: number;
  if (typeof data === 'string') {
    size = data.length;
    // Deflate reads the text as UTF-8, which turns a lone surrogate (any string a custom serializer
    // may return) into U+FFFD: such text is stored as it is, where JSON escapes keep it exact.
    if (size > compressAbove && isWellFormed.call(data)) {
      kind = 4;
      payload = `"${deflateRawSync(data).toString('base64')}"`;
    } else if (serializer === cacheJsonSerializer) {
      kind = 1;
      payload = data;
    } else {
      kind = 2;
      payload = JSON.stringify(data);
    }
  } else if (data instanceof Uint8Array) {
    size = data.byteLength;
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (size > compressAbove) {
      kind = 5;
      payload = `"${deflateRawSync(bytes).toString('base64')}"`;
    } else {
      kind = 3;
      payload = `"${bytes.toString('base64')}"`;
    }
  } else {
    throw new TypeError('serializer.serialize must return a string or a Uint8Array');
  }
  const tagsJson = tags === undefined || tags.length === 0 ? '0' : JSON.stringify(tags);
  return { text: `[${kind},${expiresAt},${staleUntil - expiresAt},${expiresAt * 1000 - createdAt},${tagsJson},${payload}]`, size };
}

/**
 * Decodes a stored entry; throws `CACHE_ENTRY_UNREADABLE` for anything it cannot read (its
 * `cause` is the underlying error: JSON's, zlib's, or the serializer's).
 */
export function decodeEnvelope(serializer: CacheSerializer, text: string): Envelope {
  if (text.charCodeAt(0) !== 91) throw unreadableEntry('not an envelope');
  let envelope: Envelope;
  try {
    envelope = JSON.parse(text) as Envelope;
  } catch (error) {
    throw unreadableEntry('not JSON', error);
  }
  if (
    envelope.length !== 6 ||
    typeof envelope[EXPIRES] !== 'number' ||
    typeof envelope[GRACE] !== 'number' ||
    typeof envelope[AGE] !== 'number' ||
    (envelope[TAGS] !== 0 && !Array.isArray(envelope[TAGS]))
  ) {
    throw unreadableEntry('malformed envelope');
  }
  const kind = envelope[0];
  if (kind === 1) {
    if (serializer !== cacheJsonSerializer) throw unreadableEntry('inline JSON payload, but a custom serializer is configured');
    return envelope;
  }
  if (kind !== 2 && kind !== 3 && kind !== 4 && kind !== 5) throw unreadableEntry('unknown payload kind');
  const payload = envelope[VALUE];
  if (typeof payload !== 'string') throw unreadableEntry('malformed payload');
  try {
    envelope[VALUE] = decodePayload(serializer, kind, payload);
  } catch (error) {
    throw unreadableEntry(`payload of kind ${kind} could not be decoded`, error);
  }
  return envelope;
}

/** The value of a payload that is not inline JSON (kinds 2 to 5, see {@link Envelope}). */
function decodePayload(serializer: CacheSerializer, kind: 2 | 3 | 4 | 5, payload: string): unknown {
  switch (kind) {
    case 2:
      return serializer.deserialize(payload);
    case 3:
      return serializer.deserialize(new Uint8Array(Buffer.from(payload, 'base64')));
    case 4:
      return serializer.deserialize(inflateRawSync(Buffer.from(payload, 'base64')).toString('utf8'));
    case 5:
      return serializer.deserialize(new Uint8Array(inflateRawSync(Buffer.from(payload, 'base64'))));
  }
}
