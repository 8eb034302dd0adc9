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
 * `trimmed` (the newest position retention dropped, of either kind), and the item index:
 * `n:<id>` = `<ms-seq> <device> <expiresAt>` for every retained notification (written in the same
 * HSET as `last`, removed when retention drops it), so inbox scripts never read the stream's bodies
 * to find, count or change items.
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
-- Raises \`trimmed\` (its value \`t\`, read by the caller) to \`cut\`, never lowers it: a reader before it
-- has lost something. Returns the new value.
local function trimmedTo(meta, t, cut)
  if t and not before(t, cut) then return t end
  redis.call('HSET', meta, 'trimmed', cut)
  return cut
end
-- Drops the notifications XRANGE gave; \`nxt\` is the oldest one left (nil: none). Keeps \`trimmed\`
-- and \`oldest\` in the meta hash (index entries before \`oldest\` are dead: see catchUp); returns
-- \`trimmed\`.
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

/** Helpers of the inbox scripts (events, items, states, counts). */
const INBOX = `
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
local function trimAll(s, e, meta, now, maxlen, retms, maxevents)
  local m = redis.call('HMGET', meta, 'trimmed', 'oldest')
  local t, oldest = trimCount(s, meta, maxlen, m[1] or nil, m[2] or nil)
  t = trimAge(s, meta, now, retms, t, oldest)
  trimEvents(e, meta, now, retms, maxevents, t)
end
local function toTable(f)
  local t = {}
  for i = 1, #f, 2 do t[f[i]] = f[i + 1] end
  return t
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
local function expireAll(ttl, ...)
  for _, k in ipairs({...}) do redis.call('PEXPIRE', k, ttl) end
end
-- A state string's three times ('' = not).
local function splitState(v)
  if not v then return '', '', '' end
  local c1 = string.find(v, ',', 1, true)
  local c2 = string.find(v, ',', c1 + 1, true)
  return string.sub(v, 1, c1 - 1), string.sub(v, c1 + 1, c2 - 1), string.sub(v, c2 + 1)
