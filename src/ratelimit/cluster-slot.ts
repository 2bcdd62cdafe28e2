/**
 * The Redis Cluster hash slot of a key (CRC16/XMODEM of the key, or of its hash tag, modulo
 * 16384), as the Cluster specification defines it. Used to split a `takeAll` into one script per
 * slot; computed only on that path.
 */

let table: Uint16Array | undefined;

function crcTable(): Uint16Array {
  const t = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[byte] = crc;
  }
  return t;
}

/** The part of `key` Redis hashes: the first non-empty `{...}`, else the whole key. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? key : key.slice(open + 1, close);
}

/**
 * The slot (0 to 16383) Redis Cluster stores `key` in.
 *
 * @internal
 */
export function clusterSlot(key: string): number {
  const t = (table ??= crcTable());
  const bytes = Buffer.from(hashedPart(key), 'utf8');
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) & 0xffff) ^ (t[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number);
  return crc & 0x3fff;
}
