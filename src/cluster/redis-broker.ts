import type { Redis, RedisOptions } from 'ioredis';
import type { Broker, BrokerContext } from '../core/broker.js';
import type { Cursor } from '../core/cursor.js';
import type { Hub } from '../core/hub.js';
import type { PresenceTracker } from '../core/presence.js';
import type { TransportKind } from '../core/session.js';
import type { ClientView, Publication, StoredNotification, Target } from '../core/types.js';
import { coalesceWrites, connectRedis, countCommands, refuseShardedCluster, sameServer } from '../store/redis-connection.js';
import { RedisStore } from '../store/redis-store.js';
import { StreamChannels } from './channels.js';
import { ClusterPresence } from './cluster-presence.js';
import type { ClusterContext, ClusterStats, RedisBrokerOptions } from './context.js';
import { NodeControl } from './control.js';
import { ClusterKeys } from './keys.js';
import { Membership, type NodeMember } from './membership.js';
import { OrderedDelivery } from './ordered-delivery.js';
import { ClusterScripts } from './redis-scripts.js';
import { ClusterRegistry } from './registry.js';
import { decodeWire, encodeWire, entryFrame, ownNotification } from './wire.js';

export type { ClusterStats, RedisBrokerOptions } from './context.js';

/** The parts that need the hub, built at start. */
interface Parts {
  hub: Hub;
  delivery: OrderedDelivery;
  control: NodeControl;
  registry: ClusterRegistry;
  membership: Membership;
  channels: StreamChannels;
}

