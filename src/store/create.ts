import type { HeraldConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/types.js';
import { MemoryStore } from './memory-store.js';
import { PostgresStore } from './postgres-store.js';
import { RedisStore } from './redis-store.js';

/**
 * The store the configuration asks for: PostgreSQL with DATABASE_URL (durable; migrated at start),
 * else Redis with REDIS_URL (shared by a cluster, survives restarts), else memory. Start-up fails
 * when the chosen store cannot be reached. With both URLs, PostgreSQL keeps the data and Redis
 * carries the cluster (src/cluster/create.ts), so a transactional publish is routed by the node
 * that claims it; without Redis every node delivers every claim to its own devices.
 */
export async function createStore(config: HeraldConfig, log: Logger): Promise<Store> {
  const retention = { retentionMessages: config.RETENTION_MESSAGES, retentionMs: config.RETENTION_MS };
  const storeLog = log.child?.({ component: 'store' }) ?? log;
  if (config.DATABASE_URL) {
    return PostgresStore.connect({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      nodeId: config.NODE_ID,
      transactional: config.REDIS_URL ? 'claim' : 'every-node',
      ...retention,
      log: storeLog,
    });
  }
  if (config.REDIS_URL) return RedisStore.connect({ url: config.REDIS_URL, cluster: config.REDIS_CLUSTER === 'true', ...retention, log: storeLog });
  return new MemoryStore(retention);
}
