/**
 * The Lua behind {@link RedisStore}. Each script touches the keys of one stream only (a client's
 * `{client}` keys, or the broadcast stream's `{!broadcast}` keys), so it runs in one Redis Cluster
 * slot. Replies hold strings and numbers only ('' for none): a Lua nil or false would end a table
 * early, and converts differently under RESP2 and RESP3.
 *
 * Keys of one stream: `s` the notifications, `e` the inbox events, `m` the meta hash, `x` the
 * inbox hash, `i:<key>` idempotency keys, `cur` the device cursors (client streams), and the inbox
 * index `n`, `q`, `t`, `c` (below).
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
 * `trimmed` (the newest position retention dropped, of either kind), `oldest` (the oldest
 * notification held).
 * Inbox hash fields (`x`): `s:<id>` the client's state of its item `<seenAt>,<readAt>,<archivedAt>`
 * ('' = not), `b:<ms-seq>` its state of the broadcast at that position, `u:<id>` an updated item
 * `<version>|<content JSON>`, `g:<id>` = `<ms-seq>` of a deleted or replaced item, `k:<collapse
 * key>` = `<ms-seq> <id>` of the item holding it. Cursor hash (`cur`): `reg` = when the client
 * registered (ms).
 *
 * The inbox index is kept by the inbox scripts, never by appends (which cost what they cost before
 * the inbox): each inbox script first takes in what was appended since `ix` and lets go of what
 * retention dropped or what expired (catchUp), so the index holds exactly the client's items, and
 * counts are counters, not scans:
 * - `n` hash `<id>` = `<ms-seq> <device> <expiresAt>` for every item (held, not expired, not
 *   deleted or replaced);
 * - `q` list of `<ms-seq> <id>` in position order: what retention dropped leaves from its front;
 * - `t` sorted set of the items with an expiry, by it;
 * - `c` hash of counts per device bucket ('' = client-wide items): `u:<device>` items not seen and
 *   `r:<device>` not read, of those not archived; and `ix` = `<epoch>:<ms-seq>`, the newest
 *   notification the index has taken (the index keys expire together, the mark with them). A broadcast's share is counted when read (the
 *   live broadcasts come from the caller: no script reads another slot).
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
-- Raises \`trimmed\` (its value \`t\`, read by the caller) to \`cut\`, never lowers it: a reader before it
-- has lost something. Returns the new value.
local function trimmedTo(meta, t, cut)
  if t and not before(t, cut) then return t end
  redis.call('HSET', meta, 'trimmed', cut)
  return cut
end
-- Drops the notifications XRANGE gave; \`nxt\` is the oldest one left (nil: none). Keeps \`trimmed\`
-- and \`oldest\` in the meta hash; returns \`trimmed\`.
local function dropNotifications(stream, meta, gone, t, nxt)
  if #gone == 0 then return t end
  local cut = gone[#gone][1]
  local ms, seq = pos(cut)
  redis.call('XTRIM', stream, 'MINID', idstr(ms, seq + 1))
  local h = {}
  if not t or before(t, cut) then
    h[1], h[2] = 'trimmed', cut
    t = cut
  end
  if nxt then
    h[#h + 1] = 'oldest'
    h[#h + 1] = nxt
  else
    redis.call('HDEL', meta, 'oldest')
  end
  if #h > 0 then redis.call('HSET', meta, unpack(h)) end
  return t
end
-- Retention by age: drops notifications older than now - retms. \`oldest\` is the oldest one held
-- (from the meta hash; nil: unknown, looked up). Returns \`trimmed\` and the oldest one left.
local function trimAge(stream, meta, now, retms, t, oldest)
  if now - retms <= 0 then return t, oldest end
  if not oldest then
    local first = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    if #first == 0 then return t, nil end
    oldest = first[1][1]
  end
  local bound = idstr(now - retms, 0)
  if not before(oldest, bound) then return t, oldest end
  local nxt = redis.call('XRANGE', stream, bound, '+', 'COUNT', 1)
  nxt = nxt[1] and nxt[1][1]
  return dropNotifications(stream, meta, redis.call('XRANGE', stream, '-', '(' .. bound), t, nxt), nxt
end
-- Retention by count: drops the oldest notifications beyond maxlen (exactly: a replay never
-- returns more than retention). Returns \`trimmed\` and the oldest one held (\`oldest\` when unchanged).
local function trimCount(stream, meta, maxlen, t, oldest)
  local excess = redis.call('XLEN', stream) - maxlen
  if excess <= 0 then return t, oldest end
  local r = redis.call('XRANGE', stream, '-', '+', 'COUNT', excess + 1)
  local nxt = r[excess + 1]
  nxt = nxt and nxt[1]
  r[excess + 1] = nil
  return dropNotifications(stream, meta, r, t, nxt), nxt
end
`;

/** Helpers of the scripts that append inbox events (state changes, updates, deletes) and of the replay. */
const EVENTS = `
-- Events: none before what retention dropped (a reader there is lost anyway), their own count, and age.
local function trimEvents(e, meta, now, retms, maxevents, t)
  if t then
    local ms, seq = pos(t)
    redis.call('XTRIM', e, 'MINID', idstr(ms, seq + 1))
  end
  local excess = redis.call('XLEN', e) - maxevents
  if excess > 0 then
    local cut = redis.call('XRANGE', e, '-', '+', 'COUNT', excess)
    cut = cut[#cut][1]
    local ms, seq = pos(cut)
    redis.call('XTRIM', e, 'MINID', idstr(ms, seq + 1))
    t = trimmedTo(meta, t, cut)
  end
  if now - retms > 0 then
    local oldest = idstr(now - retms, 0)
    local first = redis.call('XRANGE', e, '-', '+', 'COUNT', 1)
    if #first > 0 and before(first[1][1], oldest) then
      t = trimmedTo(meta, t, redis.call('XREVRANGE', e, '(' .. oldest, '-', 'COUNT', 1)[1][1])
      redis.call('XTRIM', e, 'MINID', oldest)
    end
  end
  return t
end
-- Retention of both kinds (events: unless \`maxevents\` is nil, for a caller that trims them after
-- appending one).
local function trimAll(s, e, meta, now, maxlen, retms, maxevents)
  local m = redis.call('HMGET', meta, 'trimmed', 'oldest')
  local t, oldest = trimCount(s, meta, maxlen, m[1] or nil, m[2] or nil)
  t = trimAge(s, meta, now, retms, t, oldest)
  if maxevents then trimEvents(e, meta, now, retms, maxevents, t) end
end
-- The next position, like XADD * from the caller's \`now\` (now-0, or last-(seq+1) when the clock has
-- not passed the last position), against \`last\`: live-only notifications and events take positions.
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
-- Appends an inbox event at the next position; returns it, the previous one and the epoch.
local function appendEvent(e, meta, now, epoch, kind, json, device)
  local id, prev = nextPos(meta, now, epoch)
  redis.call('XADD', e, id, 't', kind, 'j', json, 'd', device, 'p', prev)
  return id, prev, redis.call('HGET', meta, 'epoch')
end
-- Keys of a stream expire together: entries never vanish without \`trimmed\` knowing, unless the
-- positions go with them (and a cursor then reads as from before this stream: lost).
local function expireAll(ttl, keys)
  for _, k in ipairs(keys) do redis.call('PEXPIRE', k, ttl) end
end
`;

