import type { Cursor } from './cursor.js';
import type { Hub } from './hub.js';
import type { TransportKind } from './session.js';
import type { ClientView, StoredNotification } from './types.js';

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
  /** Cluster-wide checks before a stream starts (client limit with policy `reject`). */
  admit?(clientId: string, deviceId: string): Promise<void>;
  /** Hands a heartbeat answer / ack to the node holding the device's stream; whether there is one. */
  forwardAnswer?(clientId: string, deviceId: string, transport: TransportKind, cursor: Cursor | null): Promise<boolean>;
  /** The client's devices attached anywhere in the cluster (one registry read). */
  attachedDevices?(clientId: string): Promise<Set<string>>;
  /** Removes a device wherever it is attached or registered in the cluster; whether it existed. */
  remove?(clientId: string, deviceId: string): Promise<boolean>;
  /** The client's devices on every node (null: use this node's registry). */
  clientView?(clientId: string): Promise<ClientView | null>;
  close(): Promise<void>;
}
