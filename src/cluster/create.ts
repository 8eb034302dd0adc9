import type { Broker } from '../core/broker.js';
import type { HeraldConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/types.js';
import { LocalBroker } from './local-broker.js';
import { RedisBroker } from './redis-broker.js';

/** The broker the configuration asks for: Redis (a cluster) with REDIS_URL, else local (single node). */
export async function createBroker(config: HeraldConfig, log: Logger, store: Store): Promise<Broker> {
  if (!config.REDIS_URL) return new LocalBroker(log);
  return new RedisBroker({
    url: config.REDIS_URL,
    cluster: config.REDIS_CLUSTER === 'true',
    nodeId: config.NODE_ID,
    store,
    nodeHeartbeatMs: config.NODE_HEARTBEAT_MS,
    nodeDeadAfterMs: config.NODE_DEAD_AFTER_MS,
    detachedTtlMs: config.DETACHED_TTL_MS,
    presenceGraceMs: config.PRESENCE_GRACE_MS,
    maxDevicesPerClient: config.MAX_DEVICES_PER_CLIENT,
    clientLimitPolicy: config.CLIENT_LIMIT_POLICY,
    log,
  });
}
