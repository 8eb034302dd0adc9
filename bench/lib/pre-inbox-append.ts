/**
 * The append script as it was before issue 15's inbox (commit 1a24d41, src/store/redis-scripts.ts),
 * frozen here as the baseline of bench/store-inbox.ts. Not used by Herald.
 */

/** Shared helpers: positions are `ms-seq` stream ids; ms fits a Lua double exactly. */
const HELPERS = `
local function pos(id)
  local i = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, i - 1)), tonumber(string.sub(id, i + 1))
end
local function idstr(ms, seq)
  return string.format('%.0f-%.0f', ms, seq)
end
local function before(a, b)
  local am, as = pos(a)
  local bm, bs = pos(b)
  return am < bm or (am == bm and as < bs)
end
-- Retention: drops entries through \`cut\` and remembers the newest dropped position, so a reader
-- before it knows it lost something.
local function drop(stream, meta, cut)
  local ms, seq = pos(cut)
  redis.call('XTRIM', stream, 'MINID', idstr(ms, seq + 1))
  local t = redis.call('HGET', meta, 'trimmed')
  if not t or before(t, cut) then redis.call('HSET', meta, 'trimmed', cut) end
end
-- Drops entries older than now - retms. Looks at the first entry (cheap) and searches backwards
-- only when it is too old: a reverse range that ends before the first entry scans a whole node.
local function trimAge(stream, meta, now, retms)
  if now - retms <= 0 then return end
  local oldest = idstr(now - retms, 0)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first > 0 and before(first[1][1], oldest) then
    drop(stream, meta, redis.call('XREVRANGE', stream, '(' .. oldest, '-', 'COUNT', 1)[1][1])
  end
end
-- Drops the oldest entries beyond maxlen (exactly: a replay never returns more than retention).
local function trimCount(stream, meta, maxlen)
  local excess = redis.call('XLEN', stream) - maxlen
  if excess > 0 then
    local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    drop(stream, meta, gone[#gone][1])
  end
end
`;

/**
 * Append. KEYS: stream, meta, idempotency key. ARGV: now, maxlen, retention ms, key ttl ms,
 * has idempotency key ('1'/'0'), store ('1'/'0': '0' = live only), json, device, expiresAt,
 * epoch (taken when this append creates the stream).
 * Returns {'dup', id, fields, epoch} for a known idempotency key, else {'new', id, prev, epoch}.
 *
 * The position is computed here, not by `XADD *`: from the caller's `now` like XADD's own rule
 * (now-0, or last-(seq+1) when the clock has not passed the last position), and against `last`
 * in the meta hash rather than the stream, because a live-only notification (ttlMs 0) takes a
 * position without being stored: it is never added to the stream, only `last` moves. Reading
 * `last` and adding in one script is what makes `prev` exact under concurrent appends.
 */
export const PRE_INBOX_APPEND_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- Age first, so an idempotency key finds only what retention still holds.
trimAge(KEYS[1], KEYS[2], now, retms)
if ARGV[5] == '1' then
  local known = redis.call('GET', KEYS[3])
  if known then
    local e = redis.call('XRANGE', KEYS[1], known, known)
    if #e > 0 then return {'dup', e[1][1], e[1][2], redis.call('HGET', KEYS[2], 'epoch') or ''} end
  end
end
local last = redis.call('HGET', KEYS[2], 'last')
local ms, seq = now, 0
if last then
  local lm, ls = pos(last)
  if lm >= now then ms, seq = lm, ls + 1 end
end
local id = idstr(ms, seq)
redis.call('HSET', KEYS[2], 'last', id)
redis.call('HSETNX', KEYS[2], 'first', id)
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[10])
if ARGV[6] == '1' then
  redis.call('XADD', KEYS[1], id, 'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last or '')
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], id, 'PX', ARGV[3]) end
  trimCount(KEYS[1], KEYS[2], maxlen)
end
-- Stream and meta expire together: entries never vanish without \`trimmed\` knowing, unless the
-- positions go with them (and a cursor then reads as from before this stream: lost).
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'new', id, last or '', redis.call('HGET', KEYS[2], 'epoch')}
`;
