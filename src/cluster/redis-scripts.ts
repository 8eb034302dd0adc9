import type { Redis } from 'ioredis';
import type { TransportKind } from '../core/session.js';
import type { ClusterKeys } from './keys.js';
import { type Holder, parseHolder } from './registry-entry.js';

/**
 * Lua for the distributed registry and presence, and {@link ClusterScripts}, the one place that
 * knows their arguments and replies. Every script touches the keys of ONE client only
 * (`P{client}:reg`, `P{client}:p`), so it runs atomically in one Redis Cluster slot.
 *
 * `reg` hash: device id → JSON `{n: node, s: session id, st: 'a'|'d', c: connectedAt, t: transport, dt?: detachedAt}`
 *             (read in TypeScript through registry-entry.ts)
 * `p` hash:   `online` ('1' or absent), `epoch` (the client's newest event epoch), `pend` (token of
 *             an offline transition waiting for its grace period)
 *
 * Epochs grow per client and never repeat: the next is max(last + 1, Redis time in µs), so they
 * stay ordered even after a client's keys expired. A client with no attached device lets both keys
 * expire (`keepMs`); attaching again persists them: idle clients cost Redis nothing.
 */

/** Shared Lua: the next epoch of a client (as an exact integer string: Lua's tostring would round). */
const EPOCH_FN = `
local function nextEpoch(key)
  local t = redis.call('TIME')
  local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local cur = tonumber(redis.call('HGET', key, 'epoch') or '0')
  local e = string.format('%d', math.max(cur + 1, floor))
  redis.call('HSET', key, 'epoch', e)
  return e
end
local function anyAttached(key)
  for _, raw in ipairs(redis.call('HVALS', key)) do
    if cjson.decode(raw).st == 'a' then return true end
  end
  return false
end
`;

/** Attach a stream: limits, replacement, presence. KEYS reg, p. ARGV device node sid transport now max policy */
export const CLAIM_LUA = `${EPOCH_FN}
local dev, node, sid, tr, now, max, policy = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local all = redis.call('HGETALL', KEYS[1])
local attached, prev = 0, nil
local oldestDev, oldest = nil, nil
for i = 1, #all, 2 do
  local v = cjson.decode(all[i + 1])
  if all[i] == dev then
    prev = v
  elseif v.st == 'a' then
    attached = attached + 1
    if oldest == nil or v.c < oldest.c then oldestDev, oldest = all[i], v end
  end
end
local evicted, evictedEpoch = '', '0'
if attached >= max then
  if policy == 'reject' then return {'reject'} end
  oldest.st = 'd'
  oldest.dt = now
  redis.call('HSET', KEYS[1], oldestDev, cjson.encode(oldest))
  evicted = oldestDev .. '|' .. oldest.n .. '|' .. oldest.s
  evictedEpoch = nextEpoch(KEYS[2])
end
local replaced, replacedEpoch = '', '0'
if prev and prev.st == 'a' and prev.s ~= sid then
  replaced = prev.n .. '|' .. prev.s
  replacedEpoch = nextEpoch(KEYS[2])
end
local c = now
if prev and prev.s == sid then c = prev.c end
redis.call('HSET', KEYS[1], dev, cjson.encode({n = node, s = sid, st = 'a', c = c, t = tr}))
local onlineEpoch = '0'
if redis.call('HGET', KEYS[2], 'online') ~= '1' then
  redis.call('HSET', KEYS[2], 'online', '1')
  onlineEpoch = nextEpoch(KEYS[2])
end
redis.call('HDEL', KEYS[2], 'pend')
local connEpoch = '0'
if not (prev and prev.s == sid and prev.st == 'a') then connEpoch = nextEpoch(KEYS[2]) end
redis.call('PERSIST', KEYS[1])
redis.call('PERSIST', KEYS[2])
return {'ok', replaced, replacedEpoch, evicted, evictedEpoch, onlineEpoch, connEpoch}
`;

/**
 * A stream ended on its node. KEYS reg, p. ARGV device sid now forget(0|1) token keepMs.
 * Returns {disconnectEpoch, pendingToken|''}; the registry changes only if the field still names
 * this session (a newer stream elsewhere keeps it).
 */
