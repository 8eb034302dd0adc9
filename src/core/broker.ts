import type { Cursor } from './cursor.js';
import type { Hub } from './hub.js';
import type { PresenceTracker } from './presence.js';
import type { TransportKind } from './session.js';
import type { ClientView, Publication, Store, StoredNotification, Target } from './types.js';

/**
 * What a broker gets from its node at start besides the hub: the store (gaps are read from it)
 * and the inbox counts of this node's devices, which a `state` event must carry before it reaches
 * them (PROTOCOL.md "Inbox": the counts in a frame are the receiving device's).
 */
export interface BrokerContext {
  readonly store: Store;
  /**
   * Whether `n` is a `state` event that lacks counts for a device of its client attached here (one
   * that arrived from a node that did not know of the device yet, or one read from the store).
   */
  needsCounts(n: StoredNotification): boolean;
  /**
   * Entries of one stream in order, each `state` event among them with counts for the devices of
   * its client attached here, read now (one read per call); the rest as they are. Never rejects:
   * when the read fails the events go without counts.
   */
  counted(entries: StoredNotification[]): Promise<StoredNotification[]>;
}

/**
 * Moves stored notifications and inbox events (stream entries with a `kind`, routed the same way)
 * to the nodes that hold their targets. `local` (single node, the
 * embedded default) hands them to this node's hub; `redis` routes across nodes.
 *
 * **Delivery guarantee** (PROTOCOL.md "Across nodes"). {@link route} is called once per accepted
 * publish, after the store kept the notification, so the store is the source of truth and the
 * broker only has to get it there fast. Every device attached anywhere in the cluster when the
 * publish was accepted gets it once, in its stream's order (a client's stream, or the broadcast
 * stream; no order between the two): live, or, if it could not be handed over live, on resume from
 * its cursor. "Once" holds per stream position: a session never hands a device a position it
 * already handed it, and a device resuming from its last cursor gets nothing twice. A node that
 * sees a position skip one it did not receive (pub/sub lost it, two publishers crossed) reads the
 * missing ones from the store before delivering further.
 *
 * **When Redis fails**, `route()` does not throw: the notification is stored already. It resolves
 * with what this node handed over itself, the failure is counted (`redisErrors`) and logged, and
 * devices elsewhere get it when their node repairs the gap (at the stream's next notification, or
 * when Redis is back and the node reads up to the stream heads), or on resume at the latest.
 */
export interface Broker {
  readonly kind: 'local' | 'redis';
  /**
   * The presence tracker the hub is built with (`HubOptions.presence`); absent: the hub's local one.
   * A cluster decides presence in Redis, once per cluster, so it supplies its own before anything
   * can subscribe to the hub's.
   */
  createPresence?(hub: Hub): PresenceTracker;
  /**
   * Called once with the node's hub (built with {@link createPresence}) before any route(). Without
   * a context (tests that build a broker bare) a local broker hands notifications over as routed.
   */
  start(hub: Hub, ctx?: BrokerContext): Promise<void>;
  /**
   * Delivers to every target device (see the guarantee above). Resolves with how many devices it
   * was handed to at once: cluster-wide for client and device targets (the publish answer's
   * `delivered`), for broadcasts the devices on this node; on a Redis failure, this node's count.
   */
  route(n: StoredNotification, reached?: number): Promise<number>;
  /**
   * How the store should publish a new entry of `target`'s stream in its own append (one Redis
   * round trip per publish, issue 17), or undefined when the broker publishes itself. When the
   * store honoured it (`AppendResult.reached` set), {@link route} gets `reached` and only hands the
   * entry to this node's sessions.
   */
  publication?(target: Target): Publication | undefined;
  /**
   * Resolves once this node receives whatever is published to the client's stream from now on (a
   * cluster: the client's channel is subscribed). A stream's replay is read only after it, so no
   * entry falls between the replay and live delivery. Rejects when that cannot be set up.
   */
  follow?(clientId: string): Promise<void>;
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
