/**
 * The Lua behind {@link RedisStore}. Each script touches the keys of one stream only (a client's
 * `{client}` keys, or the broadcast stream's `{!broadcast}` keys), so it runs in one Redis Cluster
 * slot. Replies hold strings and numbers only ('' for none): a Lua nil or false would end a table
 * early, and converts differently under RESP2 and RESP3.
 *
 * Stream entry fields: `j` the notification's JSON, `d` device id ('' = every device), `x` expiry
 * in ms since the epoch ('' = retention only), `p` the previous position of the stream.
 * Meta hash fields: `epoch` (the stream's generation, set when the stream is created), `first`
 * (the first position handed out), `last` (the newest, live-only ones included), `trimmed` (the
 * newest position retention dropped).
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
export const APPEND_LUA = `${HELPERS}
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

/**
 * Replay of one stream. KEYS: stream, meta. ARGV: now, maxlen, retention ms, after ('' = from the
 * start), device ('' = no device filter), the epoch `after` belongs to, mode ('resume' or
 * 'pending'). Applies retention first, then returns {first, last, trimmed, epoch, id1, fields1,
 * id2, fields2, ...} with the entries after `after` that are for this device and not expired.
 * An `after` of another epoch is not a position here: a resume gets no entries (it starts at the
 * head), a pending read gets every entry (see store/streams.ts, which decides the same in JS).
 */
export const REPLAY_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
trimCount(KEYS[1], KEYS[2], maxlen)
trimAge(KEYS[1], KEYS[2], now, retms)
local meta = redis.call('HMGET', KEYS[2], 'first', 'last', 'trimmed', 'epoch')
local out = {meta[1] or '', meta[2] or '', meta[3] or '', meta[4] or ''}
local start = '-'
if ARGV[4] ~= '' then
  if ARGV[6] ~= (meta[4] or '') then
    if ARGV[7] ~= 'pending' then return out end
  else
    start = '(' .. ARGV[4]
  end
end
local device = ARGV[5]
for _, e in ipairs(redis.call('XRANGE', KEYS[1], start, '+')) do
  local f = e[2]
  local d, x = '', ''
  for i = 1, #f, 2 do
    if f[i] == 'd' then d = f[i + 1] elseif f[i] == 'x' then x = f[i + 1] end
  end
  if (d == '' or d == device) and (x == '' or tonumber(x) > now) then
    out[#out + 1] = e[1]
    out[#out + 1] = f
  end
end
return out
`;

/**
 * Saves a device's acknowledged cursor, never backwards within an epoch, and the client's newest
 * acknowledged position. KEYS: the client's cursor hash. ARGV: device field, c ('' = none),
 * b ('' = none), ttl ms; c and b as `<epoch>:<ms>-<seq>`. The hash holds `d:<device>` = `<c>,<b>`
 * and `acked` = `<c>`. A mark of another epoch than the saved one replaces it (positions of two
 * generations do not compare; the newer acknowledgement wins).
 */
export const SAVE_CURSOR_LUA = `${HELPERS}
local function split(m)
  local i = string.find(m, ':', 1, true)
  if not i then return '', m end
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
local function later(a, b)
  if a == '' then return b end
  if b == '' then return a end
  local ea, pa = split(a)
  local eb, pb = split(b)
  if ea ~= eb or before(pa, pb) then return b end
  return a
end
local old = redis.call('HGET', KEYS[1], ARGV[1])
local oc, ob = '', ''
if old then
  local i = string.find(old, ',', 1, true)
  oc, ob = string.sub(old, 1, i - 1), string.sub(old, i + 1)
end
redis.call('HSET', KEYS[1], ARGV[1], later(oc, ARGV[2]) .. ',' .. later(ob, ARGV[3]))
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'acked', later(redis.call('HGET', KEYS[1], 'acked') or '', ARGV[2]))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;
