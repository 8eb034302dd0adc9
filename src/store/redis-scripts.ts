/**
 * The Lua behind {@link RedisStore}. Each script touches the keys of one stream only (a client's
 * `{client}` keys, or the broadcast stream's `{!broadcast}` keys), so it runs in one Redis Cluster
 * slot. Replies hold strings and numbers only ('' for none): a Lua nil or false would end a table
 * early, and converts differently under RESP2 and RESP3.
 *
 * Keys of one stream: `s` the notifications, `e` the inbox events, `m` the meta hash, `x` the
 * inbox hash, `i:<key>` idempotency keys, `cur` the device cursors (client streams).
 *
 * Notification fields (`s`): `j` the notification's JSON (`{"id":…` first), `d` device id ('' =
 * every device), `x` expiry in ms since the epoch ('' = retention only), `p` the previous position
 * of the stream; only when given: `k` collapse key, `r` the id it replaced, `X` excluded devices
 * (comma-separated: ids cannot hold a comma).
 * Event fields (`e`): `t` kind (`state`, `update`, `delete`), `j` `{"id","ts","event"}`, `d` the
 * device of the item an update or delete is about ('' = every device), `p` the previous position.
 * Both share one position sequence (`last`): an event's `p` may be a notification and vice versa.
 * Meta hash fields: `epoch` (the stream's generation, set when the stream is created), `first`
 * (the first position handed out), `last` (the newest, live-only ones and events included),
 * `trimmed` (the newest position retention dropped, of either kind).
 * Inbox hash fields (`x`): `s:<id>` the client's state of its item `<seenAt>,<readAt>,<archivedAt>`
 * ('' = not), `b:<ms-seq>` its state of the broadcast at that position, `u:<id>` an updated item
 * `<version>|<content JSON>`, `g:<id>` '1' = deleted or replaced, `k:<collapse key>` `<ms-seq> <id>`
 * of the item holding it. Cursor hash (`cur`): `reg` = when the client registered (ms).
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
-- Retention: drops entries through \`cut\` (from \`also\` too: events before a dropped
-- notification), and remembers the newest dropped position, so a reader before it knows it lost
-- something.
local function drop(stream, meta, cut, also)
  local ms, seq = pos(cut)
  local minid = idstr(ms, seq + 1)
  redis.call('XTRIM', stream, 'MINID', minid)
  if also then redis.call('XTRIM', also, 'MINID', minid) end
  local t = redis.call('HGET', meta, 'trimmed')
  if not t or before(t, cut) then redis.call('HSET', meta, 'trimmed', cut) end
end
-- Drops entries older than now - retms. Looks at the first entry (cheap) and searches backwards
-- only when it is too old: a reverse range that ends before the first entry scans a whole node.
local function trimAge(stream, meta, now, retms, also)
  if now - retms <= 0 then return end
  local oldest = idstr(now - retms, 0)
  local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if #first > 0 and before(first[1][1], oldest) then
    drop(stream, meta, redis.call('XREVRANGE', stream, '(' .. oldest, '-', 'COUNT', 1)[1][1], also)
  end
end
-- Drops the oldest entries beyond maxlen (exactly: a replay never returns more than retention).
local function trimCount(stream, meta, maxlen, also)
  local excess = redis.call('XLEN', stream) - maxlen
  if excess > 0 then
    local gone = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess)
    drop(stream, meta, gone[#gone][1], also)
  end
end
-- Retention of both kinds: notifications by count and age (and the events before what they drop),
-- events by their own count and age.
local function trimAll(s, e, meta, now, maxlen, retms, maxevents)
  trimCount(s, meta, maxlen, e)
  trimAge(s, meta, now, retms, e)
  trimCount(e, meta, maxevents)
  trimAge(e, meta, now, retms)
end
-- The next position, like XADD * from the caller's \`now\` (now-0, or last-(seq+1) when the clock has
-- not passed the last position), against \`last\` in the meta hash: live-only notifications and
-- events take positions too. Returns it and the one before ('' at the stream's start).
local function nextPos(meta, now, epoch)
  local last = redis.call('HGET', meta, 'last')
  local ms, seq = now, 0
  if last then
    local lm, ls = pos(last)
    if lm >= now then ms, seq = lm, ls + 1 end
  end
  local id = idstr(ms, seq)
  redis.call('HSET', meta, 'last', id)
  redis.call('HSETNX', meta, 'first', id)
  redis.call('HSETNX', meta, 'epoch', epoch)
  return id, last or ''
end
-- The fields of a stream entry as a table.
local function fields(f)
  local t = {}
  for i = 1, #f, 2 do t[f[i]] = f[i + 1] end
  return t
end
-- A notification's id: its JSON starts with {"id":"<id>", and ids hold no quote or backslash.
local function entryId(j)
  return string.match(j, '^{"id":"(.-)",')
end
-- Appends an inbox event at the next position; returns it, the previous one and the epoch.
local function appendEvent(e, meta, now, epoch, kind, json, device)
  local id, prev = nextPos(meta, now, epoch)
  redis.call('XADD', e, id, 't', kind, 'j', json, 'd', device, 'p', prev)
  return id, prev, redis.call('HGET', meta, 'epoch')
end
-- Keys of a stream expire together: entries never vanish without \`trimmed\` knowing, unless the
-- positions go with them (and a cursor then reads as from before this stream: lost).
local function expireAll(ttl, ...)
  for _, k in ipairs({...}) do redis.call('PEXPIRE', k, ttl) end
end
`;

/**
 * Append. KEYS: stream, meta, idempotency key, events, inbox hash. ARGV: now, maxlen, retention ms,
 * key ttl ms, has idempotency key ('1'/'0'), store ('1'/'0': '0' = live only), json, device,
 * expiresAt, epoch (taken when this append creates the stream), id, collapse key ('' = none),
 * excluded devices ('' = none).
 * Returns {'dup', id, fields, epoch} for a known idempotency key, else {'new', id, prev, epoch,
 * replaced id ('' = none)}.
 *
 * The position comes from \`last\` in the meta hash rather than the stream, because a live-only
 * notification (ttlMs 0) takes a position without being stored: it is never added to the stream,
 * only \`last\` moves. Reading \`last\` and adding in one script is what makes \`prev\` exact under
 * concurrent appends. The inbox costs a plain publish nothing but two key names: the inbox hash is
 * touched only for a collapse key or a publisher-given id (whose old state, from an earlier item
 * with that id that retention dropped, is cleared).
 */
