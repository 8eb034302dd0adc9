import type { HeraldConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/types.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

/**
 * The store the configuration asks for: Redis with REDIS_URL (shared by a cluster, survives
 * restarts; start-up fails when Redis cannot be reached), else memory.
 */
export async function createStore(config: HeraldConfig, log: Logger): Promise<Store> {
  const retention = { retentionMessages: config.RETENTION_MESSAGES, retentionMs: config.RETENTION_MS };
  if (config.REDIS_URL) return RedisStore.connect({ url: config.REDIS_URL, ...retention, log: log.child?.({ component: 'store' }) ?? log });
  return new MemoryStore(retention);
}