/**
 * Helpers of the inbox scripts, which all take the same KEYS: stream, events, meta, inbox hash,
 * cursor hash, and the index `n`, `q`, `t`, `c` (see the top of this file).
 */
const ITEMS = `
local S, E, M, X, CUR, N, Q, T, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
-- A state string's three times ('' = not).
local function splitState(v)
  if not v then return '', '', '' end
  local c1 = string.find(v, ',', 1, true)
  local c2 = string.find(v, ',', c1 + 1, true)
  return string.sub(v, 1, c1 - 1), string.sub(v, c1 + 1, c2 - 1), string.sub(v, c2 + 1)
end
-- What an item in this state adds to the unseen and unread counts.
local function weight(st)
  if not st then return 1, 1 end
  local s, r, a = splitState(st)
  if a ~= '' then return 0, 0 end
  local u, d = 0, 0
  if s == '' then u = 1 end
  if r == '' then d = 1 end
  return u, d
end
-- Count changes, gathered per bucket and written once (flush).
local delta = {}
local function bump(device, du, dr)
  if du ~= 0 then delta['u:' .. device] = (delta['u:' .. device] or 0) + du end
  if dr ~= 0 then delta['r:' .. device] = (delta['r:' .. device] or 0) + dr end
end
local function flush()
  for f, v in pairs(delta) do
    if v ~= 0 then redis.call('HINCRBY', C, f, v) end
  end
  delta = {}
end
-- An index value: position, device, expiry.
local function parseIndex(v)
  local a = string.find(v, ' ', 1, true)
  local b = string.find(v, ' ', a + 1, true)
  return string.sub(v, 1, a - 1), string.sub(v, a + 1, b - 1), string.sub(v, b + 1)
end
-- Takes an item out of the index and the counts (dropped by retention, expired, deleted or replaced).
-- \`at\`: only if it is the item at that position (an id may come back after retention dropped it).
local function unindex(id, at)
  local v = redis.call('HGET', N, id)
  if not v then return end
  local p, d, xp = parseIndex(v)
  if at and p ~= at then return end
  local du, dr = weight(redis.call('HGET', X, 's:' .. id) or nil)
  bump(d, -du, -dr)
  redis.call('HDEL', N, id)
  if xp ~= '' then redis.call('ZREM', T, id) end
end
-- Brings the index up to date: lets go of what retention dropped (before \`oldest\`) or aged out and of
-- what expired, then takes in the notifications appended since the mark \`ix\` (each once; a new item
-- is unseen and unread; one that replaced another through a collapse key lets that one go). The
-- mark lives with the index (in \`c\`, with the stream's epoch) and the index keys expire together,
-- so an index that expired, or one of an earlier generation of the stream, is built again from the
-- start, never half.
local function catchUp(now, retms, ttl)
  local m = redis.call('HMGET', M, 'oldest', 'epoch')
  local bound, epoch = m[1] or nil, m[2] or ''
  local wrote = false
  if not bound then
    -- A stream from before \`oldest\` was kept (nil otherwise means an empty stream): look.
    local first = redis.call('XRANGE', S, '-', '+', 'COUNT', 1)
    if #first > 0 then
      bound = first[1][1]
      redis.call('HSET', M, 'oldest', bound)
    end
  end
  local start = '-'
  local ix = redis.call('HGET', C, 'ix')
  if ix then
    local sep = string.find(ix, ':', 1, true)
    if string.sub(ix, 1, sep - 1) == epoch then
      start = '(' .. string.sub(ix, sep + 1)
    else
      redis.call('DEL', N, Q, T, C)
      wrote = true
    end
  end
  if now - retms > 0 then
    local age = idstr(now - retms, 0)
    if bound and before(bound, age) then bound = age end
  end
  -- Usually nothing is due: one look at the front first.
  local front = redis.call('LINDEX', Q, 0)
  local due = front and (not bound or before(string.sub(front, 1, string.find(front, ' ', 1, true) - 1), bound))
  while due do
    local head = redis.call('LRANGE', Q, 0, 99)
    local k = 0
    for _, h in ipairs(head) do
      local sp = string.find(h, ' ', 1, true)
      local p = string.sub(h, 1, sp - 1)
      if bound and not before(p, bound) then break end
      unindex(string.sub(h, sp + 1), p)
      k = k + 1
    end
    if k > 0 then
      redis.call('LTRIM', Q, k, -1)
      wrote = true
    end
    due = k == 100
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', T, '-inf', now)) do
    unindex(id)
    wrote = true
  end
  local new = redis.call('XRANGE', S, start, '+')
  if #new > 0 then
    local ids, gf = {}, {}
    for i, e in ipairs(new) do
      -- \`j\` is the first field and starts with {"id":"<id>" (ids hold no quote or backslash).
      local j = e[2][2]
      ids[i] = string.sub(j, 8, string.find(j, '"', 8, true) - 1)
      gf[i] = 'g:' .. ids[i]
    end
    local gone = {}
    for off = 0, #gf - 1, 1000 do
      local part = redis.call('HMGET', X, unpack(gf, off + 1, math.min(off + 1000, #gf)))
      for i = 1, #part do gone[off + i] = part[i] end
    end
    for i, e in ipairs(new) do
      -- Fields as APPEND_LUA writes them: j, d, x, p, then the optional ones.
      local f, id = e[2], ids[i]
      local d, xp = f[4], f[6]
      for k = 9, #f, 2 do
        if f[k] == 'r' then unindex(f[k + 1]) end
      end
      unindex(id)
      if not gone[i] and (xp == '' or tonumber(xp) > now) then
        redis.call('HSET', N, id, e[1] .. ' ' .. d .. ' ' .. xp)
        redis.call('RPUSH', Q, e[1] .. ' ' .. id)
        if xp ~= '' then redis.call('ZADD', T, xp, id) end
        bump(d, 1, 1)
      end
    end
    redis.call('HSET', C, 'ix', epoch .. ':' .. new[#new][1])
    wrote = true
  end
  flush()
  if wrote then
    for _, k in ipairs({N, Q, T, C}) do redis.call('PEXPIRE', k, ttl) end
  end
end
-- What a view sees: a device ('' = the backend view, every item) sees client-wide items,
-- broadcasts and its own targeted items.
local function visible(d, view)
  return view == '' or d == '' or d == view
end
-- The live broadcasts of the client's inbox, from ARGV[from] on (position, id pairs, oldest first,
-- as the caller's cache has them): those since its registration.
local function broadcastItems(from)
  local reg = tonumber(redis.call('HGET', CUR, 'reg') or '')
  local out = {}
  if not reg then return out end
  for k = from, #ARGV, 2 do
    if pos(ARGV[k]) >= reg then out[#out + 1] = {p = ARGV[k], id = ARGV[k + 1]} end
  end
  return out
end
-- The states of the client's broadcasts (by position).
local function broadcastStates(bl)
  local st = {}
  for off = 0, #bl - 1, 1000 do
    local fields = {}
    for i = off + 1, math.min(off + 1000, #bl) do fields[#fields + 1] = 'b:' .. bl[i].p end
    local part = redis.call('HMGET', X, unpack(fields))
    for i = 1, #part do
      if part[i] then st[bl[off + i].p] = part[i] end
    end
  end
  return st
end
-- {unseen, unread, ...} of each view: its buckets' counts and the broadcasts'.
local function countViews(views, bl, bst)
  local bu, br = 0, 0
  for _, b in ipairs(bl) do
    local u, r = weight(bst[b.p])
    bu, br = bu + u, br + r
  end
  local c = redis.call('HGETALL', C)
  local total = {u = 0, r = 0}
  local by = {}
  for i = 1, #c, 2 do
    local kind = string.sub(c[i], 1, 2)
    if kind == 'u:' or kind == 'r:' then
      local v = tonumber(c[i + 1])
      total[string.sub(kind, 1, 1)] = total[string.sub(kind, 1, 1)] + v
      by[c[i]] = v
    end
  end
  local out = {}
  for _, v in ipairs(views) do
    if v == '' then
      out[#out + 1] = total.u + bu
      out[#out + 1] = total.r + br
    else
      out[#out + 1] = (by['u:'] or 0) + (by['u:' .. v] or 0) + bu
      out[#out + 1] = (by['r:'] or 0) + (by['r:' .. v] or 0) + br
    end
  end
  return out
end
`;

