import { createHash } from 'node:crypto';

/**
 * The Lua scripts of {@link RedisRateLimitStore}. Times are microseconds: `now` comes from the
 * server's `TIME` inside the script (Redis 5 and later replicate a script's effects, so a
 * non-deterministic read before a write is allowed, and replicas get the `SET`, not the script).
 * A key holds its TAT as a number and expires when its budget is whole again, so an idle key costs
 * nothing. Replies follow `StoreReply`: the debt after an allowed check, minus the wait of a
 * refused one (whole microseconds; the store turns them into milliseconds). A check is due when it
 * is at most 1 us early, as in the memory store.
 */

/** A script and its SHA1, for EVALSHA. @internal */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Independent checks, each of one key (all in one slot on a Cluster), one after another: a key
 * checked twice sees its first check's write. ARGV, four per key: interval, tolerance, cost,
 * commit ('1' takes; '0' answers as a peek: the debt now). One reply per key. A lone check is
 * this script with one key.
 */
export const CHECK: Script = script(`
local now = redis.call('TIME')
now = now[1] * 1000000 + now[2]
local replies = {}
for i = 1, #KEYS do
  local a = 4 * i
  local tat = tonumber(redis.call('GET', KEYS[i])) or now
  if tat < now then tat = now end
  local cost = tonumber(ARGV[a - 1])
  local debt = tat - now + cost * tonumber(ARGV[a - 3])
  local over = debt - tonumber(ARGV[a - 2])
  if over > 1 then
    replies[i] = -math.ceil(over)
  elseif ARGV[a] ~= '1' then
    replies[i] = math.ceil(tat - now)
  else
    if cost > 0 then redis.call('SET', KEYS[i], now + debt, 'PX', math.ceil(debt / 1000)) end
    replies[i] = math.ceil(debt)
  end
end
return replies
`);

/**
 * Several keys, all in one slot on a Cluster. ARGV: interval, tolerance, cost per key. Writes
 * only when every check is allowed; otherwise allowed checks answer as peeks (their own cost
 * taken back out of the debt).
 */
export const CHECK_ALL: Script = script(`
local now = redis.call('TIME')
now = now[1] * 1000000 + now[2]
local pending = {}
local replies = {}
local refused = false
for i = 1, #KEYS do
  local key = KEYS[i]
  local cost = tonumber(ARGV[3 * i])
  local tat = pending[key] or tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local debt = tat - now + cost * tonumber(ARGV[3 * i - 2])
  local over = debt - tonumber(ARGV[3 * i - 1])
  if over > 1 then
    refused = true
    replies[i] = -math.ceil(over)
  else
    if cost > 0 then pending[key] = now + debt end
    replies[i] = debt
  end
end
for i = 1, #KEYS do
  local reply = replies[i]
  if reply >= 0 then
    if refused then reply = math.max(0, reply - tonumber(ARGV[3 * i]) * tonumber(ARGV[3 * i - 2])) end
    replies[i] = math.ceil(reply)
  end
end
if not refused then
  for key, tat in pairs(pending) do redis.call('SET', key, tat, 'PX', math.ceil((tat - now) / 1000)) end
end
return replies
`);

/** Gives back ARGV[i] microseconds of debt to KEYS[i]; a key whose budget becomes whole is deleted. */
export const REFUND: Script = script(`
local now = redis.call('TIME')
now = now[1] * 1000000 + now[2]
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]))
  if tat then
    tat = tat - tonumber(ARGV[i])
    if tat > now then
      redis.call('SET', KEYS[i], tat, 'PX', math.ceil((tat - now) / 1000))
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
return #KEYS
`);
