import { EventEmitter } from 'node:events';
import type { PublishResult } from '../protocol/json-shapes.js';
import type { Broker } from './broker.js';
import type { HeraldConfig } from './config.js';
import { type Cursor, decodeCursor, encodeCursor, START } from './cursor.js';
import { HeraldError, invalid } from './errors.js';
import { countsFor } from './event-counts.js';
import { Outgoing } from './frames.js';
import { Hub } from './hub.js';
import { checkId } from './ids.js';
import { InboxService } from './inbox-service.js';
import type { Logger } from './logger.js';
import { Receipts } from './receipts.js';
import { deviceView, type Session, type TransportConnection, type TransportKind } from './session.js';
import type { ClientView, Publication, PublishInput, Store, StoredNotification, Target } from './types.js';

/** What {@link HeraldNode.publish} resolves with: the publish answer (PROTOCOL.md "Publisher API"). */
export type { PublishResult } from '../protocol/json-shapes.js';

export interface ConnectParams {
  clientId: string;
  deviceId: string;
  conn: TransportConnection;
  /** The cursor the device came with (already validated by {@link HeraldNode.parseCursor}). */
  cursor?: Cursor | null;
  /** Token `exp` in ms since epoch (skew already added), or null. */
  tokenExpiresAt: number | null;
}

export type NodeState = 'running' | 'draining' | 'closed';

interface NodeEvents {
  state: [NodeState];
  /**
   * A new notification was stored and routed (not an idempotent repeat; inbox events are not
   * notifications); `delivered` as answered; `pushSubscriptions` the client's Web Push
   * subscriptions when the append counted them (see {@link HeraldNode.pushSubscriptionsKey}).
   */
  published: [n: StoredNotification, delivered: number, pushSubscriptions?: number];
  /** {@link HeraldNode.remove} was called (backend or device), whether or not the hub held it. */
  deviceRemoved: [clientId: string, deviceId: string];
}

/**
 * The process facade: config, hub, store and broker together. Transports and the API call this;
 * it knows no socket and no HTTP.
 */
export class HeraldNode extends EventEmitter<NodeEvents> {
  readonly config: HeraldConfig;
  readonly hub: Hub;
  readonly store: Store;
  readonly broker: Broker;
  readonly log: Logger;
  /** Listings, state changes, updates and deletes of the client inboxes (PROTOCOL.md "Inbox"). */
  readonly inbox: InboxService;
  /** Acknowledged cursors to the store, and receipt webhooks (`WEBHOOK_RECEIPTS`) for whoever listens. */
  readonly receipts: Receipts;
  state: NodeState = 'running';
  /**
   * The Redis key of a client's Web Push subscriptions, set by Web Push when they live on the
   * cluster's Redis: the publish's append then counts them in its own round trip, and a client
   * without any costs no push read (issue 17). Null: Web Push reads its store itself.
   */
  pushSubscriptionsKey: ((clientId: string) => string) | null = null;
  /** With the memory store, publishes are refused once the drain's flush window has ended. */
  #acceptPublishes = true;
  #shutdown: Promise<void> | null = null;
  /** Cleanup callbacks run at the end of shutdown (listeners, servers), in reverse order. */
  readonly #onClose: (() => Promise<void> | void)[] = [];