export const APPEND_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- Age first, so an idempotency key finds only what retention still holds.
trimAge(KEYS[1], KEYS[2], now, retms, KEYS[4])
if ARGV[5] == '1' then
  local known = redis.call('GET', KEYS[3])
  if known then
    local e = redis.call('XRANGE', KEYS[1], known, known)
    if #e > 0 then return {'dup', e[1][1], e[1][2], redis.call('HGET', KEYS[2], 'epoch') or ''} end
  end
end
local id, last = nextPos(KEYS[2], now, ARGV[10])
local replaced = ''
if ARGV[6] == '1' then
  local f = {'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last}
  if ARGV[5] == '1' then redis.call('HDEL', KEYS[5], 's:' .. ARGV[11], 'u:' .. ARGV[11], 'g:' .. ARGV[11]) end
  if ARGV[12] ~= '' then
    local ck = 'k:' .. ARGV[12]
    local holder = redis.call('HGET', KEYS[5], ck)
    if holder then
      local sp = string.find(holder, ' ', 1, true)
      local hpos, hid = string.sub(holder, 1, sp - 1), string.sub(holder, sp + 1)
      if redis.call('HEXISTS', KEYS[5], 'g:' .. hid) == 0 and #redis.call('XRANGE', KEYS[1], hpos, hpos) > 0 then
        replaced = hid
        redis.call('HSET', KEYS[5], 'g:' .. hid, '1')
      end
    end
    redis.call('HSET', KEYS[5], ck, id .. ' ' .. ARGV[11])
    redis.call('PEXPIRE', KEYS[5], ARGV[4])
    f[#f + 1] = 'k'
    f[#f + 1] = ARGV[12]
    if replaced ~= '' then
      f[#f + 1] = 'r'
      f[#f + 1] = replaced
    end
  end
  if ARGV[13] ~= '' then
    f[#f + 1] = 'X'
    f[#f + 1] = ARGV[13]
  end
  redis.call('XADD', KEYS[1], id, unpack(f))
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], id, 'PX', ARGV[3]) end
  trimCount(KEYS[1], KEYS[2], maxlen, KEYS[4])
end
expireAll(ARGV[4], KEYS[1], KEYS[2], KEYS[4], KEYS[5])
return {'new', id, last, redis.call('HGET', KEYS[2], 'epoch'), replaced}
`;

/**
 * Replay of one stream. KEYS: stream, events, meta, cursor hash (a client's; registration).
 * ARGV: now, maxlen, retention ms, after ('' = from the start), device ('' = no device filter),
 * the epoch \`after\` belongs to, mode ('resume' or 'pending'), max events, register ('1': record
 * \`now\` as the client's registration unless it has one), cursor ttl ms.
 * Applies retention first, then returns {first, last, trimmed, epoch, id1, fields1, id2, fields2, ...}
 * with the notifications and events after \`after\`, in position order, that are for this device
 * (not targeted at another, not excluding it) and not expired.
 * An \`after\` of another epoch is not a position here: a resume gets no entries (it starts at the
 * head), a pending read gets every entry (see store/streams.ts, which decides the same in JS).
 */
export const REPLAY_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if ARGV[9] == '1' then
  redis.call('HSETNX', KEYS[4], 'reg', ARGV[1])
  redis.call('PEXPIRE', KEYS[4], ARGV[10])
end
trimAll(KEYS[1], KEYS[2], KEYS[3], now, maxlen, retms, tonumber(ARGV[8]))
local meta = redis.call('HMGET', KEYS[3], 'first', 'last', 'trimmed', 'epoch')
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
local function wanted(f)
  local d, x, ex = '', '', nil
  for i = 1, #f, 2 do
    local k = f[i]
    if k == 'd' then d = f[i + 1] elseif k == 'x' then x = f[i + 1] elseif k == 'X' then ex = f[i + 1] end
  end
  if d ~= '' and d ~= device then return false end
  if x ~= '' and tonumber(x) <= now then return false end
  if ex and device ~= '' and string.find(',' .. ex .. ',', ',' .. device .. ',', 1, true) then return false end
  return true
end
local ns = redis.call('XRANGE', KEYS[1], start, '+')
local es = redis.call('XRANGE', KEYS[2], start, '+')
local i, j = 1, 1
while i <= #ns or j <= #es do
  local e
  if j > #es or (i <= #ns and before(ns[i][1], es[j][1])) then
    e = ns[i]
    i = i + 1
  else
    e = es[j]
    j = j + 1
  end
  if wanted(e[2]) then
    out[#out + 1] = e[1]
    out[#out + 1] = e[2]
  end
end
return out
`;

/**
 * Item states. KEYS: stream, events, meta, inbox hash, cursor hash. ARGV: now, maxlen, retention
 * ms, max events, key ttl ms, scope ('' = the backend view), mode ('ids' or 'all'), seen, read,
 * archived (each '1', '0' or '' = not given), epoch (if this creates the stream), the event JSON
 * before and after its \`ids\`/\`all\` member, the number of ids N, the N ids, then the live
 * broadcasts as pairs (position, id), oldest first (the store's broadcast cache: no script can read
 * the broadcast stream, which is in another slot).
 * Applies the change to every item the scope can list (mode 'all') or to the given ids among them;
 * appends one state event when something changed. Returns {updated, position, prev, epoch,
 * changed id 1, ...} (position '' when nothing changed).
 */
export const SET_STATE_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowstr, scope, all = ARGV[1], ARGV[6], ARGV[7] == 'all'
local seen, read, archived = ARGV[8], ARGV[9], ARGV[10]
trimAll(KEYS[1], KEYS[2], KEYS[3], now, maxlen, retms, tonumber(ARGV[4]))
local x = fields(redis.call('HGETALL', KEYS[4]))
local nids = tonumber(ARGV[14])
local want = {}
for k = 15, 14 + nids do want[ARGV[k]] = true end
-- The fields of the inbox hash each wanted item's state is kept in, by id.
local found = {}
local order = {}
local held = {}
local function add(id, field)
  if not found[id] then
    found[id] = {}
    order[#order + 1] = id
  end
  table.insert(found[id], field)
end
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do
  local f = fields(e[2])
  local id = entryId(f.j)
  held[id] = true
  if (f.x == '' or tonumber(f.x) > now) and (scope == '' or f.d == '' or f.d == scope) and not x['g:' .. id] and (all or want[id]) then
    add(id, 's:' .. id)
  end
end
local reg = tonumber(redis.call('HGET', KEYS[5], 'reg') or '')
local liveb = {}
for k = 15 + nids, #ARGV, 2 do
  local bpos, bid = ARGV[k], ARGV[k + 1]
  liveb[bpos] = true
  if reg and pos(bpos) >= reg and (all or want[bid]) then add(bid, 'b:' .. bpos) end
end
local ids = order
if not all then
  ids = {}
  local done = {}
  for k = 15, 14 + nids do
    local id = ARGV[k]
    if found[id] and not done[id] then
      done[id] = true
      ids[#ids + 1] = id
    end
  end
end
local updated = 0
local changed = {}
for _, id in ipairs(ids) do
  local any = false
  for _, field in ipairs(found[id]) do
    local old = x[field] or ',,'
    local c1 = string.find(old, ',', 1, true)
    local c2 = string.find(old, ',', c1 + 1, true)
    local s, r, a = string.sub(old, 1, c1 - 1), string.sub(old, c1 + 1, c2 - 1), string.sub(old, c2 + 1)
    if seen == '1' and s == '' then s = nowstr end
    if seen == '0' then s, r = '', '' end
    if read == '1' then
      if r == '' then r = nowstr end
      if s == '' then s = nowstr end
    end
    if read == '0' then r = '' end
    if archived == '1' and a == '' then a = nowstr end
    if archived == '0' then a = '' end
    local new = s .. ',' .. r .. ',' .. a
    if new ~= old then
      if new == ',,' then redis.call('HDEL', KEYS[4], field) else redis.call('HSET', KEYS[4], field, new) end
      x[field] = new
      updated = updated + 1
      any = true
    end
  end
  if any then changed[#changed + 1] = id end
end
-- Keep the inbox hash to what is still held: states of items and broadcasts retention dropped go
-- once it has grown well past what a full stream needs.
if redis.call('HLEN', KEYS[4]) > 2 * (maxlen + (#ARGV - 14 - nids) / 2) + 64 then
  for field, v in pairs(x) do
    local kind, rest = string.sub(field, 1, 1), string.sub(field, 3)
    if kind == 'b' then
      if not liveb[rest] then redis.call('HDEL', KEYS[4], field) end
    elseif kind == 'k' then
      local sp = string.find(v, ' ', 1, true)
      if not held[string.sub(v, sp + 1)] then redis.call('HDEL', KEYS[4], field) end
    elseif not held[rest] then
      redis.call('HDEL', KEYS[4], field)
    end
  end
end
if updated == 0 then return {0, '', '', ''} end
local member = '"all":true,'
if not all then member = '"ids":' .. cjson.encode(changed) .. ',' end
local id, prev, epoch = appendEvent(KEYS[2], KEYS[3], now, ARGV[11], 'state', ARGV[12] .. member .. ARGV[13], '')
trimCount(KEYS[2], KEYS[3], tonumber(ARGV[4]))
expireAll(ARGV[5], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local out = {updated, id, prev, epoch}
if not all then for _, c in ipairs(changed) do out[#out + 1] = c end end
return out
`;

/**
 * Update or delete of one item, found by the caller at a position (compare and set: the caller
 * read the item and built the new content). KEYS: stream, events, meta, inbox hash. ARGV: now,
 * maxlen, retention ms, max events, key ttl ms, mode ('update' or 'delete'), the item's position,
 * its id, the version the caller read (update), the new \`<version>|<content JSON>\` (update), the
 * event JSON, the item's device ('' = none), its collapse key ('' = none).
 * Returns {'ok', position, prev, epoch}, {'gone'} when the item is no longer listed (never was,
 * deleted, replaced, expired, dropped), {'conflict'} when another update came first (read again).
 */
export const ITEM_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local itempos, id = ARGV[7], ARGV[8]
trimAll(KEYS[1], KEYS[2], KEYS[3], now, maxlen, retms, tonumber(ARGV[4]))
local e = redis.call('XRANGE', KEYS[1], itempos, itempos)
if #e == 0 then return {'gone'} end
local f = fields(e[1][2])
if entryId(f.j) ~= id or (f.x ~= '' and tonumber(f.x) <= now) or redis.call('HEXISTS', KEYS[4], 'g:' .. id) == 1 then return {'gone'} end
if ARGV[6] == 'update' then
  local u = redis.call('HGET', KEYS[4], 'u:' .. id)
  local version = '1'
  if u then version = string.sub(u, 1, string.find(u, '|', 1, true) - 1) end
  if version ~= ARGV[9] then return {'conflict'} end
  redis.call('HSET', KEYS[4], 'u:' .. id, ARGV[10])
else
  redis.call('HSET', KEYS[4], 'g:' .. id, '1')
  redis.call('HDEL', KEYS[4], 'u:' .. id, 's:' .. id)
  if ARGV[13] ~= '' then
    local holder = redis.call('HGET', KEYS[4], 'k:' .. ARGV[13])
    if holder and holder == itempos .. ' ' .. id then redis.call('HDEL', KEYS[4], 'k:' .. ARGV[13]) end
  end
end
local at, prev, epoch = appendEvent(KEYS[2], KEYS[3], now, '', ARGV[6], ARGV[11], ARGV[12])
trimCount(KEYS[2], KEYS[3], tonumber(ARGV[4]))
expireAll(ARGV[5], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return {'ok', at, prev, epoch}
`;

/**
 * What changed in the broadcast stream since a node's cache of it (read only). KEYS: stream,
 * meta, inbox hash. ARGV: the cached epoch and last position ('' = nothing cached).
 * Returns {epoch, last, trimmed} when nothing changed, else {epoch, last, trimmed, full ('1': the
 * whole stream follows; '0': what follows the cached last), n, id1, fields1, ..., then the inbox
 * hash's \`u:\` and \`g:\` fields as name, value pairs}. Every change of an item appends an event or
 * a notification, so \`last\` tells whether anything changed.
 */
export const BROADCAST_SYNC_LUA = `
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'last', 'trimmed')
local epoch, last, trimmed = meta[1] or '', meta[2] or '', meta[3] or ''
if epoch == ARGV[1] and last == ARGV[2] then return {epoch, last, trimmed} end
local full = epoch ~= ARGV[1] or ARGV[2] == ''
local start = '-'
if not full then start = '(' .. ARGV[2] end
local entries = redis.call('XRANGE', KEYS[1], start, '+')
local out = {epoch, last, trimmed, full and '1' or '0', #entries}
for _, e in ipairs(entries) do
  out[#out + 1] = e[1]
  out[#out + 1] = e[2]
end
local x = redis.call('HGETALL', KEYS[3])
for i = 1, #x, 2 do
  local k = string.sub(x[i], 1, 2)
  if k == 'u:' or k == 'g:' then
    out[#out + 1] = x[i]
    out[#out + 1] = x[i + 1]
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