/**
 * Item states. KEYS: the inbox keys (see ITEMS). ARGV: now, maxlen, retention ms, max events, key
 * ttl ms, scope ('' = the backend view), mode ('ids' or 'all'), seen, read, archived (each '1', '0'
 * or '' = not given), epoch (if this creates the stream), the event JSON before and after its
 * \`ids\`/\`all\` member, the oldest live broadcast's position ('' = none), the number of ids N, the
 * N ids, then the live broadcasts as position, id pairs, oldest first.
 * Applies the change to the given ids among the items the scope can list (through the index: no
 * scan), or to all of them; appends one state event when something changed. Returns {updated,
 * unseen, unread (the scope's view), position, prev, epoch, changed id 1, ...} (position '' when
 * nothing changed).
 */
export const SET_STATE_LUA = `${HELPERS}${EVENTS}${ITEMS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowstr, scope, all = ARGV[1], ARGV[6], ARGV[7] == 'all'
local seen, read, archived = ARGV[8], ARGV[9], ARGV[10]
local nids = tonumber(ARGV[15])
trimAll(S, E, M, now, maxlen, retms, nil)
catchUp(now, retms, ARGV[5])
local bl = broadcastItems(16 + nids)
-- The items to change (id, inbox hash field, bucket: nil for a broadcast), in the order of the ids
-- given (each once; a client item and a broadcast may share an id), or all the scope can list.
local targets = {}
if all then
  local n = redis.call('HGETALL', N)
  for i = 1, #n, 2 do
    local _, d = parseIndex(n[i + 1])
    if visible(d, scope) then targets[#targets + 1] = {id = n[i], f = 's:' .. n[i], d = d} end
  end
  for _, b in ipairs(bl) do targets[#targets + 1] = {id = b.id, f = 'b:' .. b.p} end
else
  local ids, seenId = {}, {}
  for k = 16, 15 + nids do
    local id = ARGV[k]
    if not seenId[id] then
      seenId[id] = true
      ids[#ids + 1] = id
    end
  end
  if #ids > 0 then
    local index = redis.call('HMGET', N, unpack(ids))
    local byId = {}
    for _, b in ipairs(bl) do
      local l = byId[b.id] or {}
      l[#l + 1] = b.p
      byId[b.id] = l
    end
    for i, id in ipairs(ids) do
      if index[i] then
        local _, d = parseIndex(index[i])
        if visible(d, scope) then targets[#targets + 1] = {id = id, f = 's:' .. id, d = d} end
      end
      for _, bp in ipairs(byId[id] or {}) do targets[#targets + 1] = {id = id, f = 'b:' .. bp} end
    end
  end
end
local updated = 0
local changed = {}
for off = 0, #targets - 1, 1000 do
  local fields = {}
  for i = off + 1, math.min(off + 1000, #targets) do fields[#fields + 1] = targets[i].f end
  local states = redis.call('HMGET', X, unpack(fields))
  local sets, dels = {}, {}
  for i = 1, #fields do
    local it = targets[off + i]
    local old = states[i] or nil
    local s, r, a = splitState(old)
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
    if new ~= (old or ',,') then
      if new == ',,' then
        dels[#dels + 1] = it.f
        new = nil
      else
        sets[#sets + 1] = it.f
        sets[#sets + 1] = new
      end
      if it.d then
        local ou, orr = weight(old)
        local nu, nr = weight(new)
        bump(it.d, nu - ou, nr - orr)
      end
      updated = updated + 1
      if changed[#changed] ~= it.id then changed[#changed + 1] = it.id end
    end
  end
  if #sets > 0 then redis.call('HSET', X, unpack(sets)) end
  if #dels > 0 then redis.call('HDEL', X, unpack(dels)) end
end
flush()
local counts = countViews({scope}, bl, broadcastStates(bl))
if updated == 0 then return {0, counts[1], counts[2], '', '', ''} end
-- Keep the inbox hash to what is still held: once it has grown past what full streams can need (five
-- kinds of fields, each at most one per held notification or broadcast), fields of items and
-- broadcasts retention dropped go (a full pass, seldom).
if redis.call('HLEN', X) > 6 * maxlen + 64 then
  local x = redis.call('HGETALL', X)
  local oldest = redis.call('HGET', M, 'oldest')
  local live = {}
  for k = 16 + nids, #ARGV, 2 do live[ARGV[k]] = true end
  local firstb = ARGV[14]
  for i = 1, #x, 2 do
    local field, v = x[i], x[i + 1]
    local kind, rest = string.sub(field, 1, 2), string.sub(field, 3)
    local drop
    if kind == 'b:' then
      if all then drop = not live[rest] else drop = firstb == '' or before(rest, firstb) end
    elseif kind == 'k:' then
      drop = not oldest or before(string.sub(v, 1, string.find(v, ' ', 1, true) - 1), oldest)
    elseif kind == 'g:' then
      drop = not oldest or before(v, oldest)
    else
      drop = redis.call('HEXISTS', N, rest) == 0
    end
    if drop then redis.call('HDEL', X, field) end
  end
end
local member = '"all":true,'
if not all then member = '"ids":' .. cjson.encode(changed) .. ',' end
local id, prev, epoch = appendEvent(E, M, now, ARGV[11], 'state', ARGV[12] .. member .. ARGV[13], '')
trimEvents(E, M, now, retms, tonumber(ARGV[4]), redis.call('HGET', M, 'trimmed'))
expireAll(ARGV[5], KEYS)
local out = {updated, counts[1], counts[2], id, prev, epoch}
if not all then
  for _, c in ipairs(changed) do out[#out + 1] = c end
end
return out
`;

