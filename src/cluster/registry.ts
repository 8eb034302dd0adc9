import { randomBytes } from 'node:crypto';
import type { Cursor } from '../core/cursor.js';
import type { DisconnectReason } from '../core/disconnect.js';
import { HeraldError } from '../core/errors.js';
import { connectionIdOf } from '../core/ids.js';
import type { Session, TransportKind } from '../core/session.js';
import type { ClientView, DeviceView } from '../core/types.js';
import type { ClusterContext } from './context.js';
import type { NodeControl } from './control.js';
import { type DeviceFigures, decodeFigures } from './membership.js';
import { decodeRegistryEntry, type RegistryEntry } from './registry-entry.js';

/** Figures of a device its node has not announced: never seen. */
const NO_FIGURES: DeviceFigures = { lastHeartbeatAt: null, lastNotificationAt: null, notificationCount: 0, rttMs: null };

/**
 * The distributed registry: which node holds each device's stream, attached or detached, in one
 * Redis hash per client changed only by the Lua scripts. Claims (replacement and the device limit
 * across nodes), releases, presence transitions and the cluster-wide client view. Routing reads
 * no registry: nodes subscribe to the channels of the clients they hold (channels.ts).
 */
export class ClusterRegistry {
  readonly #ctx: ClusterContext;
  readonly #control: NodeControl;
  /**
   * The newest claim or release of each device issued on this node (settled or not): the next one
   * waits for it, so they run in Redis in the order the hub's events came. A Redis Cluster client
   * can write a command after later ones (it holds commands for a shard whose connection is not
   * ready, and sends redirected ones again): a stream's claim run after its own release and after
   * the claim of the device's next stream took the device back from that stream, and closed it
   * 4002 `replaced` before its welcome. Emptied as they settle.
   */
  readonly #lastChange = new Map<string, Promise<void>>();

  constructor(ctx: ClusterContext, control: NodeControl) {
    this.#ctx = ctx;
    this.#control = control;
  }

  /** The client's registry, decoded; a malformed entry is logged and left out. */
  async entries(clientId: string): Promise<Map<string, RegistryEntry>> {
    const all = await this.#ctx.cmd.hgetall(this.#ctx.keys.reg(clientId));
    const out = new Map<string, RegistryEntry>();
    for (const [deviceId, raw] of Object.entries(all)) {
      const e = this.#decode(clientId, deviceId, raw);
      if (e) out.set(deviceId, e);
    }
    return out;
  }

  /** One device's entry, or null when it has none (or a malformed one, logged). */
  async entry(clientId: string, deviceId: string): Promise<RegistryEntry | null> {
    const raw = await this.#ctx.cmd.hget(this.#ctx.keys.reg(clientId), deviceId);
    return raw === null ? null : this.#decode(clientId, deviceId, raw);
  }

