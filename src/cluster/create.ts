import type { Broker } from '../core/broker.js';
import type { HeraldConfig } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { LocalBroker } from './local-broker.js';

/** The broker the configuration asks for: local (single node) unless a cluster is configured. */
export async function createBroker(_config: HeraldConfig, _log: Logger): Promise<Broker> {
  return new LocalBroker();
}
