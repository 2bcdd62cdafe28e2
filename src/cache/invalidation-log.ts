import { createHash } from 'node:crypto';
import { unreadableBus } from './cache-errors.js';
import type { CacheRedis } from './cache-options.js';

/**
 * The catch-up log of the invalidation bus, as it lives in Redis: a capped stream (one key, so
 * one slot on a Cluster) whose entry ids are a gap-free sequence `0-1`, `0-2`, ... Each
 * invalidation is appended and published by one script, so the append costs no round trip of
 * its own, and every published message carries its sequence number (`"q"`): a receiver that
 * sees a number jump knows it missed something and reads the log from where it stopped.
 *
 * The ids are not times: a sequence with no holes is what lets a reader prove it missed nothing
 * (a trimmed or lost entry shows as a missing number).
 */

/** One entry read back from the log. */
export interface LogEntry {
  /** Its sequence number. */
  seq: number;
  /** The message as published, without its sequence number (a JSON object). */
  text: string;
}

/** What one read of the log returns. */
export interface LogPage {
  /** The sequence number of the last entry appended (0 for an empty or missing log). */
  top: number;
  /** Entries from the one asked for, in order (fewer when the log was trimmed past it). */
  entries: LogEntry[];
}

// The last sequence number: the id of the newest entry. Ids are only ever `0-<n>`.
const TOP = `local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local top = 0
if newest then top = tonumber(string.match(newest[1], '%d+$')) end
`;

/**
 * KEYS[1] log; ARGV[1] channel, ARGV[2] message (a JSON object), ARGV[3] entries kept.
 * Appends the message under the next number and publishes it with `"q":<n>` spliced in first.
 */
const APPEND = `${TOP}local seq = top + 1
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '0-' .. seq, 'm', ARGV[2])
redis.call('PUBLISH', ARGV[1], '{"q":' .. seq .. ',' .. string.sub(ARGV[2], 2))
return seq`;

/** KEYS[1] log; ARGV[1] channel, ARGV[2] pulse number. Publishes `<pulse>:<top>`. */
const PULSE = `${TOP}redis.call('PUBLISH', ARGV[1], ARGV[2] .. ':' .. top)
return top`;

/** KEYS[1] log; ARGV[1] first sequence number wanted, ARGV[2] most entries. */
const READ = `${TOP}return { top, redis.call('XRANGE', KEYS[1], '0-' .. ARGV[1], '+', 'COUNT', ARGV[2]) }`;

/** A Lua script sent by hash, and in full only when the server does not know it yet. */
class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** One command: `EVALSHA`, then `EVAL` if (and only if) the server answered `NOSCRIPT`. */
  run(client: CacheRedis, key: string, args: Array<string | number>): Promise<unknown> {
    return client.evalsha(this.sha, 1, key, ...args).catch((error: unknown) => {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, 1, key, ...args);
    });
  }
}

const appendScript = new LuaScript(APPEND);
const pulseScript = new LuaScript(PULSE);
const readScript = new LuaScript(READ);

/** The Redis key of the log of the caches using `prefix` (a hash tag: one slot). */
export function logKey(prefix: string): string {
  return `{${prefix}}bus-log`;
}

/** The Redis side of the catch-up log. Calls are unbounded here: callers bound them. */
export class InvalidationLog {
  readonly key: string;

  constructor(
    private readonly client: CacheRedis,
    prefix: string,
    /** Entries kept (`MAXLEN ~`, so Redis may keep up to one stream node more). */
    private readonly maxEntries: number,
  ) {
    this.key = logKey(prefix);
  }

  /** Appends `text` (a JSON object) and publishes it on `channel`; resolves with its number. */
  append(channel: string, text: string): Promise<unknown> {
    return appendScript.run(this.client, this.key, [channel, text, this.maxEntries]);
  }

  /** Publishes `<pulse>:<top>` on `channel` (the heartbeat, see bus-pulse.ts). */
  pulse(channel: string, pulse: number): Promise<unknown> {
    return pulseScript.run(this.client, this.key, [channel, pulse]);
  }

  /** Reads up to `count` entries from number `from` (inclusive), and the top. */
  async read(from: number, count: number): Promise<LogPage> {
    return parsePage(await readScript.run(this.client, this.key, [from, count]));
  }
}

/** Parses `{ top, [[id, [field, value, ...]], ...] }` as the read script returns it. */
function parsePage(reply: unknown): LogPage {
  if (!Array.isArray(reply)) throw unreadableBus('unexpected reply to the bus log read');
  const top = Number(reply[0]);
  const rows: unknown = reply[1];
  const entries: LogEntry[] = [];
  if (Array.isArray(rows)) {
    for (const row of rows) {
      if (!Array.isArray(row)) continue;
      const id = String(row[0]);
      const fields: unknown = row[1];
      const seq = Number(id.slice(id.indexOf('-') + 1));
      let text: string | undefined;
      if (Array.isArray(fields)) {
        for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === 'm') text = String(fields[i + 1]);
      }
      if (Number.isSafeInteger(seq) && text !== undefined) entries.push({ seq, text });
    }
  }
  if (!Number.isSafeInteger(top)) throw unreadableBus('unexpected top in the bus log read');
  return { top, entries };
}