/**
 * Counts of several views. KEYS: the inbox keys. ARGV: now, retention ms, key ttl ms, the number of
 * views N, the N views (device ids, '' = the backend view), then the live broadcasts as position,
 * id pairs, oldest first. Returns {unseen1, unread1, unseen2, ...}.
 */
export const COUNTS_LUA = `${HELPERS}${ITEMS}
local now, retms, nviews = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[4])
catchUp(now, retms, ARGV[3])
local views = {}
for k = 5, 4 + nviews do views[#views + 1] = ARGV[k] end
local bl = broadcastItems(5 + nviews)
return countViews(views, bl, broadcastStates(bl))
`;

/**
 * One page of a listing. KEYS: the inbox keys. ARGV: now, retention ms, key ttl ms, view (a device,
 * '' = the backend view), filter ('default', 'unread', 'archived', 'all'), limit, the \`before\` key's stream
 * ('' = none, 'c', 'b') and position, then the live broadcasts as position, id pairs, oldest first.
 * Counts the view, then walks the client's stream backwards from \`before\` (a chunk a little larger
 * than the page, more while the page is not full) merged with the broadcasts, newest first: by
 * position time, a client item before a broadcast of the same millisecond, then sequence (as
 * core/inbox.ts compareListingKeys). Returns {unseen, unread, more ('1'/'0'), epoch, then per item
 * 'c', position, fields, state, update ('' = none) for a client item, or 'b', position, id, state
 * for a broadcast (the caller has its content)}.
 */
