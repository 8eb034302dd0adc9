import type { Hub } from './hub.js';
import type { StoredNotification } from './types.js';

/**
 * Moves stored notifications to the nodes that hold their targets. `local` (single node, the
 * embedded default) hands them to this node's hub; `redis` routes across nodes.
 */
export interface Broker {
  readonly kind: 'local' | 'redis';
  /** Called once with the node's hub before any route(). */
  start(hub: Hub): Promise<void>;
  /** Delivers to every target device; resolves with how many devices it was handed to at once. */
  route(n: StoredNotification): Promise<number>;
  close(): Promise<void>;
}
