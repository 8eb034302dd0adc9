import type { HeraldConfig } from '../../core/config.js';
import type { HeraldNode } from '../../core/node.js';
import type { PostgresStore } from '../postgres-store.js';

/**
 * Connects a started node to what the PostgreSQL store adds beyond the Store interface:
 * - transactional publishes the store claimed (or, without a shared broker, another node claimed)
 *   are routed by the node like its own publishes;
 * - the devices table follows the hub: attach, detach, removal, a heartbeat batch every heartbeat
 *   interval (1–30 s), and the purge of registrations gone longer than DEVICE_RETENTION_MS at every
 *   stale sweep.
 *
 * Call after `node.start()`: the cluster broker sets the hub's hooks there, and these chain after
 * them. (The hub's single-slot hooks are becoming events; this is the one place to switch.)
 */
export async function wirePostgres(node: HeraldNode, store: PostgresStore, config: HeraldConfig): Promise<void> {
  const log = node.log;
  const table = store.deviceTable;
  // This node id's rows still attached are from a run that ended without detaching them (a crash).
  await table.detachNode(config.NODE_ID, Date.now()).catch((err) => log.warn({ err }, 'devices table: stale rows of this node not detached'));

  store.on('external', (n) => {
    node.routeStored(n).catch((err) => log.warn({ err, id: n.id }, 'transactional publish not routed; devices get it on resume'));
  });

  node.hub.on('attached', (s) => table.attached(s.device));
  node.hub.on('detached', (s, _reason, removed) => {
    if (removed) table.removed(s.device.clientId, s.device.deviceId);
    else table.detached(s.device);
  });
  node.on('deviceRemoved', (clientId, deviceId) => table.removed(clientId, deviceId));

  const beat = setInterval(
    () => table.heartbeats([...node.hub.sessions()].map((s) => s.device)),
    Math.min(30_000, Math.max(1000, config.HEARTBEAT_INTERVAL_MS)),
  );
  beat.unref();
  const purge = setInterval(() => {
    table
      .purge(Date.now() - config.DEVICE_RETENTION_MS)
      .then((n) => {
        if (n > 0) log.info({ purged: n }, 'devices table: old registrations purged');
      })
      .catch((err) => log.warn({ err }, 'devices table purge failed'));
  }, config.STALE_SWEEP_MS);
  purge.unref();
  node.onClose(() => {
    clearInterval(beat);
    clearInterval(purge);
  });
}