export const RELEASE_LUA = `${EPOCH_FN}
local dev, sid, now, forget, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local raw = redis.call('HGET', KEYS[1], dev)
if raw then
  local v = cjson.decode(raw)
  if v.s == sid then
    if forget == '1' then
      redis.call('HDEL', KEYS[1], dev)
    elseif v.st == 'a' then
      v.st = 'd'
      v.dt = now
      redis.call('HSET', KEYS[1], dev, cjson.encode(v))
    end
  end
end
local epoch = nextEpoch(KEYS[2])
if anyAttached(KEYS[1]) then return {epoch, ''} end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if redis.call('HGET', KEYS[2], 'online') == '1' then
  redis.call('HSET', KEYS[2], 'pend', token)
  return {epoch, token}
end
return {epoch, ''}
`;

/** The grace period ended. KEYS reg, p. ARGV token. Returns the offline epoch, or 0 if it did not happen. */
export const OFFLINE_LUA = `${EPOCH_FN}
if redis.call('HGET', KEYS[2], 'pend') ~= ARGV[1] then return '0' end
redis.call('HDEL', KEYS[2], 'pend')
if anyAttached(KEYS[1]) then return '0' end
redis.call('HDEL', KEYS[2], 'online')
return nextEpoch(KEYS[2])
`;

/**
 * A dead node's stream: detach it if the registry still names that node, and take the client
 * offline at once if it was the last. KEYS reg, p. ARGV device deadNode now keepMs.
 * Returns {disconnectEpoch|0, offlineEpoch|0}.
 */
export const DEAD_LUA = `${EPOCH_FN}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return {'0', '0'} end
local v = cjson.decode(raw)
if v.n ~= ARGV[2] or v.st ~= 'a' then return {'0', '0'} end
v.st = 'd'
v.dt = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(v))
local epoch = nextEpoch(KEYS[2])
if anyAttached(KEYS[1]) then return {epoch, '0'} end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if redis.call('HGET', KEYS[2], 'online') ~= '1' then return {epoch, '0'} end
redis.call('HDEL', KEYS[2], 'online', 'pend')
return {epoch, nextEpoch(KEYS[2])}
`;

/**
 * Publish a stored notification on its client's channel (the nodes holding the client subscribe to
 * it) and count the attached target devices cluster-wide, but for the excluded ones. For a store
 * that cannot publish in its own append (memory, PostgreSQL); the Redis store does both in its
 * append script. KEYS reg. ARGV command (PUBLISH or SPUBLISH) channel payload device excluded
 * (comma-separated device ids).
 */
export const ROUTE_LUA = `
local count, excluded = 0, {}
for d in string.gmatch(ARGV[5] or '', '[^,]+') do excluded[d] = true end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if (ARGV[4] == '' or all[i] == ARGV[4]) and not excluded[all[i]] and cjson.decode(all[i + 1]).st == 'a' then count = count + 1 end
end
redis.call(ARGV[1], ARGV[2], ARGV[3])
return count
`;