export const LIST_LUA = `${HELPERS}${ITEMS}
local now, retms = tonumber(ARGV[1]), tonumber(ARGV[2])
local view, filter, limit, tsrc, tpos = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
catchUp(now, retms, ARGV[3])
local bl = broadcastItems(9)
local bst = broadcastStates(bl)
local counts = countViews({view}, bl, bst)
local function matches(st)
  if filter == 'all' then return true end
  local _, r, a = splitState(st)
  if filter == 'default' then return a == '' end
  if filter == 'unread' then return r == '' and a == '' end
  return a ~= ''
end
-- Where each side starts, strictly older than the \`before\` key.
local tms, tseq
if tsrc ~= '' then tms, tseq = pos(tpos) end
local j = #bl
local function bBefore(p)
  if tsrc == '' then return true end
  local ms, seq = pos(p)
  if tsrc == 'c' then return ms <= tms end
  return ms < tms or (ms == tms and seq < tseq)
end
while j >= 1 and not bBefore(bl[j].p) do j = j - 1 end
local cend = '+'
if tsrc == 'c' then cend = '(' .. tpos elseif tsrc == 'b' then cend = '(' .. idstr(tms, 0) end
local chunk = limit + 8
local buf, bi, ids, index, states = {}, 1, {}, {}, {}
-- The next client entry, newest first, that is an item this view lists with this filter.
local function nextClient()
  while true do
    if bi > #buf then
      if not cend then return nil end
      buf = redis.call('XREVRANGE', S, cend, '-', 'COUNT', chunk)
      bi = 1
      if #buf == 0 then return nil end
      if #buf < chunk then cend = nil else cend = '(' .. buf[#buf][1] end
      ids = {}
      local sf = {}
      for i, e in ipairs(buf) do
        local js = e[2][2]
        ids[i] = string.sub(js, 8, string.find(js, '"', 8, true) - 1)
        sf[i] = 's:' .. ids[i]
      end
      index = redis.call('HMGET', N, unpack(ids))
      states = redis.call('HMGET', X, unpack(sf))
    end
    local i = bi
    bi = bi + 1
    if index[i] then
      local p, d = parseIndex(index[i])
      if p == buf[i][1] and visible(d, view) and matches(states[i] or nil) then return buf[i], ids[i], states[i] or '' end
    end
  end
end
local out = {counts[1], counts[2], '0', redis.call('HGET', M, 'epoch') or ''}
local page, uf = {}, {}
local ce, cid, cst = nextClient()
while true do
  while j >= 1 and not matches(bst[bl[j].p]) do j = j - 1 end
  if not ce and j < 1 then break end
  if #page == limit then
    out[3] = '1'
    break
  end
  if not ce or (j >= 1 and pos(bl[j].p) > pos(ce[1])) then
    page[#page + 1] = {b = bl[j]}
    j = j - 1
  else
    page[#page + 1] = {e = ce, st = cst}
    uf[#uf + 1] = 'u:' .. cid
    ce, cid, cst = nextClient()
  end
end
local updates = {}
if #uf > 0 then updates = redis.call('HMGET', X, unpack(uf)) end
local k = 0
for _, it in ipairs(page) do
  if it.b then
    out[#out + 1] = 'b'
    out[#out + 1] = it.b.p
    out[#out + 1] = it.b.id
    out[#out + 1] = bst[it.b.p] or ''
  else
    k = k + 1
    out[#out + 1] = 'c'
    out[#out + 1] = it.e[1]
    out[#out + 1] = it.e[2]
    out[#out + 1] = it.st
    out[#out + 1] = updates[k] or ''
  end
end
return out
`;

