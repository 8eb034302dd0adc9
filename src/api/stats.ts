import type { HeraldNode } from '../core/node.js';

/** `/health/connections` */
export function connectionsSnapshot(node: HeraldNode) {
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

/** `GET /api/v1/stats` and gRPC GetStats: one flat object (PROTOCOL.md "JSON shapes"). */
export function statsSnapshot(node: HeraldNode) {
  const s = node.hub.stats;
  const delivered = s.delivered.ws + s.delivered.sse + s.delivered.grpc;
  return {
    node: node.config.NODE_ID,
    state: node.state,
    ...connectionsSnapshot(node),
    devices: node.hub.connectionCount + node.hub.detachedCount,
    ...heartbeatsSnapshot(node),
    ...staleSnapshot(node),
    connects: { ...s.connects },
    disconnects: { ...s.disconnects },
    notifications: { published: s.published, delivered, dropped: s.dropped },
    deliveredByTransport: { ...s.delivered },
  };
}
