import type { TransportCounts } from './hub.js';
import type { HeraldNode } from './node.js';

/**
 * The node's counters as the operations endpoints, the publisher API and gRPC `GetStats` show them
 * (PROTOCOL.md "JSON shapes"). Here in core, not in api/, because transports serve them too (gRPC)
 * and a transport must not depend on the HTTP layer. Counts by transport have a key for every
 * registered transport kind, in registration order.
 */

/** `/health/connections` */
export interface ConnectionsSnapshot {
  total: number;
  /** Clients online (presence, grace period included). */
  clients: number;
  byTransport: TransportCounts;
}

/** Attached streams, clients online, and streams by transport. */
export function connectionsSnapshot(node: HeraldNode): ConnectionsSnapshot {
  const hub = node.hub;
  return { total: hub.connectionCount, clients: hub.presence.onlineCount, byTransport: { ...hub.byTransport } };
}

/** `/health/heartbeats` */
export function heartbeatsSnapshot(node: HeraldNode) {
  const s = node.hub.stats;
  return { sent: s.heartbeatsSent, answered: s.heartbeatsAnswered, missed: s.heartbeatsMissed, zombies: s.zombies };
}

/** `/health/stale` */
export function staleSnapshot(node: HeraldNode) {
  const s = node.hub.stats;
  // purged: registrations the PostgreSQL devices table dropped after DEVICE_RETENTION_MS (0 without it).
  return { stale: s.staleFound, cleaned: s.staleCleaned, detached: node.hub.detachedCount, purged: node.store.purgedDevices ?? 0 };
}

/** Published on this node, handed to its device streams (every transport), dropped from closed streams' queues. */
export function notificationsSnapshot(node: HeraldNode) {
  const s = node.hub.stats;
  return { published: s.published, delivered: sum(s.delivered), dropped: s.dropped };
}

/** `GET /api/v1/stats` and gRPC GetStats: one flat object (PROTOCOL.md "JSON shapes"). */
export function statsSnapshot(node: HeraldNode) {
  const s = node.hub.stats;
  return {
    node: node.config.NODE_ID,
    state: node.state,
    ...connectionsSnapshot(node),
    devices: node.hub.connectionCount + node.hub.detachedCount,
    ...heartbeatsSnapshot(node),
    ...staleSnapshot(node),
    connects: { ...s.connects },
    disconnects: { ...s.disconnects },
    notifications: notificationsSnapshot(node),
    deliveredByTransport: { ...s.delivered },
  };
}

/** The sum of a count per key (a count by transport, by close name). */
export function sum(counts: Readonly<Record<string, number>>): number {
  let n = 0;
  for (const v of Object.values(counts)) n += v;
  return n;
}