/**
 * One listed item, for an update or a delete. KEYS: the inbox keys. ARGV: now, retention ms, key
 * ttl ms, id. Returns {} when the id is not listed (unknown, deleted, replaced, expired, dropped),
 * else {position, fields, update ('' = none)}.
 */
export const ITEM_READ_LUA = `${HELPERS}${ITEMS}
local now, retms, id = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[4]
catchUp(now, retms, ARGV[3])
local v = redis.call('HGET', N, id)
if not v then return {} end
local p = parseIndex(v)
local e = redis.call('XRANGE', S, p, p)
if #e == 0 then return {} end
return {p, e[1][2], redis.call('HGET', X, 'u:' .. id) or ''}
`;

/**
 * Update or delete of one item, read just before by ITEM_READ_LUA (compare and set: the caller
 * built the new content). KEYS: the inbox keys. ARGV: now, maxlen, retention ms, max events, key
 * ttl ms, mode ('update' or 'delete'), the item's position, its id, the version the caller read
 * (update), the new \`<version>|<content JSON>\` (update), the event JSON, the item's device ('' =
 * none), its collapse key ('' = none).
 * Returns {'ok', position, prev, epoch}, {'gone'} when the item is no longer listed, or
 * {'conflict'} when another update came first (read again).
 */
export const ITEM_LUA = `${HELPERS}${EVENTS}${ITEMS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local itempos, id = ARGV[7], ARGV[8]
trimAll(S, E, M, now, maxlen, retms, nil)
catchUp(now, retms, ARGV[5])
local v = redis.call('HGET', N, id)
if not v or parseIndex(v) ~= itempos then return {'gone'} end
if ARGV[6] == 'update' then
  local u = redis.call('HGET', X, 'u:' .. id)
  local version = '1'
  if u then version = string.sub(u, 1, string.find(u, '|', 1, true) - 1) end
  if version ~= ARGV[9] then return {'conflict'} end
  redis.call('HSET', X, 'u:' .. id, ARGV[10])
else
  unindex(id)
  flush()
  redis.call('HSET', X, 'g:' .. id, itempos)
  redis.call('HDEL', X, 'u:' .. id, 's:' .. id)
  if ARGV[13] ~= '' and redis.call('HGET', X, 'k:' .. ARGV[13]) == itempos .. ' ' .. id then
    redis.call('HDEL', X, 'k:' .. ARGV[13])
  end
end
local at, prev, epoch = appendEvent(E, M, now, '', ARGV[6], ARGV[11], ARGV[12])
trimEvents(E, M, now, retms, tonumber(ARGV[4]), redis.call('HGET', M, 'trimmed'))
expireAll(ARGV[5], KEYS)
return {'ok', at, prev, epoch}
`;