  constructor(config: HeraldConfig, store: Store, broker: Broker, log: Logger) {
    super();
    this.config = config;
    this.store = store;
    this.broker = broker;
    this.log = log;
    this.hub = new Hub(
      {
        nodeId: config.NODE_ID,
        heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
        heartbeatTimeoutMs: config.HEARTBEAT_TIMEOUT_MS,
        heartbeatMaxMissed: config.HEARTBEAT_MAX_MISSED,
        idleTimeoutMs: config.IDLE_TIMEOUT_MS,
        tokenGraceMs: config.TOKEN_GRACE_MS,
        sendQueueBytes: config.SEND_QUEUE_BYTES,
        sendQueueMessages: config.SEND_QUEUE_MESSAGES,
        maxDevicesPerClient: config.MAX_DEVICES_PER_CLIENT,
        clientLimitPolicy: config.CLIENT_LIMIT_POLICY,
        maxConnections: config.MAX_CONNECTIONS,
        presenceGraceMs: config.PRESENCE_GRACE_MS,
        detachedTtlMs: config.DETACHED_TTL_MS,
        staleSweepMs: config.STALE_SWEEP_MS,
        // The broker's presence (a cluster's), fixed before anyone can subscribe to it.
        presence: broker.createPresence?.bind(broker),
      },
      log,
    );
    this.receipts = new Receipts(store, config.WEBHOOK_RECEIPTS, log);
    this.inbox = new InboxService(store, broker, this.hub, log, (event, change) => this.receipts.stateChanged(event, change));
    this.hub.on('acks', (acks) => this.receipts.acked(acks));
    this.hub.on('deviceForgotten', (clientId, deviceId) => {
      this.store.forgetDevice(clientId, deviceId).catch((err) => this.log.warn({ err, clientId, deviceId }, 'device cursor not forgotten'));
    });
  }

  async start(): Promise<void> {
    const inbox = this.inbox;
    await this.broker.start(this.hub, {
      store: this.store,
      needsCounts: (n) => inbox.needsCountsHere(n),
      counted: (entries) => inbox.countedHere(entries),
    });
  }

  /** Registers a cleanup callback for shutdown (run last-registered first). */
  onClose(fn: () => Promise<void> | void): void {
    this.#onClose.push(fn);
  }

  /** Validates a cursor string from a device (400 naming `cursor` when it is not one of ours). */
  parseCursor(raw: string | undefined | null): Cursor | null {
    if (raw === undefined || raw === null || raw === '') return null;
    const c = decodeCursor(raw);
    if (!c) throw invalid('cursor', 'not a cursor this server handed out');
    return c;
  }