  #decode(clientId: string, deviceId: string, raw: string): RegistryEntry | null {
    const e = decodeRegistryEntry(raw);
    if (!e) this.#ctx.log.warn({ clientId, deviceId, raw: raw.slice(0, 200) }, 'cluster: malformed registry entry ignored');
    return e;
  }

  // ---- claim and release (the hub's attached / detached events) ----

  /** A stream attached here: claim it cluster-wide; close what it replaces or evicts; presence. */
  claim(s: Session): void {
    const ctx = this.#ctx;
    const d = s.device;
    const now = Date.now();
    this.#inOrder(d.clientId, d.deviceId, () => {
      // The node's set of connections holds one id per device: added and removed in order too.
      ctx.cmd.sadd(ctx.keys.nodeConns(ctx.nodeId), d.connectionId).catch((err) => ctx.failed('node connection add', err));
      return ctx.scripts.claim({
        clientId: d.clientId,
        deviceId: d.deviceId,
        node: ctx.nodeId,
        sessionId: s.sid,
        transport: s.conn.kind,
        now,
        maxDevices: ctx.opts.maxDevicesPerClient,
        policy: ctx.opts.clientLimitPolicy,
      });
    })
      .then((r) => {
        if (r.rejected) {
          s.close('client-limit');
          return;
        }
        if (r.replaced) this.#control.kick(d.clientId, d.deviceId, r.replaced, 'replaced', r.replaced.epoch);
        if (r.evicted) this.#control.kick(d.clientId, r.evicted.deviceId, r.evicted, 'client-limit', r.evicted.epoch);
        ctx.presence.cancelOffline(d.clientId);
        if (r.onlineEpoch !== 0) ctx.presence.announce({ type: 'client.online', clientId: d.clientId, ts: now, epoch: r.onlineEpoch });
        if (r.connectedEpoch !== 0) {
          ctx.presence.announce({
            type: 'device.connected',
            clientId: d.clientId,
            deviceId: d.deviceId,
            transport: s.conn.kind,
            ts: now,
            epoch: r.connectedEpoch,
          });
        }
      })
      .catch((err) => ctx.failed('claim', err));
  }

  /** A stream ended here: detach (or forget) it cluster-wide; offline after the grace period if it was the last. */
  release(s: Session, reason: DisconnectReason, removed: boolean): void {
    const ctx = this.#ctx;
    const d = s.device;
    const now = Date.now();
    const unlisted = () => ctx.cmd.srem(ctx.keys.nodeConns(ctx.nodeId), d.connectionId).catch((err) => ctx.failed('node connection remove', err));
    const kickedEpoch = this.#control.kickedEpoch(s);
    if (kickedEpoch !== undefined) {
      // Replaced or evicted by a claim elsewhere: that claim already changed the registry.
      void this.#inOrder(d.clientId, d.deviceId, unlisted);
      ctx.presence.announce({ type: 'device.disconnected', clientId: d.clientId, deviceId: d.deviceId, reason, ts: now, epoch: kickedEpoch });
      return;
    }
    const token = randomBytes(8).toString('hex');
    this.#inOrder(d.clientId, d.deviceId, () => {
      void unlisted();
      return ctx.scripts.release({ clientId: d.clientId, deviceId: d.deviceId, sessionId: s.sid, now, forget: removed, token, keepMs: ctx.keepMs });
    })
      .then((r) => {
        ctx.presence.announce({ type: 'device.disconnected', clientId: d.clientId, deviceId: d.deviceId, reason, ts: now, epoch: r.epoch });
        if (!removed) ctx.cmd.zadd(ctx.keys.detached, now, d.connectionId).catch((err) => ctx.failed('detached index', err));
        if (r.pendingToken) ctx.presence.offlineAfterGrace(d.clientId, r.pendingToken, now);
      })
      .catch((err) => ctx.failed('release', err));
  }

  /** Runs `change` once the device's previous claim or release on this node has settled. */
  #inOrder<T>(clientId: string, deviceId: string, change: () => Promise<T>): Promise<T> {
    const key = `${clientId}\n${deviceId}`;
    const previous = this.#lastChange.get(key);
    const result = previous ? previous.then(change) : change();
    const settled = result.then(
      () => {},
      () => {},
    );
    this.#lastChange.set(key, settled);
    void settled.then(() => {
      if (this.#lastChange.get(key) === settled) this.#lastChange.delete(key);
    });
    return result;
  }

  /** Claims and releases still running or waiting on this node (tests: back to 0 after churn). */
  get changesInFlight(): number {
    return this.#lastChange.size;
  }

  // ---- reads and requests of the API ----

  /** The client limit across the cluster, before a stream starts (policy `reject` only). */
  async admit(clientId: string, deviceId: string): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.opts.clientLimitPolicy !== 'reject') return;
    let all: Map<string, RegistryEntry>;
    try {
      all = await this.entries(clientId);
    } catch (err) {
      throw new HeraldError('HERALD_ERR_STORE_UNAVAILABLE', 'the cluster registry is unreachable', { cause: err });
    }
    let attached = 0;
    for (const [dev, e] of all) if (dev !== deviceId && e.state === 'attached') attached++;
    if (attached >= ctx.opts.maxDevicesPerClient) {
      throw new HeraldError(
        'HERALD_ERR_CLIENT_LIMIT',
        `client ${clientId} has ${attached} devices attached across the cluster (limit ${ctx.opts.maxDevicesPerClient})`,
      );
    }
  }

  /** The client's devices attached anywhere (Web Push skips them). */
  async attachedDevices(clientId: string): Promise<Set<string>> {
    const out = new Set<string>();
    for (const [deviceId, e] of await this.entries(clientId)) if (e.state === 'attached') out.add(deviceId);
    return out;
  }

  /** Hands a heartbeat answer to the node holding the device's stream of that transport; false when none (or it is this node). */
  async forwardAnswer(clientId: string, deviceId: string, transport: TransportKind, cursor: Cursor | null): Promise<boolean> {
    const e = await this.entry(clientId, deviceId);
    if (e?.state !== 'attached' || e.transport !== transport || e.node === this.#ctx.nodeId) return false;
    await this.#control.answer(clientId, deviceId, e, cursor);
    return true;
  }

  /** Removes a device wherever it is: its holder closes it 4003; a detached registration is dropped. */
  async remove(clientId: string, deviceId: string): Promise<boolean> {
    const e = await this.entry(clientId, deviceId);
    if (!e) return false;
    if (e.state === 'attached' && e.node !== this.#ctx.nodeId) await this.#control.remove(clientId, deviceId, e);
    else if (e.state !== 'attached') await this.#ctx.cmd.hdel(this.#ctx.keys.reg(clientId), deviceId);
    return true;
  }

  /** The client's devices on every node, with each holder's latest figures (this node's: live). */
  async clientView(clientId: string): Promise<ClientView> {
    const ctx = this.#ctx;
    const [entries, pres] = await Promise.all([this.entries(clientId), ctx.cmd.hgetall(ctx.keys.presence(clientId))]);
    const list = [...entries];
    const figures = await Promise.all(list.map(([deviceId, e]) => this.#figures(clientId, deviceId, e)));
    return {
      clientId,
      online: pres.online === '1',
      epoch: Number(pres.epoch ?? 0),
      devices: list.map(([deviceId, e], i) => deviceViewOf(clientId, deviceId, e, figures[i])),
    };
  }

  async #figures(clientId: string, deviceId: string, e: RegistryEntry): Promise<DeviceFigures> {
    const local = this.#ctx.hub.device(clientId, deviceId);
    if (local?.session && e.node === this.#ctx.nodeId) return local;
    const raw = await this.#ctx.cmd.hget(this.#ctx.keys.nodeDevices(e.node), connectionIdOf(clientId, deviceId));
    if (raw === null) return NO_FIGURES; // its node has not announced it yet
    const f = decodeFigures(raw);
    if (!f) this.#ctx.log.warn({ clientId, deviceId, node: e.node }, 'cluster: malformed device figures ignored');
    return f ?? NO_FIGURES;
  }
}

function deviceViewOf(clientId: string, deviceId: string, e: RegistryEntry, f: DeviceFigures): DeviceView {
  return {
    deviceId,
    connectionId: connectionIdOf(clientId, deviceId),
    transport: e.transport,
    state: e.state,
    node: e.node,
    connectedAt: e.connectedAt,
    lastHeartbeatAt: f.lastHeartbeatAt,
    lastNotificationAt: f.lastNotificationAt,
    notificationCount: f.notificationCount,
    rttMs: f.rttMs,
  };
}
