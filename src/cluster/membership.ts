import { parseConnectionId } from '../core/ids.js';
import type { DeviceRecord } from '../core/session.js';
import type { ClusterContext } from './context.js';
import { parseJsonOrUndefined } from './wire.js';

/** A device's figures a node publishes for the cluster-wide client view (`GET /api/v1/clients/<c>`). */
export type DeviceFigures = Pick<DeviceRecord, 'lastHeartbeatAt' | 'lastNotificationAt' | 'notificationCount' | 'rttMs'>;

/** `[lastHeartbeatAt, lastNotificationAt, notificationCount, rttMs]`: one field per device, written every heartbeat. */
export function encodeFigures(d: DeviceFigures): string {
  return JSON.stringify([d.lastHeartbeatAt, d.lastNotificationAt, d.notificationCount, d.rttMs]);
}

const numberOrNull = (v: unknown) => (typeof v === 'number' ? v : null);

/** Decodes {@link encodeFigures}; null when `raw` is not such a list. */
export function decodeFigures(raw: string): DeviceFigures | null {
  const f = parseJsonOrUndefined(raw);
  if (!Array.isArray(f)) return null;
  return { lastHeartbeatAt: numberOrNull(f[0]), lastNotificationAt: numberOrNull(f[1]), notificationCount: numberOrNull(f[2]) ?? 0, rttMs: numberOrNull(f[3]) };
}

/** A live node as the operator dashboard lists it. */
export interface NodeMember {
  id: string;
  /** Attached device streams on that node. */
  connections: number;
  /** Its last heartbeat, ms since epoch. */
  lastSeenAt: number;
}

/**
 * Node membership: every NODE_HEARTBEAT_MS a node announces itself (and its devices' figures) and
 * checks its peers; a peer silent for NODE_DEAD_AFTER_MS is dead, and whichever survivor gets there
 * first detaches its devices and corrects presence. Detached registrations older than
 * DETACHED_TTL_MS are dropped on the same beat.
 */
export class Membership {
  readonly #ctx: ClusterContext;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(ctx: ClusterContext) {
    this.#ctx = ctx;
  }

  /** Announces this node now, then every NODE_HEARTBEAT_MS. */
  async start(): Promise<void> {
    await this.#heartbeat();
    if (this.#stopped) return;
    this.#timer = setInterval(() => void this.#heartbeat(), this.#ctx.opts.nodeHeartbeatMs);
    this.#timer.unref();
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped) return;
    const ctx = this.#ctx;
    const now = Date.now();
    try {
      await this.#announce(now);
      const dead = await ctx.cmd.zrangebyscore(ctx.keys.nodes, '-inf', now - ctx.opts.nodeDeadAfterMs);
      for (const node of dead) if (node !== ctx.nodeId) await this.#cleanDeadNode(node, now);
      await this.#expireDetached(now);
    } catch (err) {
      ctx.failed('node heartbeat', err);
    }
  }

  /**
   * This node's heartbeat and its devices' figures, written back to back once per beat (not a
   * pipeline object: on a Redis Cluster the keys live on different shards, and ioredis sends each
   * command to its own; on one server they go out together all the same).
   */
  async #announce(now: number): Promise<void> {
    const { cmd, keys, nodeId, opts, hub } = this.#ctx;
    const fields: string[] = [];
    for (const s of hub.sessions()) fields.push(s.device.connectionId, encodeFigures(s.device));
    const dev = keys.nodeDevices(nodeId);
    await Promise.all([
      cmd.zadd(keys.nodes, now, nodeId),
      cmd.set(keys.node(nodeId), String(now), 'PX', opts.nodeDeadAfterMs),
      cmd.del(dev),
      fields.length ? cmd.hset(dev, ...fields) : null,
      cmd.pexpire(dev, opts.nodeDeadAfterMs * 2),
    ]);
  }

  /** Marks a dead node's devices detached and corrects presence (whichever survivor gets there first). */
  async #cleanDeadNode(node: string, now: number): Promise<void> {
    const { cmd, keys, scripts, presence, keepMs } = this.#ctx;
    const conns = await cmd.smembers(keys.nodeConns(node));
    for (const connectionId of conns) {
      const ids = parseConnectionId(connectionId);
      if (!ids) {
        this.#ctx.log.warn({ node, connectionId }, 'cluster: malformed connection id in a node set ignored');
        continue;
      }
      const { clientId, deviceId } = ids;
      const r = await scripts.dead(clientId, deviceId, node, now, keepMs);
      if (r.disconnectEpoch > 0) {
        presence.announce({ type: 'device.disconnected', clientId, deviceId, reason: 'zombie', ts: now, epoch: r.disconnectEpoch });
        await cmd.zadd(keys.detached, now, connectionId);
      }
      if (r.offlineEpoch > 0) presence.announce({ type: 'client.offline', clientId, ts: now, epoch: r.offlineEpoch });
    }
    await cmd.del(keys.nodeConns(node));
    await cmd.del(keys.nodeDevices(node));
    await cmd.zrem(keys.nodes, node);
    this.#ctx.stats.deadNodesCleaned++;
    this.#ctx.log.warn({ node, devices: conns.length }, 'cluster: dead node cleaned up');
  }

  async #expireDetached(now: number): Promise<void> {
    const { cmd, keys, scripts, opts } = this.#ctx;
    const olderThan = now - opts.detachedTtlMs;
    const due = await cmd.zrangebyscore(keys.detached, '-inf', olderThan, 'LIMIT', 0, 500);
    for (const connectionId of due) {
      const ids = parseConnectionId(connectionId);
      if (ids) await scripts.expireDetached(ids.clientId, ids.deviceId, olderThan);
      await cmd.zrem(keys.detached, connectionId);
    }
  }

  /** Live nodes (announced within NODE_DEAD_AFTER_MS) with their attached streams and last heartbeat. */
  async members(): Promise<NodeMember[]> {
    const { cmd, keys, opts } = this.#ctx;
    const flat = await cmd.zrangebyscore(keys.nodes, Date.now() - opts.nodeDeadAfterMs, '+inf', 'WITHSCORES');
    const ids: string[] = [];
    const seen: number[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      ids.push(flat[i]);
      seen.push(Number(flat[i + 1]));
    }
    const counts = await Promise.all(ids.map((id) => cmd.scard(keys.nodeConns(id))));
    return ids.map((id, i) => ({ id, connections: counts[i], lastSeenAt: seen[i] }));
  }

  /** Leaves the cluster cleanly: peers need not wait for this node to be found dead. */
  async leave(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    const { cmd, keys, nodeId } = this.#ctx;
    try {
      await cmd.zrem(keys.nodes, nodeId);
      await cmd.del(keys.node(nodeId));
      await cmd.del(keys.nodeDevices(nodeId));
    } catch (err) {
      this.#ctx.failed('leaving the cluster', err);
    }
  }
}