/**
 * Append. KEYS: stream, meta, idempotency key, and, only when the inbox has something to do with
 * this notification (a publisher-given id, a collapse key, excluded devices), the inbox hash.
 * ARGV: now, maxlen, retention ms, key ttl ms, has idempotency key ('1'/'0'), store ('1'/'0': '0' =
 * live only), json, device, expiresAt, epoch (taken when this append creates the stream); with the
 * inbox hash also: id, collapse key ('' = none), excluded devices ('' = none). A plain publish thus
 * sends what it sent before the inbox.
 * Publishing in the same round trip (a Publication, see core/types.ts): KEYS gains the inbox hash
 * (always, to keep the positions) and, for a client's stream, the client's registry hash (the
 * cluster's \`{client}:reg\`, same slot); ARGV gains the three inbox arguments (or '') and then the
 * command (PUBLISH or SPUBLISH), the channel, the message head, the entry's other fields as a
 * JSON member (\`,"t":{"clientId":…}\`) and the message tail; and, to count the client's Web Push
 * subscriptions, their hash as the last key and '1'.
 * Returns {'dup', id, fields, epoch} for a known idempotency key, else {'new', id, prev, epoch,
 * replaced id ('' = none), attached target devices counted (0 when not published), Web Push
 * subscriptions counted (0 when not asked)}.
 *
 * The position is computed here, not by \`XADD *\`: from the caller's \`now\` like XADD's own rule
 * (now-0, or last-(seq+1) when the clock has not passed the last position), and against \`last\`
 * in the meta hash rather than the stream, because a live-only notification (ttlMs 0) takes a
 * position without being stored: it is never added to the stream, only \`last\` moves. Reading
 * \`last\` and adding in one script is what makes \`prev\` exact under concurrent appends.
 * The inbox adds nothing to a plain publish but the \`oldest\` mark (which also spares the age check
 * a read of the stream); the item index is built later by the inbox scripts.
 * The inbox hash is touched only for a collapse key or a publisher-given id (whose old state, from
 * an earlier item with that id that retention dropped, is cleared).
 */
