import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Broker } from '../core/broker.js';
import { type Cursor, decodeCursor, encodeCursor } from '../core/cursor.js';
import type { DisconnectReason } from '../core/disconnect.js';
import { HeraldError } from '../core/errors.js';
import { Outgoing } from '../core/frames.js';
import type { Hub } from '../core/hub.js';
import type { Logger } from '../core/logger.js';
import type { PresenceEvent, PresenceEvents, PresenceTracker } from '../core/presence.js';
import type { Session, TransportKind } from '../core/session.js';
import type { ClientView, Store, StoredNotification } from '../core/types.js';
import type { WheelEntry } from '../core/wheel.js';
import { CLAIM_LUA, DEAD_LUA, EXPIRE_DETACHED_LUA, OFFLINE_LUA, RELEASE_LUA, ROUTE_LUA } from './redis-scripts.js';
import { StreamOrder } from './stream-order.js';

export interface RedisBrokerOptions {
  url: string;
  nodeId: string;
  store: Store;
  /** @default 'herald:' (same layout rules as the Redis store: no braces) */
  prefix?: string;
  nodeHeartbeatMs: number;
  nodeDeadAfterMs: number;
  detachedTtlMs: number;
  presenceGraceMs: number;
  maxDevicesPerClient: number;
  clientLimitPolicy: 'evict-oldest' | 'reject';
  log: Logger;
}

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  heraldClaim: Script;
  heraldRelease: Script;
  heraldOffline: Script;
  heraldDead: Script;
  heraldRoute: Script;
  heraldExpireDetached: Script;
}

/** A message between nodes on Redis pub/sub. */
type Wire =
  | { k: 'n'; o: string; n: StoredNotification }
  | { k: 'kick'; c: string; d: string; s: string; r: 'replaced' | 'client-limit' | 'removed'; e: number }
  | { k: 'answer'; c: string; d: string; s: string; cur: string | null };

/** Counters of what the cluster layer could not do (logged and shown in /api/v1/stats). */
export interface ClusterStats {
  redisErrors: number;
  gapsRepaired: number;
  kicksSent: number;
  deadNodesCleaned: number;
}

class OfflineCheck implements WheelEntry {
  _due = 0;
  _slot: Set<WheelEntry> | null = null;
  constructor(
    readonly broker: RedisBroker,
    readonly clientId: string,
    readonly token: string,
  ) {}
  onDue(): void {
    this.broker.offlineDue(this);
  }
}

/**
 * Presence for a cluster: transitions are decided by the Redis scripts (one online and one offline
 * per client across all nodes, with cluster-wide epochs) and emitted by the node that caused them.
 */
class ClusterPresence extends EventEmitter<PresenceEvents> implements PresenceTracker {
  constructor(readonly hub: Hub) {
    super();
  }
  deviceConnected(): void {}
  deviceDisconnected(): void {}
  isOnline(clientId: string): boolean {
    return this.hub.hasSessions(clientId);
  }
  epochOf(): number {
    return 0;
  }
  get onlineCount(): number {
    return this.hub.localClientCount;
  }
  flushPending(): void {}
}