end
-- The item index (\`n:<id>\` = \`<position> <device> <expiresAt>\` in the meta hash) is built by the
-- inbox scripts, not by appends, which stay as cheap as before the inbox: catchUp adds the
-- notifications appended since the last one indexed (\`ix\`), so each is indexed once, and only
-- for clients whose inbox is used. An entry before \`oldest\` belongs to a notification retention
-- dropped: it is dead, and swept once the index has grown to twice a full stream.
local function catchUp(s, meta, maxlen)
  local m = redis.call('HMGET', meta, 'ix', 'oldest')
  local start = '-'
  if m[1] then start = '(' .. m[1] end
  local new = redis.call('XRANGE', s, start, '+')
  if #new > 0 then
    local h = {}
    for _, e in ipairs(new) do
      -- Fields as APPEND_LUA writes them: j, d, x first; \`j\` starts with {"id":"<id>" (ids hold no
      -- quote or backslash).
      local f = e[2]
      local j = f[2]
      h[#h + 1] = 'n:' .. string.sub(j, 8, string.find(j, '"', 8, true) - 1)
      h[#h + 1] = e[1] .. ' ' .. f[4] .. ' ' .. f[6]
      if #h == 1000 then
        redis.call('HSET', meta, unpack(h))
        h = {}
      end
    end
    h[#h + 1] = 'ix'
    h[#h + 1] = new[#new][1]
    redis.call('HSET', meta, unpack(h))
  end
  if redis.call('HLEN', meta) > 2 * maxlen + 16 then
    local all = redis.call('HGETALL', meta)
    local oldest = m[2]
    for i = 1, #all, 2 do
      if string.sub(all[i], 1, 2) == 'n:' then
        local p = string.sub(all[i + 1], 1, string.find(all[i + 1], ' ', 1, true) - 1)
        if not oldest or before(p, oldest) then redis.call('HDEL', meta, all[i]) end
      end
    end
  end
end
-- Whether a notification, by its index value, is an item now: held (not before \`oldest\`), within
-- retention by age (applied lazily), not expired. Returns its position and device, or nil.
local function liveIndex(v, now, retms, oldest)
  local p, d, xp = string.match(v, '^(%S+) (%S*) (%S*)$')
  if not oldest or before(p, oldest) then return nil end
  if now - retms > 0 and pos(p) < now - retms then return nil end
  if xp ~= '' and tonumber(xp) <= now then return nil end
  return p, d
end
-- What a view sees: a device ('' = the backend view, every item) sees client-wide items,
-- broadcasts and its own targeted items.
local function visible(d, view)
  return view == '' or d == '' or d == view
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
 * The position is computed here, not by \`XADD *\`: from the caller's \`now\` like XADD's own rule
 * (now-0, or last-(seq+1) when the clock has not passed the last position), and against \`last\`
 * in the meta hash rather than the stream, because a live-only notification (ttlMs 0) takes a
 * position without being stored: it is never added to the stream, only \`last\` moves. Reading
 * \`last\` and adding in one script is what makes \`prev\` exact under concurrent appends.
 * The inbox adds nothing to a plain publish but the \`oldest\` mark (which also spares the age check
 * a read of the stream) and three arguments; the item index is built later by the inbox scripts.
 * The inbox hash is touched only for a collapse key or a publisher-given id (whose old state, from
 * an earlier item with that id that retention dropped, is cleared).
 */
export const APPEND_LUA = `${HELPERS}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
-- One read of the meta hash for everything this script needs of it.
local meta = redis.call('HMGET', KEYS[2], 'last', 'epoch', 'trimmed', 'oldest')
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
redis.call('HSET', KEYS[2], unpack(h))
local replaced = ''
if ARGV[6] == '1' then
  if ARGV[5] == '1' then redis.call('HDEL', KEYS[5], 's:' .. ARGV[11], 'u:' .. ARGV[11], 'g:' .. ARGV[11]) end
  if ARGV[12] == '' and ARGV[13] == '' then
    redis.call('XADD', KEYS[1], id, 'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last or '')
  else
    local f = {'j', ARGV[7], 'd', ARGV[8], 'x', ARGV[9], 'p', last or ''}
    if ARGV[12] ~= '' then
      local ck = 'k:' .. ARGV[12]
      local holder = redis.call('HGET', KEYS[5], ck)
      if holder then
        local sp = string.find(holder, ' ', 1, true)
        local hpos, hid = string.sub(holder, 1, sp - 1), string.sub(holder, sp + 1)
        -- Still held (not before the oldest notification held) and not deleted or replaced.
        if hid ~= ARGV[11] and oldest and not before(hpos, oldest) and redis.call('HEXISTS', KEYS[5], 'g:' .. hid) == 0 then
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
  end
  if ARGV[5] == '1' then redis.call('SET', KEYS[3], id, 'PX', ARGV[3]) end
  trimCount(KEYS[1], KEYS[2], maxlen, t, oldest)
end
-- Stream and meta expire together: entries never vanish without \`trimmed\` knowing, unless the
-- positions go with them (and a cursor then reads as from before this stream: lost). The events
-- key may expire before them: events older than retention only concern notifications retention
-- already dropped.
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'new', id, last or '', epoch, replaced}
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
export const REPLAY_LUA = `${HELPERS}${INBOX}
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
 * before and after its \`ids\`/\`all\` member, the oldest live broadcast's position ('' = none),
 * the number of ids N, the N ids, then the live
 * broadcasts (all of them, or for 'ids' those with one of the ids) as position, id pairs, oldest
 * first: no script can read the broadcast stream (another slot), so the caller's cache names them.
 * Applies the change to the given ids among the items the scope can list (found through the index:
 * no scan), or to all of them; appends one state event when something changed. Returns {updated,
 * position, prev, epoch, changed id 1, ...} (position '' when nothing changed).
 */
export const SET_STATE_LUA = `${HELPERS}${INBOX}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nowstr, scope, all = ARGV[1], ARGV[6], ARGV[7] == 'all'
local seen, read, archived = ARGV[8], ARGV[9], ARGV[10]
trimAll(KEYS[1], KEYS[2], KEYS[3], now, maxlen, retms, tonumber(ARGV[4]))
catchUp(KEYS[1], KEYS[3], maxlen)
local oldest = redis.call('HGET', KEYS[3], 'oldest')
local nids = tonumber(ARGV[15])
local reg = tonumber(redis.call('HGET', KEYS[5], 'reg') or '')
-- The items to change (their ids and inbox hash fields), in the order of the ids given (each id
-- once; a client item and a broadcast may share an id), or every item the scope can list.
local tids, tfields = {}, {}
local function target(id, field)
  tids[#tids + 1] = id
  tfields[#tfields + 1] = field
end
local bcast = {}
if reg then
  for k = 16 + nids, #ARGV, 2 do
    if pos(ARGV[k]) >= reg then bcast[#bcast + 1] = {ARGV[k], ARGV[k + 1]} end
  end
end
if all then
  local m = redis.call('HGETALL', KEYS[3])
  local cand, gf = {}, {}
  for i = 1, #m, 2 do
    if string.sub(m[i], 1, 2) == 'n:' then
      local p, d = liveIndex(m[i + 1], now, retms, oldest)
      if p and visible(d, scope) then
        local id = string.sub(m[i], 3)
        cand[#cand + 1] = id
        gf[#gf + 1] = 'g:' .. id
      end
    end
  end
  for off = 0, #gf - 1, 1000 do
    local part = {unpack(gf, off + 1, math.min(off + 1000, #gf))}
    local gone = redis.call('HMGET', KEYS[4], unpack(part))
    for i = 1, #part do
      if not gone[i] then target(cand[off + i], 's:' .. cand[off + i]) end
    end
  end
  for _, b in ipairs(bcast) do target(b[2], 'b:' .. b[1]) end
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
    local nf, gf = {}, {}
    for i, id in ipairs(ids) do
      nf[i] = 'n:' .. id
      gf[i] = 'g:' .. id
    end
    local index = redis.call('HMGET', KEYS[3], unpack(nf))
    local gone = redis.call('HMGET', KEYS[4], unpack(gf))
    local byId = {}
    for _, b in ipairs(bcast) do
      local l = byId[b[2]] or {}
      l[#l + 1] = b[1]
      byId[b[2]] = l
    end
    for i, id in ipairs(ids) do
      if index[i] and not gone[i] then
        local p, d = liveIndex(index[i], now, retms, oldest)
        if p and visible(d, scope) then target(id, 's:' .. id) end
      end
      for _, bp in ipairs(byId[id] or {}) do target(id, 'b:' .. bp) end
    end
  end
end
local updated = 0
local changed = {}
if #tfields > 0 then
  local sets, dels = {}, {}
  for off = 0, #tfields - 1, 1000 do
    local part = {unpack(tfields, off + 1, math.min(off + 1000, #tfields))}
    local states = redis.call('HMGET', KEYS[4], unpack(part))
    for i = 1, #part do
      local s, r, a = splitState(states[i] or nil)
      local old = s .. ',' .. r .. ',' .. a
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
        if new == ',,' then
          dels[#dels + 1] = part[i]
        else
          sets[#sets + 1] = part[i]
          sets[#sets + 1] = new
        end
        updated = updated + 1
        local id = tids[off + i]
        if changed[#changed] ~= id then changed[#changed + 1] = id end
      end
    end
  end
  for off = 0, #sets - 1, 1000 do redis.call('HSET', KEYS[4], unpack(sets, off + 1, math.min(off + 1000, #sets))) end
  for off = 0, #dels - 1, 1000 do redis.call('HDEL', KEYS[4], unpack(dels, off + 1, math.min(off + 1000, #dels))) end
end
if updated == 0 then return {0, '', '', ''} end
-- Keep the inbox hash to what is still held: once it has grown past what full streams can need (five
-- kinds of fields, each at most one per held notification or broadcast), fields of items and
-- broadcasts retention dropped go (a full pass, seldom).
if redis.call('HLEN', KEYS[4]) > 6 * maxlen + 64 then
  local x = redis.call('HGETALL', KEYS[4])
  local live = {}
  for k = 16 + nids, #ARGV, 2 do live[ARGV[k]] = true end
  local firstb = ARGV[14]
  for i = 1, #x, 2 do
    local field, v = x[i], x[i + 1]
    local kind = string.sub(field, 1, 2)
    local drop
    if kind == 'b:' then
      local bp = string.sub(field, 3)
      if all then drop = not live[bp] else drop = firstb == '' or before(bp, firstb) end
    elseif kind == 'k:' then
      drop = not oldest or before(string.sub(v, 1, string.find(v, ' ', 1, true) - 1), oldest)
    else
      local n = redis.call('HGET', KEYS[3], 'n:' .. string.sub(field, 3))
      drop = not n or not oldest or before(string.sub(n, 1, string.find(n, ' ', 1, true) - 1), oldest)
    end
    if drop then redis.call('HDEL', KEYS[4], field) end
  end
end
local member = '"all":true,'
if not all then member = '"ids":' .. cjson.encode(changed) .. ',' end
local id, prev, epoch = appendEvent(KEYS[2], KEYS[3], now, ARGV[11], 'state', ARGV[12] .. member .. ARGV[13], '')
trimEvents(KEYS[2], KEYS[3], now, retms, tonumber(ARGV[4]), redis.call('HGET', KEYS[3], 'trimmed'))
expireAll(ARGV[5], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local out = {updated, id, prev, epoch}
if not all then for _, c in ipairs(changed) do out[#out + 1] = c end end
return out
`;

/**
 * One listed item, for an update or a delete (brings the index up to date first). KEYS: stream,
 * meta, inbox hash. ARGV: now, retention ms, id, maxlen. Returns {} when the id is not listed
 * (unknown, deleted, replaced, expired, dropped), else {position, fields, update ('' = none)}.
 */
export const ITEM_READ_LUA = `${HELPERS}${INBOX}
local now, retms, id = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
catchUp(KEYS[1], KEYS[2], tonumber(ARGV[4]))
local v = redis.call('HGET', KEYS[2], 'n:' .. id)
if not v or redis.call('HEXISTS', KEYS[3], 'g:' .. id) == 1 then return {} end
local p = liveIndex(v, now, retms, redis.call('HGET', KEYS[2], 'oldest'))
if not p then return {} end
local e = redis.call('XRANGE', KEYS[1], p, p)
if #e == 0 then return {} end
return {p, e[1][2], redis.call('HGET', KEYS[3], 'u:' .. id) or ''}
`;

/**
 * Update or delete of one item, read just before by ITEM_READ_LUA (compare and set: the caller
 * built the new content). KEYS: stream, events, meta, inbox hash. ARGV: now, maxlen, retention ms,
 * max events, key ttl ms, mode ('update' or 'delete'), the item's position, its id, the version
 * the caller read (update), the new \`<version>|<content JSON>\` (update), the event JSON, the
 * item's device ('' = none), its collapse key ('' = none).
 * Returns {'ok', position, prev, epoch}, {'gone'} when the item is no longer listed, or
 * {'conflict'} when another update came first (read again).
 */
export const ITEM_LUA = `${HELPERS}${INBOX}
local now, maxlen, retms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local itempos, id = ARGV[7], ARGV[8]
trimAll(KEYS[1], KEYS[2], KEYS[3], now, maxlen, retms, tonumber(ARGV[4]))
local v = redis.call('HGET', KEYS[3], 'n:' .. id)
if not v or redis.call('HEXISTS', KEYS[4], 'g:' .. id) == 1 then return {'gone'} end
if liveIndex(v, now, retms, redis.call('HGET', KEYS[3], 'oldest')) ~= itempos then return {'gone'} end
if ARGV[6] == 'update' then
  local u = redis.call('HGET', KEYS[4], 'u:' .. id)
  local version = '1'
  if u then version = string.sub(u, 1, string.find(u, '|', 1, true) - 1) end
  if version ~= ARGV[9] then return {'conflict'} end
  redis.call('HSET', KEYS[4], 'u:' .. id, ARGV[10])
else
  redis.call('HSET', KEYS[4], 'g:' .. id, '1')
  redis.call('HDEL', KEYS[4], 'u:' .. id, 's:' .. id)
  if ARGV[13] ~= '' and redis.call('HGET', KEYS[4], 'k:' .. ARGV[13]) == itempos .. ' ' .. id then
    redis.call('HDEL', KEYS[4], 'k:' .. ARGV[13])
  end
end
local at, prev, epoch = appendEvent(KEYS[2], KEYS[3], now, '', ARGV[6], ARGV[11], ARGV[12])
trimEvents(KEYS[2], KEYS[3], now, retms, tonumber(ARGV[4]), redis.call('HGET', KEYS[3], 'trimmed'))
expireAll(ARGV[5], KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return {'ok', at, prev, epoch}
`;

/**
 * A client's inbox as listings and counts read it: brings the index up to date, then returns
 * {registration ('' = none), the meta hash, the inbox hash}, each hash as one string of names and
 * values separated by newlines (no name or value holds one: ids, positions, numbers, JSON). One
 * bulk string instead of two thousand: a client decodes it in a fraction of the time. KEYS:
 * stream, meta, inbox hash, cursor hash. ARGV: maxlen.
 */
export const INBOX_READ_LUA = `${HELPERS}${INBOX}
catchUp(KEYS[1], KEYS[2], tonumber(ARGV[1]))
return {
  redis.call('HGET', KEYS[4], 'reg') or '',
  table.concat(redis.call('HGETALL', KEYS[2]), '\\n'),
  table.concat(redis.call('HGETALL', KEYS[3]), '\\n'),
}
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