/** Drop a detached registration after its TTL if nothing re-attached it. KEYS reg. ARGV device olderThan. */
export const EXPIRE_DETACHED_LUA = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local v = cjson.decode(raw)
if v.st == 'd' and (v.dt or 0) <= tonumber(ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
`;

/** What a claim did: refused (client limit, policy `reject`), or attached with its consequences. */
export type ClaimReply =
  | { rejected: true }
  | {
      rejected: false;
      /** An older stream of the same device, to close (`replaced`) with this epoch. */
      replaced: (Holder & { epoch: number }) | null;
      /** The client's oldest attached device, evicted for the limit (`client-limit`) with this epoch. */
      evicted: (Holder & { deviceId: string; epoch: number }) | null;
      /** The client's `client.online` epoch when it just came online; 0 when it was online. */
      onlineEpoch: number;
      /** The `device.connected` epoch; 0 when the same session re-claimed (after an outage). */
      connectedEpoch: number;
    };

type Script = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<'heraldClaim' | 'heraldRelease' | 'heraldOffline' | 'heraldDead' | 'heraldRoute' | 'heraldExpireDetached', Script>;

/** The Lua scripts as typed calls: keys built, arguments in order, replies decoded. */
export class ClusterScripts {
  readonly #run: Scripts;
  readonly #keys: ClusterKeys;

  constructor(redis: Redis, keys: ClusterKeys) {
    redis.defineCommand('heraldClaim', { numberOfKeys: 2, lua: CLAIM_LUA });
    redis.defineCommand('heraldRelease', { numberOfKeys: 2, lua: RELEASE_LUA });
    redis.defineCommand('heraldOffline', { numberOfKeys: 2, lua: OFFLINE_LUA });
    redis.defineCommand('heraldDead', { numberOfKeys: 2, lua: DEAD_LUA });
    redis.defineCommand('heraldRoute', { numberOfKeys: 1, lua: ROUTE_LUA });
    redis.defineCommand('heraldExpireDetached', { numberOfKeys: 1, lua: EXPIRE_DETACHED_LUA });
    this.#run = redis as unknown as Scripts;
    this.#keys = keys;
  }

  /** Attaches a stream: limits, replacement and presence in one step. */
  async claim(a: {
    clientId: string;
    deviceId: string;
    node: string;
    sessionId: string;
    transport: TransportKind;
    now: number;
    maxDevices: number;
    policy: 'evict-oldest' | 'reject';
  }): Promise<ClaimReply> {
    const k = this.#keys;
    const r = (await this.#run.heraldClaim(
      k.reg(a.clientId),
      k.presence(a.clientId),
      a.deviceId,
      a.node,
      a.sessionId,
      a.transport,
      a.now,
      a.maxDevices,
      a.policy,
    )) as string[];
    if (r[0] === 'reject') return { rejected: true };
    const [, replaced, replacedEpoch, evicted, evictedEpoch, onlineEpoch, connEpoch] = r;
    const i = evicted.indexOf('|');
    return {
      rejected: false,
      replaced: replaced ? { ...parseHolder(replaced), epoch: Number(replacedEpoch) } : null,
      evicted: evicted ? { deviceId: evicted.slice(0, i), ...parseHolder(evicted.slice(i + 1)), epoch: Number(evictedEpoch) } : null,
      onlineEpoch: Number(onlineEpoch),
      connectedEpoch: Number(connEpoch),
    };
  }

  /**
   * A stream ended here: detached (or forgotten), with its `device.disconnected` epoch, and the
   * token of the offline transition to confirm after the grace period when it was the last.
   */
  async release(a: {
    clientId: string;
    deviceId: string;
    sessionId: string;
    now: number;
    forget: boolean;
    token: string;
    keepMs: number;
  }): Promise<{ epoch: number; pendingToken: string | null }> {
    const k = this.#keys;
    const [epoch, pending] = (await this.#run.heraldRelease(
      k.reg(a.clientId),
      k.presence(a.clientId),
      a.deviceId,
      a.sessionId,
      a.now,
      a.forget ? '1' : '0',
      a.token,
      a.keepMs,
    )) as string[];
    return { epoch: Number(epoch), pendingToken: pending || null };
  }

  /** The grace period ended: the `client.offline` epoch, or 0 when a device came back meanwhile. */
  async offline(clientId: string, token: string): Promise<number> {
    return Number(await this.#run.heraldOffline(this.#keys.reg(clientId), this.#keys.presence(clientId), token));
  }

  /** A dead node's stream detached: its `device.disconnected` and the client's `client.offline` epochs (0: none). */
  async dead(clientId: string, deviceId: string, deadNode: string, now: number, keepMs: number): Promise<{ disconnectEpoch: number; offlineEpoch: number }> {
    const k = this.#keys;
    const [disc, off] = (await this.#run.heraldDead(k.reg(clientId), k.presence(clientId), deviceId, deadNode, now, keepMs)) as string[];
    return { disconnectEpoch: Number(disc), offlineEpoch: Number(off) };
  }

  /** Publishes `payload` on the client's channel with `command`; the attached targets cluster-wide, `excluded` not counted. */
  async route(command: 'PUBLISH' | 'SPUBLISH', clientId: string, deviceId: string | null, payload: string, excluded: readonly string[] = []): Promise<number> {
    const k = this.#keys;
    return Number(await this.#run.heraldRoute(k.reg(clientId), command, k.channel(clientId), payload, deviceId ?? '', excluded.join(',')));
  }

  /** Drops a registration detached before `olderThan`; whether it did. */
  async expireDetached(clientId: string, deviceId: string, olderThan: number): Promise<boolean> {
    return Number(await this.#run.heraldExpireDetached(this.#keys.reg(clientId), deviceId, olderThan)) === 1;
  }
}