  /** Stores, then delivers. Resolves once the store accepted it (the 202 of the publisher API). */
  async publish(target: Target, input: PublishInput): Promise<PublishResult> {
    if (!this.#acceptPublishes || this.state === 'closed') throw new HeraldError('HERALD_ERR_DRAINING', 'node is shutting down; publish to another node');
    if (target.kind !== 'broadcast') checkId('clientId', target.clientId);
    if (target.kind === 'device') checkId('deviceId', target.deviceId);
    if (target.kind === 'broadcast' && input.excludeDevices !== undefined)
      throw invalid('excludeDevices', 'is for client and device notifications, not broadcasts');
    const now = Date.now();
    let appended: Awaited<ReturnType<Store['append']>>;
    try {
      appended = await this.store.append(target, input, now, this.#publication(target));
    } catch (err) {
      throw new HeraldError('HERALD_ERR_STORE_UNAVAILABLE', 'the store could not keep the notification; nothing was published', { cause: err });
    }
    const n = appended.notification;
    // "Everything up to here" in the stream it was published to.
    const cursor = encodeCursor(n.clientId === null ? { c: null, ce: null, b: n.pos, be: n.epoch } : { c: n.pos, ce: n.epoch, b: null, be: null });
    if (appended.duplicate) return { id: n.id, cursor, delivered: 0, stored: appended.stored };
    this.hub.stats.published++;
    const delivered = await this.broker.route(n, appended.reached);
    this.emit('published', n, delivered, appended.pushSubscriptions);
    return { id: n.id, cursor, delivered, stored: appended.stored };
  }

  #publication(target: Target): Publication | undefined {
    const p = this.broker.publication?.(target);
    if (!p || target.kind === 'broadcast' || !this.pushSubscriptionsKey) return p;
    return { ...p, pushSubscriptions: this.pushSubscriptionsKey(target.clientId) };
  }

  /**
   * Delivers a notification the store already holds but this node did not publish (a
   * transactional publish made in SQL and claimed by this node): routed and reported like
   * {@link publish}'s.
   */
  async routeStored(n: StoredNotification): Promise<number> {
    this.hub.stats.published++;
    const delivered = await this.broker.route(n);
    this.emit('published', n, delivered);
    return delivered;
  }

  /**
   * Attaches a stream synchronously (registration, replacement and limits in the hub), then reads
   * the replay from the device's cursor, its stored cursor, or what is pending for its client, and
   * goes live. Returns null when refused after the handshake (the transport was ended).
   */
  connect(p: ConnectParams): Session | null {
    const session = this.hub.attach(p.clientId, p.deviceId, p.conn, p.tokenExpiresAt, Date.now());
    if (session) void this.#replay(session, p);
    return session;
  }

  async #replay(session: Session, p: ConnectParams): Promise<void> {
    // Live delivery first (the cluster's channel of the client), then the replay: whatever is
    // published after the read arrives live, whatever before is in it (duplicates are dropped).
    // Set up while the cursor is read; awaited before the replay.
    const following = this.broker.follow?.(p.clientId);
    following?.catch(() => {}); // awaited below; a rejection before then is not unhandled
    try {
      // The cursor the device came with, else its stored cursor: a resume, broadcasts included.
      // Neither: what is pending for its client, after the newest position any device acknowledged.
      const resumeFrom = p.cursor ?? (await this.store.getDeviceCursor(p.clientId, p.deviceId));
      let after: Cursor;
      if (resumeFrom) after = resumeFrom;
      else {
        const acked = await this.store.getClientAcked(p.clientId);
        after = { ...START, c: acked?.pos ?? null, ce: acked?.epoch ?? null };
      }
      await following;
      if (session.state !== 'replaying') return;
      const r = await this.store.replay({ clientId: p.clientId, deviceId: p.deviceId, after, broadcasts: resumeFrom !== null, register: true }, Date.now());
      // Read after the replay: as new as every change it holds, so its `state` frames carry these.
      const counts = await this.inbox.counts(p.clientId, p.deviceId);
      const current = countsFor(p.deviceId, counts);
      const items = r.items.map((n) => new Outgoing(n.kind === 'state' ? { ...n, counts: current } : n));
      if (session.state !== 'replaying') return;
      session.goLive(
        {
          type: 'welcome',
          connectionId: session.connectionId,
          heartbeat: { intervalMs: this.config.HEARTBEAT_INTERVAL_MS, timeoutMs: this.config.HEARTBEAT_TIMEOUT_MS },
          resumed: resumeFrom !== null && !r.lost,
          pending: items.length,
          unseen: counts.unseen,
          unread: counts.unread,
        },
        items,
        r.from,
        r.head,
        Date.now(),
      );
    } catch (err) {
      this.log.error({ err, clientId: p.clientId, deviceId: p.deviceId }, 'replay failed; closing the stream so the device retries');
      session.close('restart');
    }
  }

  /**
   * A heartbeat answer (and an ack with a cursor) that came outside the stream: SSE's
   * `POST /sse/ack`, gRPC's `Ack`. Goes to the device's stream on this node, or, in a cluster,
   * to the node holding it (a load balancer need not send both to the same node).
   * Resolves false when the device has no live stream of that transport anywhere.
   */
  async deviceAnswer(clientId: string, deviceId: string, transport: TransportKind, cursor: Cursor | null): Promise<boolean> {
    const s = this.hub.device(clientId, deviceId)?.session;
    if (s) {
      if (s.conn.kind !== transport) return false;
      s.inbound('pong', Date.now());
      if (cursor) s.ack(cursor);
      return true;
    }
    return (await this.broker.forwardAnswer?.(clientId, deviceId, transport, cursor)) ?? false;
  }

  /** The client's devices and presence: cluster-wide when the broker knows the cluster. */
  async clientView(clientId: string): Promise<ClientView> {
    const remote = await this.broker.clientView?.(clientId);
    const { devices, online } = this.hub.client(clientId);
    const view = remote ?? { clientId, online, epoch: this.hub.presence.epochOf(clientId), devices: devices.map(deviceView) };
    // Registrations nobody holds now (after a restart) are still known to a store that keeps them.
    if (view.devices.length === 0 && this.store.devices) {
      const kept = await this.store.devices(clientId).catch((err) => {
        this.log.warn({ err, clientId }, 'stored registrations not read');
        return [];
      });
      view.devices = kept.map((d) => ({ ...d, state: 'detached' }));
    }
    return view;
  }