export const APPEND_LUA = `${HELPERS}
local now, maxlen, retms, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
-- One read of the meta hash for everything this script needs of it.
local meta = redis.call('HMGET', KEYS[2], 'last', 'epoch', 'trimmed', 'oldest', 'ex')
local last, epoch, known = meta[1], meta[2] or ARGV[10], meta[4] or nil
-- Age first, so an idempotency key finds only what retention still holds.
local t, oldest = trimAge(KEYS[1], KEYS[2], now, retms, meta[3] or nil, known)
if ARGV[5] == '1' then
  local known = redis.call('GET', KEYS[3])
  if known then
    local e = redis.call('XRANGE', KEYS[1], known, known)
    if #e > 0 then return {'dup', e[1][1], e[1][2], meta[2] or ''} end
  end
end
local ms, seq = now, 0
if last then
  local lm, ls = pos(last)
  if lm >= now then ms, seq = lm, ls + 1 end
end
local id = idstr(ms, seq)
-- \`last\` and, for a new stream, its first position and epoch, in one write (\`last\` is set
-- whenever the others are, so its absence means a new stream).
local h = {'last', id}
if not last then
  h[#h + 1] = 'first'
  h[#h + 1] = id
  h[#h + 1] = 'epoch'
  h[#h + 1] = epoch
end
-- The oldest notification held, kept so the age check needs no read of the stream: this one in an
-- empty stream, or the one trimAge found in a stream from before the field existed.
if not oldest and ARGV[6] == '1' then oldest = id end
if oldest and oldest ~= known then
  h[#h + 1] = 'oldest'
  h[#h + 1] = oldest
end
-- Stream and meta expire together, between ttl and 9/8 ttl after the last append: the expiry is
-- renewed when an eighth of it has passed (\`ex\` = when), or when this append creates the stream's
-- key (nothing was held), not on every append.
local renew = not meta[5] or now - tonumber(meta[5]) >= ttl / 8 or (not known and ARGV[6] == '1')
if renew then
  h[#h + 1] = 'ex'
  h[#h + 1] = ARGV[1]
end
redis.call('HSET', KEYS[2], unpack(h))
local replaced = ''
if ARGV[6] == '1' then
  local inbox = KEYS[4]
  if inbox and ARGV[5] == '1' then redis.call('HDEL', inbox, 's:' .. ARGV[11], 'u:' .. ARGV[11], 'g:' .. ARGV[11]) end
  if not inbox or (ARGV[12] == '' and ARGV[13] == '') then
    redis.call('XADD', KEYS[1], id, 'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last or '')
  else
    local f = {'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last or ''}
    if ARGV[12] ~= '' then
      local ck = 'k:' .. ARGV[12]
      local holder = redis.call('HGET', inbox, ck)
      if holder then
        local sp = string.find(holder, ' ', 1, true)
        local hpos, hid = string.sub(holder, 1, sp - 1), string.sub(holder, sp + 1)
        -- Still held (not before the oldest notification held) and not deleted or replaced.
        if hid ~= ARGV[11] and oldest and not before(hpos, oldest) and redis.call('HEXISTS', inbox, 'g:' .. hid) == 0 then
          replaced = hid
          redis.call('HSET', inbox, 'g:' .. hid, hpos)
        end
      end
      redis.call('HSET', inbox, ck, id .. ' ' .. ARGV[11])
      redis.call('PEXPIRE', inbox, ARGV[4])
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
  end
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], id, 'PX', ARGV[3]) end
  trimCount(KEYS[1], KEYS[2], maxlen, t, oldest)
end
-- Stream and meta expire together: entries never vanish without \`trimmed\` knowing, unless the
-- positions go with them (and a cursor then reads as from before this stream: lost). The events
-- key may expire before them: events older than retention only concern notifications retention
-- already dropped.
if renew then
  local px = string.format('%d', ttl + math.floor(ttl / 8))
  redis.call('PEXPIRE', KEYS[1], px)
  redis.call('PEXPIRE', KEYS[2], px)
end
-- Published in this round trip when the caller asked (a Publication): a stream-entry message
-- (cluster/wire.ts) made of the caller's head, this entry's position, previous position and epoch,
-- the body as stored, the caller's other fields, the id it replaced, and the caller's tail. The
-- attached target devices of the client's registry are counted (its entries are cjson objects:
-- \`"st":"a"\` = attached), excluded devices not.
local reached = 0
if ARGV[14] and ARGV[14] ~= '' then
  local reg = KEYS[5]
  if reg then
    if ARGV[8] ~= '' then
      local v = redis.call('HGET', reg, ARGV[8])
      if v and string.find(v, '"st":"a"', 1, true) and not string.find(',' .. ARGV[13] .. ',', ',' .. ARGV[8] .. ',', 1, true) then reached = 1 end
    elseif ARGV[13] == '' then
      for _, v in ipairs(redis.call('HVALS', reg)) do
        if string.find(v, '"st":"a"', 1, true) then reached = reached + 1 end
      end
    else
      local excluded = {}
      for d in string.gmatch(ARGV[13], '[^,]+') do excluded[d] = true end
      local all = redis.call('HGETALL', reg)
      for i = 1, #all, 2 do
        if not excluded[all[i]] and string.find(all[i + 1], '"st":"a"', 1, true) then reached = reached + 1 end
      end
    end
  end
  local msg = ARGV[16] .. id .. '","v":"' .. (last or '') .. '","e":"' .. epoch .. '","j":' .. ARGV[7] .. ARGV[17]
  if replaced ~= '' then msg = msg .. ',"r":' .. cjson.encode(replaced) end
  redis.call(ARGV[14], ARGV[15], msg .. ARGV[18])
end
-- The client's Web Push subscriptions, counted when asked (ARGV[19] = '1', the hash the last key).
local push = 0
if ARGV[19] == '1' then push = redis.call('HLEN', KEYS[#KEYS]) end
return {'new', id, last or '', epoch, replaced, reached, push}
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
export const REPLAY_LUA = `${HELPERS}${EVENTS}
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
