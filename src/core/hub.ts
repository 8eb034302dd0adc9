import { EventEmitter } from 'node:events';
import { type Cursor, laterCursor } from './cursor.js';
import type { CloseReason, DisconnectReason } from './disconnect.js';
import { HeraldError } from './errors.js';
import type { Outgoing } from './frames.js';
import { connectionIdOf } from './ids.js';
import type { Logger } from './logger.js';
import { Presence, type PresenceTracker } from './presence.js';
import { type DeviceRecord, Session, type SessionOwner, type SessionSettings, type TransportConnection, type TransportKind } from './session.js';
import { TimerWheel } from './wheel.js';

export interface HubOptions extends SessionSettings {
  nodeId: string;
  maxDevicesPerClient: number;
  clientLimitPolicy: 'evict-oldest' | 'reject';
  maxConnections: number;
  presenceGraceMs: number;
  detachedTtlMs: number;
  staleSweepMs: number;
  /** How often acknowledged cursors are written to the store (batched). @default 250 */
  ackFlushMs?: number;
  /** Clock of the timer wheel (tests). @default Date.now */
  now?: () => number;
  /**
   * Builds the hub's presence tracker, once, when the hub is built: a cluster broker decides
   * presence in Redis and provides its own (the broker's `createPresence`), so whoever listens to
   * `hub.presence` gets the same object whenever it subscribes.
   * @default a local {@link Presence} (single node)
   */
  presence?: (hub: Hub) => PresenceTracker;
}

interface ClientEntry {
  devices: Map<string, DeviceRecord>;
  attached: number;
}

/** A count per transport kind: a key for every registered kind, zero or not, in registration order. */
export type TransportCounts = Record<TransportKind, number>;

/** Counters behind /health/*, /api/v1/stats and /metrics. */
export class HubStats {
  connects: TransportCounts = {};
  disconnects: Record<string, number> = {};
  published = 0;
  delivered: TransportCounts = {};
  dropped = 0;
  heartbeatsSent = 0;
  heartbeatsAnswered = 0;
  heartbeatsMissed = 0;
  zombies = 0;
  staleFound = 0;
  staleCleaned = 0;
}

/** An acknowledged cursor waiting to be written to the store. */
export interface AckedCursor {
  clientId: string;
  deviceId: string;
  /** The stream the ack came on (delivery receipts name it). */
  transport: TransportKind;
  cursor: Cursor;
  /** Where that stream started (Session.startedFrom): what a device without a stored cursor was handed follows it. */
  start: Cursor | null;
}

/**
 * What the hub tells the layers around it (core stays free of the store, metrics and Redis, which
 * listen). Any number of listeners per event; they run synchronously, in the hub's own call, so a
 * listener must not throw.
 */
export interface HubEvents {
  /** Acknowledged cursors to persist: batched per `ackFlushMs`, and a closing session's last one. */
  acks: [batch: AckedCursor[]];
  /** A heartbeat round trip in milliseconds (the metrics histogram). */
  rtt: [ms: number];
  /** A device registration is gone for good (removed or expired): its stored cursor can go too. */
  deviceForgotten: [clientId: string, deviceId: string];
  /** A session attached on this node (cluster: claim it, replacing or evicting elsewhere). */
  attached: [session: Session];
  /** A session ended on this node; `removed` when its registration is gone too. */
  detached: [session: Session, reason: DisconnectReason, removed: boolean];
  /** A session finished its replay: from here it is live at `head`. */
  live: [session: Session, head: Cursor];
}

/**
 * The local registry (client → devices) and the owner of every live session on this node:
 * admission, replacement, limits, fan-out, the one timer wheel, the stale sweep and presence.
 * Emits {@link HubEvents} for the node facade, metrics, the dashboard and the cluster broker.
 */
export class Hub extends EventEmitter<HubEvents> implements SessionOwner {
  readonly settings: SessionSettings;
  readonly opts: HubOptions;
  readonly stats = new HubStats();
  readonly wheel: TimerWheel;
  /** Fixed when the hub is built ({@link HubOptions.presence}): safe to subscribe to at any time. */
  readonly presence: PresenceTracker;
  readonly #clients = new Map<string, ClientEntry>();
  readonly #sessions = new Set<Session>();
  readonly #log: Logger;
  #dirty: Session[] = [];
  #flushScheduled = false;
  readonly #pendingAcks = new Map<Session, AckedCursor>();
  #ackTimer: NodeJS.Timeout | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #draining = false;
  /** Attached streams by transport kind. */
  readonly byTransport: TransportCounts = {};
  /** The transport kinds registered, in order: the keys of every count by transport. */
  readonly transportKinds: TransportKind[] = [];