/**
 * Several nodes on one Redis: the composition of node membership ({@link Membership}), the
 * distributed registry ({@link ClusterRegistry}), control between nodes ({@link NodeControl}),
 * ordered delivery with gap repair ({@link StreamOrder}), cluster presence
 * ({@link ClusterPresence}) and the stream channels a node follows ({@link StreamChannels}). This
 * file owns the two connections (commands; pub/sub), wires the hub's events to the parts, routes
 * publishes, and recovers after a Redis outage.
 *
 * A publish is one Redis command (issue 17): with the Redis store on the same server, the store's
 * append script also publishes the entry on its stream's channel and counts the attached target
 * devices ({@link publication}); with another store, one route script does the publish and the
 * count. Nodes subscribe to the channels of the clients they hold, so routing reads no registry.
 * Sharded pub/sub (`SPUBLISH`/`SSUBSCRIBE`) when the server has it (Redis ≥ 7): on Redis Cluster a
 * stream's messages stay on the shard of its slot.
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly stats: ClusterStats = { redisErrors: 0, redisCommands: 0, gapsRepaired: 0, kicksSent: 0, deadNodesCleaned: 0, malformedMessages: 0 };
  readonly #o: RedisBrokerOptions;
  readonly #keys: ClusterKeys;
  readonly #cmd: Redis;
  readonly #sub: Redis;
  readonly #scripts: ClusterScripts;
  #presence: ClusterPresence | null = null;
  #parts: Parts | null = null;
  /** Sharded pub/sub for stream channels (known at start: the server's version). */
  #sharded = false;
  /** Whether the store's appends can publish for us: the Redis store on this broker's server. */
  readonly #storePublishes: boolean;
  /** The stream-entry message frame of this node (the same for every publish). */
  readonly #frame: { head: string; tail: string };
  /** Whether a pub/sub message is a notification this node published (dropped unread). */
  readonly #own: (raw: Buffer) => boolean;
  #closed = false;
  #wasDown = false;

  constructor(opts: RedisBrokerOptions) {
    this.#o = opts;
    this.#keys = new ClusterKeys(opts.prefix ?? 'herald:');
    const base: RedisOptions = {
      lazyConnect: true,
      // Fail fast while Redis is away: a publish gets 503 instead of waiting in a queue.
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 1000),
    };
    this.#cmd = connectRedis(opts.url, { ...base, connectionName: `herald-broker-${opts.nodeId}` }, opts.cluster);
    this.#sub = connectRedis(opts.url, { ...base, enableOfflineQueue: true, connectionName: `herald-sub-${opts.nodeId}` }, opts.cluster);
    countCommands(this.#cmd, this.stats);
    coalesceWrites(this.#cmd);
    countCommands(this.#sub, this.stats);
    let lastError = '';
    const onError = (err: Error) => {
      // ioredis repeats the same error on every reconnect attempt: log each kind once per outage.
      if (err.message !== lastError) opts.log.warn({ err }, 'redis broker connection error');
      lastError = err.message;
      this.#wasDown = true;
    };
    this.#cmd.on('error', onError);
    this.#sub.on('error', onError);
    this.#cmd.on('ready', () => {
      lastError = '';
      if (this.#wasDown && !this.#closed) {
        this.#wasDown = false;
        void this.#recover();
      }
    });
    this.#scripts = new ClusterScripts(this.#cmd, this.#keys);
    this.#storePublishes = opts.store instanceof RedisStore && sameServer(opts.store.redis, this.#cmd);
    this.#frame = entryFrame(opts.nodeId);
    this.#own = ownNotification(opts.nodeId);
  }

  /** A Redis call failed: counted (every one) and logged with its error. */
  #failed(what: string, err: unknown): void {
    this.stats.redisErrors++;
    this.#o.log.warn({ err }, `cluster: ${what} failed`);
  }

  /** The hub's presence: transitions decided in Redis, announced by the node that caused them. */
  createPresence(hub: Hub): PresenceTracker {
    this.#presence = new ClusterPresence(hub, {
      graceMs: this.#o.presenceGraceMs,
      goOffline: (clientId, token) => this.#scripts.offline(clientId, token),
      failed: (what, err) => this.#failed(what, err),
    });
    return this.#presence;
  }

  async start(hub: Hub, ctx?: BrokerContext): Promise<void> {
    const presence = this.#presence;
    if (!presence || hub.presence !== presence) throw new Error('RedisBroker: build the hub with presence from broker.createPresence');
    const parts = this.#build(hub, presence, ctx ?? { store: this.#o.store, needsCounts: () => false, counted: async (entries) => entries });
    await this.#cmd.connect();
    if (!this.#o.cluster) await refuseShardedCluster(this.#cmd, 'REDIS_URL');
    await this.#sub.connect();
    this.#sharded = this.#o.shardedPubSub ?? redisMajor(await this.#cmd.info('server')) >= 7;
    const channels = new StreamChannels(this.#sub, this.#keys, hub, this.#sharded);
    this.#parts = { ...parts, channels };
    const onMessage = (_channel: Buffer, message: Buffer) => this.#onMessage(message);
    this.#sub.on('messageBuffer', onMessage);
    this.#sub.on('smessageBuffer', onMessage);
    await this.#sub.subscribe(this.#keys.inbox(this.#o.nodeId));
    await channels.start();
    hub.on('attached', (s) => parts.registry.claim(s));
    hub.on('detached', (s, reason, removed) => {
      parts.registry.release(s, reason, removed);
      channels.left(s.device.clientId, (err) => this.#failed('unsubscribe', err));
    });
    await parts.membership.start();
  }

  #build(hub: Hub, presence: ClusterPresence, brokerCtx: BrokerContext): Omit<Parts, 'channels'> {
    const o = this.#o;
    const ctx: ClusterContext = {
      opts: o,
      nodeId: o.nodeId,
      cmd: this.#cmd,
      keys: this.#keys,
      scripts: this.#scripts,
      hub,
      presence,
      stats: this.stats,
      log: o.log,
      keepMs: o.detachedTtlMs + o.presenceGraceMs + o.nodeHeartbeatMs,
      failed: (what, err) => this.#failed(what, err),
    };
    const delivery = new OrderedDelivery(hub, brokerCtx, {
      repaired: () => this.stats.gapsRepaired++,
      failed: (what, err) => this.#failed(what, err),
    });
    const control = new NodeControl(ctx);
    return { hub, delivery, control, registry: new ClusterRegistry(ctx, control), membership: new Membership(ctx) };
  }

  get #started(): Parts {
    if (!this.#parts) throw new Error('RedisBroker: not started');
    return this.#parts;
  }

  get #command(): 'PUBLISH' | 'SPUBLISH' {
    return this.#sharded ? 'SPUBLISH' : 'PUBLISH';
  }

  /** The store's append publishes for us when it is the Redis store on this server (see the class comment). */
  publication(target: Target): Publication | undefined {
    if (!this.#storePublishes || !this.#parts) return undefined;
    const clientId = target.kind === 'broadcast' ? null : target.clientId;
    return {
      command: this.#command,
      channel: this.#keys.channel(clientId),
      registry: clientId === null ? null : this.#keys.reg(clientId),
      head: this.#frame.head,
      tail: this.#frame.tail,
    };
  }

  follow(clientId: string): Promise<void> {
    return this.#started.channels.follow(clientId);
  }

  async route(n: StoredNotification, reached?: number): Promise<number> {
    const parts = this.#parts;
    if (!parts) return 0;
    const local = parts.delivery.routed(n);
    // Published by the store's append already: `reached` counted the targets cluster-wide.
    if (reached !== undefined) return n.clientId === null ? local : reached;
    const payload = encodeWire({ kind: 'notification', origin: this.#o.nodeId, notification: n });
    if (n.clientId === null) {
      await this.#cmd.call(this.#command, this.#keys.channel(null), payload).catch((err) => this.#failed('broadcast publish', err));
      return local;
    }
    try {
      return await this.#scripts.route(this.#command, n.clientId, n.deviceId, payload, n.excludeDevices);
    } catch (err) {
      // Stored already: devices elsewhere get it on their next resume (or the gap repair).
      this.#failed('route', err);
      return local;
    }
  }

  #onMessage(raw: Buffer): void {
    const parts = this.#parts;
    // This node delivered its own publishes already: their echo is not decoded.
    if (this.#own(raw)) return;
    const msg = decodeWire(raw);
    if (!msg) {
      this.stats.malformedMessages++;
      this.#o.log.warn({ bytes: raw.length, head: raw.subarray(0, 80).toString() }, 'cluster: malformed pub/sub message dropped');
      return;
    }
    if (!parts) return;
    if (msg.kind !== 'notification') parts.control.received(msg);
    else if (msg.origin !== this.#o.nodeId) parts.delivery.received(msg.notification);
  }

  /** After Redis came back: re-register live streams and fetch what pub/sub may have dropped. */
  async #recover(): Promise<void> {
    const parts = this.#parts;
    if (!parts) return;
    this.#o.log.info({ sessions: parts.hub.connectionCount }, 'cluster: redis is back; re-registering and repairing');
    for (const s of parts.hub.sessions()) if (s.state === 'live') parts.registry.claim(s);
    await parts.delivery.order.recover();
  }

  /** Device claims and releases of this node still running or waiting their turn (tests: 0 once settled). */
  get registryChangesInFlight(): number {
    return this.#parts?.registry.changesInFlight ?? 0;
  }

  admit(clientId: string, deviceId: string): Promise<void> {
    return this.#started.registry.admit(clientId, deviceId);
  }

  forwardAnswer(clientId: string, deviceId: string, transport: TransportKind, cursor: Cursor | null): Promise<boolean> {
    return this.#started.registry.forwardAnswer(clientId, deviceId, transport, cursor);
  }

  attachedDevices(clientId: string): Promise<Set<string>> {
    return this.#started.registry.attachedDevices(clientId);
  }

  /** Removes a device wherever it is: its holder closes it 4003; a detached registration is dropped. */
  remove(clientId: string, deviceId: string): Promise<boolean> {
    return this.#started.registry.remove(clientId, deviceId);
  }

  clientView(clientId: string): Promise<ClientView | null> {
    return this.#started.registry.clientView(clientId);
  }

  /** Live nodes with their attached device streams and last heartbeat (the operator dashboard). */
  nodeConnections(): Promise<NodeMember[]> {
    return this.#started.membership.members();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#presence?.close();
    await this.#parts?.membership.leave();
    this.#sub.disconnect();
    await this.#cmd.quit().catch((err) => {
      this.#failed('quit', err);
      this.#cmd.disconnect();
    });
  }
}

/** The major version in an `INFO server` reply (0 when it is not there). */
function redisMajor(info: string): number {
  return Number(/^redis_version:(\d+)/m.exec(info)?.[1] ?? 0);
}