/**
 * Several nodes on one Redis: node membership with heartbeats, the distributed registry (which node
 * holds each device), cross-node delivery to the nodes that hold a client's devices (pub/sub, with
 * gaps repaired from the store by position), cluster-wide replacement, limits and presence, and
 * cleanup of dead nodes.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly stats: ClusterStats = { redisErrors: 0, gapsRepaired: 0, kicksSent: 0, deadNodesCleaned: 0 };
  readonly #o: RedisBrokerOptions;
  readonly #p: string;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #scripts: Scripts;
  #hub: Hub | null = null;
  #presence: ClusterPresence | null = null;
  /** Ordered delivery per stream, with gaps repaired from the store. */
  #order: StreamOrder | null = null;
  /** Sessions closed by another node's claim: their disconnect event carries the claim's epoch. */
  readonly #kicked = new WeakMap<Session, number>();
  readonly #offline = new Map<string, OfflineCheck>();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #wasDown = false;

  constructor(opts: RedisBrokerOptions) {
    this.#o = opts;
    this.#p = opts.prefix ?? 'herald:';
    const base: RedisOptions = {
      lazyConnect: true,
      // Fail fast while Redis is away: a publish gets 503 instead of waiting in a queue.
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 1000),
    };
    this.#cmd = new Redis(opts.url, { ...base, connectionName: `herald-broker-${opts.nodeId}` });
    this.#sub = new Redis(opts.url, { ...base, enableOfflineQueue: true, connectionName: `herald-sub-${opts.nodeId}` });
    let lastError = '';
    const onError = (err: Error) => {
      if (err.message !== lastError) opts.log.warn({ err: err.message }, 'redis broker connection error');
      lastError = err.message;
      this.#wasDown = true;
    };
    this.#cmd.on('error', onError);
    this.#sub.on('error', onError);
    this.#cmd.on('ready', () => {
      lastError = '';
      if (this.#wasDown && !this.#closed) {
        this.#wasDown = false;
        void this.#recover();
      }
    });
    this.#cmd.defineCommand('heraldClaim', { numberOfKeys: 2, lua: CLAIM_LUA });
    this.#cmd.defineCommand('heraldRelease', { numberOfKeys: 2, lua: RELEASE_LUA });
    this.#cmd.defineCommand('heraldOffline', { numberOfKeys: 2, lua: OFFLINE_LUA });
    this.#cmd.defineCommand('heraldDead', { numberOfKeys: 2, lua: DEAD_LUA });
    this.#cmd.defineCommand('heraldRoute', { numberOfKeys: 1, lua: ROUTE_LUA });
    this.#cmd.defineCommand('heraldExpireDetached', { numberOfKeys: 1, lua: EXPIRE_DETACHED_LUA });
    this.#scripts = this.#cmd as unknown as Scripts;
  }

  /** How long a client's registry and presence keys outlive its last attached device. */
  get #keepMs(): number {
    return this.#o.detachedTtlMs + this.#o.presenceGraceMs + this.#o.nodeHeartbeatMs;
  }

  #reg(clientId: string): string {
    return `${this.#p}{${clientId}}:reg`;
  }
  #pres(clientId: string): string {
    return `${this.#p}{${clientId}}:p`;
  }
  #inbox(nodeId: string): string {
    return `${this.#p}inbox:${nodeId}`;
  }
  get #nodesKey(): string {
    return `${this.#p}nodes`;
  }
  #nodeConns(nodeId: string): string {
    return `${this.#p}node:${nodeId}:conns`;
  }
  #nodeDevices(nodeId: string): string {
    return `${this.#p}node:${nodeId}:dev`;
  }
  get #detachedKey(): string {
    return `${this.#p}detached`;
  }

  /** The hub's presence: transitions decided in Redis, emitted by the node that caused them. */
  createPresence(hub: Hub): PresenceTracker {
    this.#presence = new ClusterPresence(hub);
    return this.#presence;
  }

  async start(hub: Hub): Promise<void> {
    if (!this.#presence || hub.presence !== this.#presence) throw new Error('RedisBroker: build the hub with presence from broker.createPresence');
    this.#hub = hub;
    const store = this.#o.store;
    this.#order = new StreamOrder({
      holds: (clientId) => (clientId === null ? hub.connectionCount > 0 : hub.hasSessions(clientId)),
      range: (clientId, after, upTo) => store.range(clientId, after, upTo, Date.now()),
      head: async (clientId) => {
        const heads = await store.heads(clientId ?? '-');
        return clientId === null ? heads.b : heads.c;
      },
      deliver: (n) => hub.deliver(new Outgoing(n)),
      repaired: () => this.stats.gapsRepaired++,
      failed: (what, err) => this.#failed(what, err),
    });
    await this.#cmd.connect();
    await this.#sub.connect();
    this.#sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#onMessage(message));
    await this.#sub.subscribe(this.#inbox(this.#o.nodeId), `${this.#p}broadcast`);
    hub.on('attached', (s) => this.#claim(s));
    hub.on('detached', (s, reason, removed) => this.#release(s, reason, removed));
    hub.on('live', (s, head) => this.#order?.sessionLive(s.device.clientId, head));
    await this.#heartbeat();
    this.#timer = setInterval(() => void this.#heartbeat(), this.#o.nodeHeartbeatMs);
    this.#timer.unref();
  }

  #emit(e: PresenceEvent): void {
    this.#presence?.emit('event', e);
  }

  #failed(what: string, err: unknown): void {
    this.stats.redisErrors++;
    this.#o.log.warn({ err: (err as Error)?.message ?? String(err) }, `cluster: ${what} failed`);
  }

  // ---- registry: claim and release ----

  #claim(s: Session): void {
    const d = s.device;
    const now = Date.now();
    this.#cmd.sadd(this.#nodeConns(this.#o.nodeId), d.connectionId).catch(() => {});
    this.#scripts
      .heraldClaim(
        this.#reg(d.clientId),
        this.#pres(d.clientId),
        d.deviceId,
        this.#o.nodeId,
        s.sid,
        s.conn.kind,
        now,
        this.#o.maxDevicesPerClient,
        this.#o.clientLimitPolicy,
      )
      .then((reply) => {
        const r = reply as string[];
        if (r[0] === 'reject') {
          s.close('client-limit');
          return;
        }
        const [, replaced, replacedEpoch, evicted, evictedEpoch, onlineEpoch, connEpoch] = r;
        if (replaced) this.#kick(d.clientId, d.deviceId, replaced, 'replaced', Number(replacedEpoch));
        if (evicted) {
          const [dev, ...rest] = evicted.split('|');
          this.#kick(d.clientId, dev, rest.join('|'), 'client-limit', Number(evictedEpoch));
        }
        const pending = this.#offline.get(d.clientId);
        if (pending) {
          this.#hub?.wheel.cancel(pending);
          this.#offline.delete(d.clientId);
        }
        if (onlineEpoch !== '0') this.#emit({ type: 'client.online', clientId: d.clientId, ts: now, epoch: Number(onlineEpoch) });
        if (connEpoch !== '0')
          this.#emit({
            type: 'device.connected',
            clientId: d.clientId,
            deviceId: d.deviceId,
            transport: s.conn.kind as TransportKind,
            ts: now,
            epoch: Number(connEpoch),
          });
      })
      .catch((err) => this.#failed('claim', err));
  }

  /** Tells the node holding an older stream of a device to close it (or closes it here). */
  #kick(clientId: string, deviceId: string, holder: string, reason: 'replaced' | 'client-limit', epoch: number): void {
    const i = holder.indexOf('|');
    const node = holder.slice(0, i);
    const sid = holder.slice(i + 1);
    if (node === this.#o.nodeId) {
      this.#onKick(clientId, deviceId, sid, reason, epoch);
      return;
    }
    this.stats.kicksSent++;
    const wire: Wire = { k: 'kick', c: clientId, d: deviceId, s: sid, r: reason, e: epoch };
    this.#cmd.publish(this.#inbox(node), JSON.stringify(wire)).catch((err) => this.#failed('kick', err));
  }

  #onKick(clientId: string, deviceId: string, sid: string, reason: 'replaced' | 'client-limit' | 'removed', epoch: number): void {
    if (reason === 'removed') {
      // The holder's own release forgets the registration (and takes its own epoch).
      this.#hub?.remove(clientId, deviceId);
      return;
    }
    const s = this.#hub?.device(clientId, deviceId)?.session;
    if (!s || s.sid !== sid) return;
    this.#kicked.set(s, epoch);
    s.close(reason);
  }

  async attachedDevices(clientId: string): Promise<Set<string>> {
    const all = await this.#cmd.hgetall(this.#reg(clientId));
    const out = new Set<string>();
    for (const [deviceId, raw] of Object.entries(all)) if ((JSON.parse(raw) as { st: string }).st === 'a') out.add(deviceId);
    return out;
  }

  async forwardAnswer(clientId: string, deviceId: string, transport: TransportKind, cursor: Cursor | null): Promise<boolean> {
    const raw = await this.#cmd.hget(this.#reg(clientId), deviceId);
    if (raw === null) return false;
    const v = JSON.parse(raw) as { n: string; s: string; st: string; t: string };
    if (v.st !== 'a' || v.t !== transport || v.n === this.#o.nodeId) return false;
    const wire: Wire = { k: 'answer', c: clientId, d: deviceId, s: v.s, cur: cursor ? encodeCursor(cursor) : null };
    await this.#cmd.publish(this.#inbox(v.n), JSON.stringify(wire));
    return true;
  }

  #onAnswer(clientId: string, deviceId: string, sid: string, cursor: string | null): void {
    const s = this.#hub?.device(clientId, deviceId)?.session;
    if (!s || s.sid !== sid) return;
    s.inbound('pong', Date.now());
    const c = cursor === null ? undefined : decodeCursor(cursor);
    if (c) s.ack(c);
  }

  /** Removes a device wherever it is: its holder closes it 4003; a detached registration is dropped. */
  async remove(clientId: string, deviceId: string): Promise<boolean> {
    const raw = await this.#cmd.hget(this.#reg(clientId), deviceId);
    if (raw === null) return false;
    const v = JSON.parse(raw) as { n: string; s: string; st: string };
    if (v.st === 'a' && v.n !== this.#o.nodeId) {
      const wire: Wire = { k: 'kick', c: clientId, d: deviceId, s: v.s, r: 'removed', e: 0 };
      await this.#cmd.publish(this.#inbox(v.n), JSON.stringify(wire));
    } else if (v.st !== 'a') {
      await this.#cmd.hdel(this.#reg(clientId), deviceId);
    }
    return true;
  }

  #release(s: Session, reason: DisconnectReason, removed: boolean): void {
    const d = s.device;
    const now = Date.now();
    this.#order?.sessionLeft(d.clientId);
    this.#cmd.srem(this.#nodeConns(this.#o.nodeId), d.connectionId).catch(() => {});
    const kickedEpoch = this.#kicked.get(s);
    if (kickedEpoch !== undefined) {
      this.#emit({ type: 'device.disconnected', clientId: d.clientId, deviceId: d.deviceId, reason, ts: now, epoch: kickedEpoch });
      return;
    }
    const token = randomBytes(8).toString('hex');
    this.#scripts
      .heraldRelease(this.#reg(d.clientId), this.#pres(d.clientId), d.deviceId, s.sid, now, removed ? '1' : '0', token, this.#keepMs)
      .then((reply) => {
        const [epoch, pending] = reply as string[];
        this.#emit({ type: 'device.disconnected', clientId: d.clientId, deviceId: d.deviceId, reason, ts: now, epoch: Number(epoch) });
        if (!removed) this.#cmd.zadd(this.#detachedKey, now, d.connectionId).catch(() => {});
        if (pending) {
          const check = new OfflineCheck(this, d.clientId, pending);
          const old = this.#offline.get(d.clientId);
          if (old) this.#hub?.wheel.cancel(old);
          this.#offline.set(d.clientId, check);
          if (this.#o.presenceGraceMs === 0) this.offlineDue(check);
          else this.#hub?.wheel.schedule(check, now + this.#o.presenceGraceMs);
        }
      })
      .catch((err) => this.#failed('release', err));
  }

  /** @internal the grace period of a pending offline ended */
  offlineDue(check: OfflineCheck): void {
    if (this.#offline.get(check.clientId) === check) this.#offline.delete(check.clientId);
    this.#scripts
      .heraldOffline(this.#reg(check.clientId), this.#pres(check.clientId), check.token)
      .then((epoch) => {
        if (Number(epoch) > 0) this.#emit({ type: 'client.offline', clientId: check.clientId, ts: Date.now(), epoch: Number(epoch) });
      })
      .catch((err) => this.#failed('offline check', err));
  }

  async admit(clientId: string, deviceId: string): Promise<void> {
    if (this.#o.clientLimitPolicy !== 'reject') return;
    let all: Record<string, string>;
    try {
      all = await this.#cmd.hgetall(this.#reg(clientId));
    } catch (err) {
      throw new HeraldError('HERALD_ERR_STORE_UNAVAILABLE', 'the cluster registry is unreachable', { cause: err });
    }
    let attached = 0;
    for (const [dev, raw] of Object.entries(all)) if (dev !== deviceId && JSON.parse(raw).st === 'a') attached++;
    if (attached >= this.#o.maxDevicesPerClient) {
      throw new HeraldError(
        'HERALD_ERR_CLIENT_LIMIT',
        `client ${clientId} has ${attached} devices attached across the cluster (limit ${this.#o.maxDevicesPerClient})`,
      );
    }
  }

  // ---- delivery ----

  async route(n: StoredNotification): Promise<number> {
    const payload = JSON.stringify({ k: 'n', o: this.#o.nodeId, n } satisfies Wire);
    if (n.clientId === null) {
      const local = this.#deliver(n);
      await this.#cmd.publish(`${this.#p}broadcast`, payload).catch((err) => this.#failed('broadcast publish', err));
      return local;
    }
    const local = this.#deliver(n);
    try {
      return Number(await this.#scripts.heraldRoute(this.#reg(n.clientId), `${this.#p}inbox:`, this.#o.nodeId, payload, n.deviceId ?? ''));
    } catch (err) {
      // Stored already: devices elsewhere get it on their next resume (or the gap repair).
      this.#failed('route', err);
      return local;
    }
  }

  #onMessage(raw: Buffer): void {
    let wire: Wire;
    try {
      wire = JSON.parse(raw.toString()) as Wire;
    } catch {
      return;
    }
    if (wire.k === 'kick') this.#onKick(wire.c, wire.d, wire.s, wire.r, wire.e);
    else if (wire.k === 'answer') this.#onAnswer(wire.c, wire.d, wire.s, wire.cur);
    else if (wire.o !== this.#o.nodeId) this.#deliver(wire.n);
  }

  #deliver(n: StoredNotification): number {
    return this.#order?.arrived(n) ?? 0;
  }

  /** After Redis came back: re-register live streams and fetch what pub/sub may have dropped. */
  async #recover(): Promise<void> {
    const hub = this.#hub;
    if (!hub) return;
    this.#o.log.info({ sessions: hub.connectionCount }, 'cluster: redis is back; re-registering and repairing');
    for (const s of hub.sessions()) if (s.state === 'live') this.#claim(s);
    await this.#order?.recover();
  }

  // ---- membership ----

  async #heartbeat(): Promise<void> {
    const hub = this.#hub;
    if (!hub || this.#closed) return;
    const now = Date.now();
    const me = this.#o.nodeId;
    try {
      const batch = this.#cmd.pipeline();
      batch.zadd(this.#nodesKey, now, me);
      batch.set(`${this.#p}node:${me}`, String(now), 'PX', this.#o.nodeDeadAfterMs);
      // Device figures for the cluster-wide client view: one write per node per heartbeat.
      const fields: string[] = [];
      for (const s of hub.sessions()) {
        const d = s.device;
        fields.push(d.connectionId, JSON.stringify([d.lastHeartbeatAt, d.lastNotificationAt, d.notificationCount, d.rttMs]));
      }
      batch.del(this.#nodeDevices(me));
      if (fields.length) batch.hset(this.#nodeDevices(me), ...fields);
      batch.pexpire(this.#nodeDevices(me), this.#o.nodeDeadAfterMs * 2);
      const results = await batch.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
      const dead = await this.#cmd.zrangebyscore(this.#nodesKey, '-inf', now - this.#o.nodeDeadAfterMs);
      for (const node of dead) if (node !== me) await this.#cleanDeadNode(node, now);
      await this.#expireDetached(now);
    } catch (err) {
      this.#failed('node heartbeat', err);
    }
  }

  /** Marks a dead node's devices detached and corrects presence (whichever survivor gets there first). */
  async #cleanDeadNode(node: string, now: number): Promise<void> {
    const conns = await this.#cmd.smembers(this.#nodeConns(node));
    for (const connectionId of conns) {
      const i = connectionId.indexOf(':');
      const clientId = connectionId.slice(0, i);
      const deviceId = connectionId.slice(i + 1);
      const [disc, off] = (await this.#scripts.heraldDead(this.#reg(clientId), this.#pres(clientId), deviceId, node, now, this.#keepMs)) as string[];
      if (Number(disc) > 0) {
        this.#emit({ type: 'device.disconnected', clientId, deviceId, reason: 'zombie', ts: now, epoch: Number(disc) });
        await this.#cmd.zadd(this.#detachedKey, now, connectionId);
      }
      if (Number(off) > 0) this.#emit({ type: 'client.offline', clientId, ts: now, epoch: Number(off) });
    }
    await this.#cmd.del(this.#nodeConns(node));
    await this.#cmd.del(this.#nodeDevices(node));
    await this.#cmd.zrem(this.#nodesKey, node);
    this.stats.deadNodesCleaned++;
    this.#o.log.warn({ node, devices: conns.length }, 'cluster: dead node cleaned up');
  }

  async #expireDetached(now: number): Promise<void> {
    const olderThan = now - this.#o.detachedTtlMs;
    const due = await this.#cmd.zrangebyscore(this.#detachedKey, '-inf', olderThan, 'LIMIT', 0, 500);
    for (const connectionId of due) {
      const i = connectionId.indexOf(':');
      await this.#scripts.heraldExpireDetached(this.#reg(connectionId.slice(0, i)), connectionId.slice(i + 1), olderThan);
      await this.#cmd.zrem(this.#detachedKey, connectionId);
    }
  }

  /** Live node ids (announced within NODE_DEAD_AFTER_MS). */
  async nodes(): Promise<string[]> {
    return this.#cmd.zrangebyscore(this.#nodesKey, Date.now() - this.#o.nodeDeadAfterMs, '+inf');
  }

  /** Live nodes with their attached device streams and last heartbeat (the operator dashboard). */
  async nodeConnections(): Promise<{ id: string; connections: number; lastSeenAt: number }[]> {
    const flat = await this.#cmd.zrangebyscore(this.#nodesKey, Date.now() - this.#o.nodeDeadAfterMs, '+inf', 'WITHSCORES');
    const ids: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      ids.push(flat[i]);
      seen.push(Number(flat[i + 1]));
    }
    const batch = this.#cmd.pipeline();
    for (const id of ids) batch.scard(this.#nodeConns(id));
    const counts = ids.length ? ((await batch.exec()) ?? []) : [];
    return ids.map((id, i) => ({ id, connections: Number(counts[i]?.[1] ?? 0), lastSeenAt: seen[i] }));
  }

  async clientView(clientId: string): Promise<ClientView | null> {
    const [all, pres] = await Promise.all([this.#cmd.hgetall(this.#reg(clientId)), this.#cmd.hgetall(this.#pres(clientId))]);
    const entries = Object.entries(all).map(([deviceId, raw]) => ({
      deviceId,
      v: JSON.parse(raw) as { n: string; s: string; st: 'a' | 'd'; c: number; t: string },
    }));
    const figures = await Promise.all(
      entries.map(({ deviceId, v }) =>
        this.#cmd.hget(this.#nodeDevices(v.n), `${clientId}:${deviceId}`).then((f) => (f ? (JSON.parse(f) as (number | null)[]) : null)),
      ),
    );
    return {
      clientId,
      online: pres.online === '1',
      epoch: Number(pres.epoch ?? 0),
      devices: entries.map(({ deviceId, v }, i) => {
        const local = this.#hub?.device(clientId, deviceId);
        const f =
          local?.session && v.n === this.#o.nodeId
            ? [local.lastHeartbeatAt, local.lastNotificationAt, local.notificationCount, local.rttMs]
            : (figures[i] ?? [null, null, 0, null]);
        return {
          deviceId,
          connectionId: `${clientId}:${deviceId}`,
          transport: v.t,
          state: v.st === 'a' ? 'attached' : 'detached',
          node: v.n,
          connectedAt: v.c,
          lastHeartbeatAt: f[0] ?? null,
          lastNotificationAt: f[1] ?? null,
          notificationCount: f[2] ?? 0,
          rttMs: f[3] ?? null,
        };
      }),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const check of this.#offline.values()) this.#hub?.wheel.cancel(check);
    // Leave the cluster cleanly: drop this node's membership so peers need not wait for it to die.
    try {
      await this.#cmd.zrem(this.#nodesKey, this.#o.nodeId);
      await this.#cmd.del(`${this.#p}node:${this.#o.nodeId}`);
      await this.#cmd.del(this.#nodeDevices(this.#o.nodeId));
    } catch {}
    this.#sub.disconnect();
    await this.#cmd.quit().catch(() => this.#cmd.disconnect());
  }
}