  constructor(opts: HubOptions, log: Logger) {
    super();
    this.opts = opts;
    this.settings = opts;
    this.#log = log;
    const tickMs = Math.min(1000, Math.max(2, Math.floor(Math.min(opts.heartbeatIntervalMs, opts.heartbeatTimeoutMs) / 8)));
    this.wheel = new TimerWheel({ tickMs, now: opts.now });
    this.presence = opts.presence?.(this) ?? new Presence(this.wheel, opts.presenceGraceMs, (c) => this.hasSessions(c));
    this.#sweepTimer = setInterval(() => this.sweep(Date.now()), opts.staleSweepMs);
    this.#sweepTimer.unref();
  }

  /**
   * Registers a transport kind (src/transports/index.ts does, for each transport; a stream of an
   * unregistered kind registers it): its counts start at zero, so stats, metrics and the dashboard
   * list it before its first stream.
   */
  addTransportKind(kind: TransportKind): void {
    if (this.transportKinds.includes(kind)) return;
    this.transportKinds.push(kind);
    this.byTransport[kind] = 0;
    this.stats.connects[kind] = 0;
    this.stats.delivered[kind] = 0;
  }

  get connectionCount(): number {
    return this.#sessions.size;
  }

  /** Whether the client has a live stream on this node. */
  hasSessions(clientId: string): boolean {
    return (this.#clients.get(clientId)?.attached ?? 0) > 0;
  }

  /** Clients with a live stream on this node. */
  get localClientCount(): number {
    let n = 0;
    for (const c of this.#clients.values()) if (c.attached > 0) n++;
    return n;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  sessions(): IterableIterator<Session> {
    return this.#sessions.values();
  }

  /** Every registration (attached and detached), for the sweep, stats and the operator API. */
  *devices(): IterableIterator<DeviceRecord> {
    for (const c of this.#clients.values()) yield* c.devices.values();
  }

  client(clientId: string): { devices: DeviceRecord[]; online: boolean } {
    const entry = this.#clients.get(clientId);
    return { devices: entry ? [...entry.devices.values()] : [], online: this.presence.isOnline(clientId) };
  }

  device(clientId: string, deviceId: string): DeviceRecord | undefined {
    return this.#clients.get(clientId)?.devices.get(deviceId);
  }

  /** Checks made before a stream starts (HTTP statuses): draining, node full, client limit. */
  admit(clientId: string, deviceId: string): void {
    if (this.#draining) throw new HeraldError('HERALD_ERR_DRAINING', 'node is draining; connect to another node');
    const entry = this.#clients.get(clientId);
    const replacing = entry?.devices.get(deviceId)?.session != null;
    if (!replacing && this.#sessions.size >= this.opts.maxConnections) throw new HeraldError('HERALD_ERR_FULL', 'node is at its connection limit');
    if (!replacing && this.opts.clientLimitPolicy === 'reject' && entry && entry.attached >= this.opts.maxDevicesPerClient) {
      throw new HeraldError('HERALD_ERR_CLIENT_LIMIT', `client ${clientId} has ${entry.attached} devices attached (limit ${this.opts.maxDevicesPerClient})`);
    }
  }

  /**
   * Registers and attaches a stream. Synchronous, so concurrent handshakes for one connection id
   * are ordered: the last to attach wins and every earlier one is closed 4002. The session starts
   * in `replaying`; the caller reads the replay and calls {@link Session.goLive}.
   * Returns null when the stream was refused after the handshake (it has been closed).
   */
  attach(clientId: string, deviceId: string, conn: TransportConnection, tokenExpiresAt: number | null, now: number): Session | null {
    const refuse = (reason: CloseReason) => {
      conn.end(reason);
      this.#count(reason);
      return null;
    };
    if (this.#draining) return refuse('restart');
    let entry = this.#clients.get(clientId);
    const existing = entry?.devices.get(deviceId);
    const replacing = existing?.session != null;
    if (!replacing && this.#sessions.size >= this.opts.maxConnections) return refuse('full');
    if (!replacing && entry && entry.attached >= this.opts.maxDevicesPerClient) {
      if (this.opts.clientLimitPolicy === 'reject') return refuse('client-limit');
      let oldest: Session | null = null;
      for (const d of entry.devices.values()) {
        if (d.session && (oldest === null || d.connectedAt < oldest.device.connectedAt)) oldest = d.session;
      }
      oldest?.close('client-limit');
    }
    if (existing?.session) existing.session.close('replaced');
    entry ??= this.#entry(clientId);
    const device = entry.devices.get(deviceId) ?? this.#newRecord(entry, clientId, deviceId, conn.kind, now);
    const session = new Session(this, device, conn, now, tokenExpiresAt);
    device.session = session;
    device.state = 'attached';
    device.transport = conn.kind;
    device.connectedAt = now;
    device.detachedAt = null;
    device.lastHeartbeatAt = now;
    entry.attached++;
    this.#sessions.add(session);
    this.addTransportKind(conn.kind);
    this.byTransport[conn.kind]++;
    this.stats.connects[conn.kind]++;
    this.presence.deviceConnected(clientId, deviceId, conn.kind, now);
    this.emit('attached', session);
    this.#log.debug({ clientId, deviceId, connectionId: device.connectionId, transport: conn.kind }, 'device attached');
    return session;
  }

  /**
   * Registers a device without a stream (gRPC `AddConnection`): detached until a stream attaches,
   * and swept after DETACHED_TTL_MS if none does. An existing registration is kept as it is.
   */
  register(clientId: string, deviceId: string, transport: TransportKind, now: number): DeviceRecord {
    const entry = this.#entry(clientId);
    const existing = entry.devices.get(deviceId);
    if (existing) return existing;
    const d = this.#newRecord(entry, clientId, deviceId, transport, now);
    d.state = 'detached';
    d.detachedAt = now;
    return d;
  }

  #entry(clientId: string): ClientEntry {
    let entry = this.#clients.get(clientId);
    if (!entry) {
      entry = { devices: new Map(), attached: 0 };
      this.#clients.set(clientId, entry);
    }
    return entry;
  }

  #newRecord(entry: ClientEntry, clientId: string, deviceId: string, transport: TransportKind, now: number): DeviceRecord {
    const device: DeviceRecord = {
      clientId,
      deviceId,
      connectionId: connectionIdOf(clientId, deviceId),
      transport,
      state: 'attached',
      node: this.opts.nodeId,
      connectedAt: now,
      lastHeartbeatAt: null,
      lastNotificationAt: null,
      notificationCount: 0,
      detachedAt: null,
      rttMs: null,
      session: null,
    };
    entry.devices.set(deviceId, device);
    return device;
  }

  /** @internal SessionOwner: the single exit path of every session. */
  sessionClosed(s: Session, closeReason: CloseReason): void {
    const d = s.device;
    // A peer that went away left on its own: reported with the contract's name for that.
    const reason: DisconnectReason = closeReason === 'gone' ? 'normal' : closeReason;
    this.#count(reason);
    if (reason === 'zombie') this.stats.zombies++;
    const pendingAck = this.#pendingAcks.get(s);
    if (pendingAck) {
      this.#pendingAcks.delete(s);
      this.emit('acks', [pendingAck]);
    }
    if (!this.#sessions.delete(s)) return;
    let removed = false;
    this.byTransport[s.conn.kind]--;
    const entry = this.#clients.get(d.clientId);
    if (d.session === s && entry) {
      d.session = null;
      d.state = 'detached';
      d.detachedAt = Date.now();
      entry.attached--;
      if (reason === 'removed') {
        this.#forget(entry, d);
        removed = true;
      }
    }
    this.presence.deviceDisconnected(d.clientId, d.deviceId, reason, Date.now());
    this.emit('detached', s, reason, removed);
    this.#log.info({ clientId: d.clientId, deviceId: d.deviceId, connectionId: d.connectionId, transport: s.conn.kind, reason }, 'device detached');
  }

  #count(reason: CloseReason): void {
    this.stats.disconnects[reason] = (this.stats.disconnects[reason] ?? 0) + 1;
  }

  #forget(entry: ClientEntry, d: DeviceRecord): void {
    entry.devices.delete(d.deviceId);
    if (entry.devices.size === 0) this.#clients.delete(d.clientId);
    this.emit('deviceForgotten', d.clientId, d.deviceId);
  }

  /**
   * Unregisters a device: closes its stream with 4003 and drops the registration.
   * Returns whether there was one.
   */
  remove(clientId: string, deviceId: string): boolean {
    const entry = this.#clients.get(clientId);
    const d = entry?.devices.get(deviceId);
    if (!entry || !d) return false;
    if (d.session) d.session.close('removed');
    else this.#forget(entry, d);
    return true;
  }

  // ---- fan-out ----

  /**
   * To every attached device of one client; returns how many it was handed to (devices in the
   * notification's `excludeDevices` get nothing and are not counted).
   */
  deliverToClient(out: Outgoing): number {
    const entry = this.#clients.get(out.n.clientId as string);
    if (!entry || entry.attached === 0) return 0;
    const excluded = out.n.excludeDevices;
    let n = 0;
    for (const d of entry.devices.values()) {
      if (d.session) {
        d.session.notify(out);
        if (!excluded?.includes(d.deviceId)) n++;
      }
    }
    return n;
  }

  deliverToDevice(out: Outgoing): number {
    const s = this.#clients.get(out.n.clientId as string)?.devices.get(out.n.deviceId as string)?.session;
    if (!s) return 0;
    s.notify(out);
    return out.n.excludeDevices?.includes(s.device.deviceId) ? 0 : 1;
  }

  deliverToAll(out: Outgoing): number {
    for (const s of this.#sessions) s.notify(out);
    return this.#sessions.size;
  }

  /**
   * How many attached devices a notification is for here (what {@link deliver} returns when it
   * hands it over at once), without handing it over.
   */
  countTargets(n: Outgoing['n']): number {
    if (n.clientId === null) return this.#sessions.size;
    const entry = this.#clients.get(n.clientId);
    if (!entry || entry.attached === 0) return 0;
    const excluded = n.excludeDevices;
    if (n.deviceId !== null) return entry.devices.get(n.deviceId)?.session && !excluded?.includes(n.deviceId) ? 1 : 0;
    let count = 0;
    for (const d of entry.devices.values()) if (d.session && !excluded?.includes(d.deviceId)) count++;
    return count;
  }

  /** Routes a notification by its own target fields. */
  deliver(out: Outgoing): number {
    if (out.n.clientId === null) return this.deliverToAll(out);
    if (out.n.deviceId !== null) return this.deliverToDevice(out);
    return this.deliverToClient(out);
  }

  // ---- SessionOwner ----

  schedule(s: Session, due: number): void {
    this.wheel.schedule(s, due);
  }

  unschedule(s: Session): void {
    this.wheel.cancel(s);
  }

  markDirty(s: Session): void {
    this.#dirty.push(s);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** Writes every dirty session's queue: one write batch per connection per event-loop turn. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const s of dirty) s.flush();
  };

  /** Flushes now (shutdown, tests). */
  flushNow(): void {
    this.#flush();
  }

  dropped(count: number): void {
    this.stats.dropped += count;
  }

  sessionLive(s: Session, head: Cursor): void {
    this.emit('live', s, head);
  }

  heartbeatSent(): void {
    this.stats.heartbeatsSent++;
  }

  heartbeatAnswered(_s: Session, rttMs: number | null): void {
    this.stats.heartbeatsAnswered++;
    if (rttMs !== null) this.emit('rtt', rttMs);
  }

  heartbeatMissed(): void {
    this.stats.heartbeatsMissed++;
  }

  delivered(s: Session, count: number): void {
    this.stats.delivered[s.conn.kind] += count;
  }

  ackReceived(s: Session, cursor: Cursor): void {
    const prev = this.#pendingAcks.get(s);
    const merged = prev ? laterCursor(prev.cursor, cursor) : cursor;
    this.#pendingAcks.set(s, { clientId: s.device.clientId, deviceId: s.device.deviceId, transport: s.conn.kind, cursor: merged, start: s.startedFrom });
    if (this.#ackTimer === null) {
      this.#ackTimer = setTimeout(() => this.flushAcks(), this.opts.ackFlushMs ?? 250);
      this.#ackTimer.unref();
    }
  }

  /** Acknowledged cursors go to the store in one batch per ackFlushMs, not one write per ack. */
  flushAcks(): void {
    if (this.#ackTimer) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    if (this.#pendingAcks.size === 0) return;
    const batch = [...this.#pendingAcks.values()];
    this.#pendingAcks.clear();
    this.emit('acks', batch);
  }

  // ---- sweep, drain, shutdown ----

  /**
   * The backstop (every STALE_SWEEP_MS): attached entries silent past interval × misses + timeout
   * are closed as zombies; detached entries older than DETACHED_TTL_MS are removed.
   */
  sweep(now: number): { stale: number; cleaned: number } {
    const s = this.settings;
    const staleAfter = s.heartbeatIntervalMs * s.heartbeatMaxMissed + s.heartbeatTimeoutMs;
    let stale = 0;
    let cleaned = 0;
    for (const session of [...this.#sessions]) {
      if (session.state === 'live' && now - session.lastInboundAt > staleAfter) {
        stale++;
        session.close('zombie');
      }
    }
    for (const entry of [...this.#clients.values()]) {
      for (const d of [...entry.devices.values()]) {
        if (d.state === 'detached' && d.detachedAt !== null && now - d.detachedAt >= this.opts.detachedTtlMs) {
          cleaned++;
          this.#forget(entry, d);
        }
      }
    }
    this.stats.staleFound += stale;
    this.stats.staleCleaned += cleaned;
    if (stale || cleaned) this.#log.info({ stale, cleaned }, 'stale sweep');
    return { stale, cleaned };
  }

  get detachedCount(): number {
    let n = 0;
    for (const d of this.devices()) if (d.state === 'detached') n++;
    return n;
  }

  /** Stop admitting; existing sessions stay until closed by the drain. */
  startDrain(): void {
    this.#draining = true;
  }

  /** Stops every timer this hub owns. Sessions must already be closed. */
  stop(): void {
    this.flushAcks();
    this.presence.flushPending(Date.now());
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
    this.wheel.clear();
  }
}