  /** {@link remove}, across the cluster when there is one (the publisher API and `/me` use this). */
  async removeAnywhere(clientId: string, deviceId: string): Promise<boolean> {
    const here = this.remove(clientId, deviceId);
    const elsewhere = (await this.broker.remove?.(clientId, deviceId)) ?? false;
    return here || elsewhere;
  }

  /** Unregisters a device on this node (backend or the device itself): 4003 on its stream. */
  remove(clientId: string, deviceId: string): boolean {
    const found = this.hub.remove(clientId, deviceId);
    if (found) this.store.forgetDevice(clientId, deviceId).catch((err) => this.log.warn({ err }, 'device cursor not forgotten'));
    this.emit('deviceRemoved', clientId, deviceId);
    return found;
  }

  /**
   * Graceful shutdown, idempotent (PROTOCOL.md "Drain"): readiness turns 503 and handshakes are
   * refused; every session gets `shutdown` with a reconnect hint spread over the drain window;
   * sessions stay open for the flush window so queued and newly published notifications arrive;
   * then each closes (1012) at its own hint, paced over the drain window; what is left at the
   * window's end is closed; cleanup callbacks run last.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#drain();
    return this.#shutdown;
  }

  async #drain(): Promise<void> {
    const cfg = this.config;
    const t0 = Date.now();
    this.state = 'draining';
    this.hub.startDrain();
    this.emit('state', 'draining');
    this.log.info({ sessions: this.hub.connectionCount, drainMs: cfg.DRAIN_TIMEOUT_MS }, 'draining');
    const flushEnd = t0 + Math.min(cfg.FLUSH_TIMEOUT_MS, cfg.DRAIN_TIMEOUT_MS);
    const drainEnd = t0 + cfg.DRAIN_TIMEOUT_MS;
    // Each session closes at its own hint (after the flush window, by the drain's end): paced, in
    // the order of the hints, so the devices reach the next node spread over the window.
    const closing: { s: Session; at: number }[] = [];
    for (const s of [...this.hub.sessions()]) {
      const hint = Math.floor(Math.random() * Math.max(1, cfg.DRAIN_TIMEOUT_MS));
      s.control({ type: 'shutdown', reconnectAfterMs: hint });
      closing.push({ s, at: Math.min(drainEnd, Math.max(flushEnd, t0 + hint)) });
    }
    closing.sort((a, b) => a.at - b.at);
    this.hub.flushNow();
    let next = 0;
    while (this.hub.connectionCount > 0 && Date.now() < drainEnd) {
      const now = Date.now();
      if (now >= flushEnd && this.store.kind === 'memory') this.#acceptPublishes = false;
      while (next < closing.length && closing[next].at <= now) closing[next++].s.close('restart');
      const wake = next < closing.length ? closing[next].at : drainEnd;
      await sleep(Math.min(25, Math.max(1, wake - Date.now())));
    }
    for (const s of [...this.hub.sessions()]) s.close('restart');
    this.#acceptPublishes = false;
    this.hub.flushAcks();
    // Offline transitions still in their grace period happen now, while webhooks can send them.
    this.hub.presence.flushPending(Date.now());
    const forceBy = t0 + Math.max(cfg.FORCE_CLOSE_TIMEOUT_MS, cfg.DRAIN_TIMEOUT_MS);
    for (const fn of this.#onClose.reverse()) {
      try {
        await withDeadline(Promise.resolve(fn()), Math.max(0, forceBy - Date.now()));
      } catch (err) {
        this.log.warn({ err }, 'cleanup step failed during shutdown');
      }
    }
    this.hub.stop();
    await this.broker.close().catch((err) => this.log.warn({ err }, 'broker close failed'));
    await this.store.close().catch((err) => this.log.warn({ err }, 'store close failed'));
    this.state = 'closed';
    this.emit('state', 'closed');
    this.log.info({ ms: Date.now() - t0 }, 'shut down');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((r) => {
    timer = setTimeout(() => r(undefined), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
