import type { HeraldNode } from '../core/node.js';
import type { Session } from '../core/session.js';
import { heartbeatsSnapshot, notificationsSnapshot } from '../core/stats.js';
import type { DeviceIndex } from './device-index.js';

/** A node of the cluster as the dashboard lists it. */
export interface NodeSummary {
  id: string;
  /** Attached device streams on that node. */
  connections: number;
  /** This node (the one serving the dashboard). */
  self: boolean;
  /** Its last cluster heartbeat, ms since epoch (this node: now). */
  lastSeenAt: number;
}

/** The optional view a cluster broker gives of its members (the Redis broker has it). */
interface ClusterMembers {
  nodeConnections(): Promise<{ id: string; connections: number; lastSeenAt: number }[]>;
}

/** One point of the dashboard's time series. */
export interface DashboardSample {
  ts: number;
  connections: number;
  /** Publishes accepted by this node per second, over the last interval. */
  publishes: number;
  /** Notifications handed to device streams per second. */
  deliveries: number;
  queueBytes: number;
  rttP50: number | null;
  rttP99: number | null;
}

/** The `update` event of `GET /api/v1/events`. */
export interface DashboardUpdate {
  ts: number;
  node: string;
  state: string;
  broker: 'local' | 'redis';
  /** Registry version: the page refetches its visible rows when it changes. */
  version: number;
  /** Attached streams: `total`, and one count per transport kind (`ws`, `sse`, `grpc`). */
  connections: { total: number; [transport: string]: number };
  /** Clients with at least one attached device. */
  clientsOnline: number;
  /** Registrations on this node, attached and detached. */
  devices: number;
  detached: number;
  rates: { publishes: number; deliveries: number; connects: number; disconnects: number };
  totals: {
    published: number;
    delivered: number;
    dropped: number;
    zombies: number;
    staleCleaned: number;
    heartbeatsSent: number;
    heartbeatsAnswered: number;
    heartbeatsMissed: number;
  };
  sendQueue: { bytes: number; maxBytes: number };
  rtt: { p50: number | null; p99: number | null; max: number | null; samples: number };
  nodes: NodeSummary[];
}

/** A dashboard stream: write an SSE chunk (false when its socket is backed up), or end it. */
export interface FeedViewer {
  write(chunk: string): boolean;
  /** Bytes accepted but not yet flushed to the socket. */
  buffered(): number;
  end(): void;
}

/** The feed's timing and limits; the defaults suit a person watching. */
export interface DashboardFeedOptions {
  /** Minimum time between two `update` events. @default 1000 */
  updateMs?: number;
  /** Least time between two `devices` events (registry changes): changes closer together are announced as one. @default 250 */
  checkMs?: number;
  /** Samples kept for a viewer that joins (charts start filled). @default 120 */
  historySize?: number;
  /** A viewer with more unsent bytes than this is skipped for a tick. @default 262144 */
  maxBufferedBytes?: number;
}

/** What the rates are computed from: counted from events between two updates, and the delivered total. */
interface RateBase {
  at: number;
  delivered: number;
}

/**
 * The live side of the dashboard, shared by every viewer and running only while there is at least
 * one. It listens rather than polls: publishes, connects and disconnects are counted from the
 * node's and the hub's events, and each registry change (the device index's `changed`) is
 * announced to every viewer as a tiny `devices` event so pages refetch their visible rows at once
 * (changes closer than `checkMs` together). ONE interval throttles the `update` to once per
 * `updateMs`: totals, rates over the interval, send-queue bytes, RTT percentiles and nodes,
 * computed once and written as the same string to every viewer. A viewer whose socket is backed
 * up skips updates instead of buffering them.
 */
export class DashboardFeed {
  readonly #node: HeraldNode;
  readonly #index: DeviceIndex;
  readonly #o: Required<DashboardFeedOptions>;
  readonly #viewers = new Set<FeedViewer>();
  /** The one interval: an update every `updateMs`. */
  #timer: NodeJS.Timeout | null = null;
  /** A `devices` event waiting out `checkMs` since the previous one. */
  #announce: NodeJS.Timeout | null = null;
  #announcedAt = 0;
  /** Counted from events since the last update. */
  #counts = { published: 0, connects: 0, disconnects: 0 };
  #prev: RateBase | null = null;
  #last: DashboardUpdate | null = null;
  #lastVersion = -1;
  #history: DashboardSample[] = [];
  #computing = false;
  #nodes: NodeSummary[] = [];

  constructor(node: HeraldNode, index: DeviceIndex, opts: DashboardFeedOptions = {}) {
    this.#node = node;
    this.#index = index;
    this.#o = { updateMs: 1000, checkMs: 250, historySize: 120, maxBufferedBytes: 256 * 1024, ...opts };
  }

  get viewerCount(): number {
    return this.#viewers.size;
  }

  /** Whether the shared interval is running (only while someone watches). */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Adds a viewer: it gets the history and the latest update at once. Returns its removal. */
  add(viewer: FeedViewer): () => void {
    this.#viewers.add(viewer);
    viewer.write(`retry: 2000\n\n${sse('history', this.#history)}`);
    if (this.#last) viewer.write(sse('update', this.#last));
    if (!this.#timer) this.#start();
    return () => this.remove(viewer);
  }

  remove(viewer: FeedViewer): void {
    if (!this.#viewers.delete(viewer) || this.#viewers.size > 0) return;
    this.#stop();
  }

  /** Ends every stream (server shutdown) and stops the interval. */
  close(): void {
    const viewers = [...this.#viewers];
    this.#viewers.clear();
    this.#stop();
    for (const v of viewers) v.end();
  }

  #start(): void {
    this.#timer = setInterval(() => void this.#update(), this.#o.updateMs);
    this.#timer.unref();
    this.#listen(true);
    void this.#update();
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#announce) clearTimeout(this.#announce);
    this.#announce = null;
    this.#listen(false);
    // The next viewer starts from fresh counts: rates over a gap nobody watched mean nothing.
    this.#counts = { published: 0, connects: 0, disconnects: 0 };
    this.#prev = null;
    this.#last = null;
    this.#history = [];
    this.#lastVersion = -1;
  }

  /** Subscribes to the events the feed counts and announces, or unsubscribes (nobody watches). */
  #listen(on: boolean): void {
    const node = this.#node;
    const hub = node.hub;
    if (on) {
      node.on('published', this.#onPublished);
      hub.on('attached', this.#onAttached).on('detached', this.#onDetached);
      this.#index.on('changed', this.#onChanged);
    } else {
      node.off('published', this.#onPublished);
      hub.off('attached', this.#onAttached).off('detached', this.#onDetached);
      this.#index.off('changed', this.#onChanged);
    }
  }

  readonly #onPublished = (): void => {
    this.#counts.published++;
  };

  readonly #onAttached = (): void => {
    this.#counts.connects++;
  };

  readonly #onDetached = (): void => {
    this.#counts.disconnects++;
  };

  /** A registry change: announced after the hub's own work (a timer, never inside its call), coalesced. */
  readonly #onChanged = (): void => {
    if (this.#announce) return;
    this.#announce = setTimeout(this.#announceDevices, Math.max(0, this.#announcedAt + this.#o.checkMs - Date.now()));
    this.#announce.unref();
  };

  readonly #announceDevices = (): void => {
    this.#announce = null;
    this.#announcedAt = Date.now();
    const version = this.#index.version;
    if (version === this.#lastVersion) return;
    this.#lastVersion = version;
    this.#broadcast(sse('devices', { version }));
  };

  async #update(): Promise<void> {
    if (this.#computing) return;
    this.#computing = true;
    try {
      const nodes = await this.#members();
      if (!this.#timer) return;
      const u = this.#snapshot(nodes);
      this.#last = u;
      this.#lastVersion = u.version;
      this.#history.push({
        ts: u.ts,
        connections: u.connections.total,
        publishes: u.rates.publishes,
        deliveries: u.rates.deliveries,
        queueBytes: u.sendQueue.bytes,
        rttP50: u.rtt.p50,
        rttP99: u.rtt.p99,
      });
      if (this.#history.length > this.#o.historySize) this.#history.splice(0, this.#history.length - this.#o.historySize);
      this.#broadcast(sse('update', u));
    } catch (err) {
      this.#node.log.warn({ err }, 'dashboard update failed');
    } finally {
      this.#computing = false;
    }
  }

  #broadcast(chunk: string): void {
    for (const v of this.#viewers) {
      if (v.buffered() > this.#o.maxBufferedBytes) continue;
      v.write(chunk);
    }
  }

  /** The cluster's nodes; on a Redis failure the last known list (this node's count kept fresh). */
  async #members(): Promise<NodeSummary[]> {
    this.#nodes = await clusterNodes(this.#node).catch((err) => {
      this.#node.log.debug({ err }, 'dashboard: cluster members unavailable');
      return this.#nodes.length ? this.#nodes : clusterNodesLocal(this.#node);
    });
    return this.#nodes;
  }

  /** Per second since the last update: the counts from events, and deliveries from the delivered total. */
  #rates(now: number, delivered: number): DashboardUpdate['rates'] {
    const prev = this.#prev;
    const counts = this.#counts;
    this.#prev = { at: now, delivered };
    this.#counts = { published: 0, connects: 0, disconnects: 0 };
    if (!prev) return { publishes: 0, deliveries: 0, connects: 0, disconnects: 0 };
    const secs = Math.max(0.001, (now - prev.at) / 1000);
    const rate = (n: number) => round2(Math.max(0, n) / secs);
    return {
      publishes: rate(counts.published),
      deliveries: rate(delivered - prev.delivered),
      connects: rate(counts.connects),
      disconnects: rate(counts.disconnects),
    };
  }

  #snapshot(nodes: NodeSummary[]): DashboardUpdate {
    const node = this.#node;
    const hub = node.hub;
    const now = Date.now();
    const devices = this.#index.countDevices();
    const notifications = notificationsSnapshot(node);
    const heartbeats = heartbeatsSnapshot(node);
    return {
      ts: now,
      node: node.config.NODE_ID,
      state: node.state,
      broker: node.broker.kind,
      version: this.#index.version,
      connections: { total: hub.connectionCount, ...hub.byTransport },
      clientsOnline: hub.presence.onlineCount,
      devices,
      detached: devices - hub.connectionCount,
      rates: this.#rates(now, notifications.delivered),
      totals: {
        published: notifications.published,
        delivered: notifications.delivered,
        dropped: notifications.dropped,
        zombies: heartbeats.zombies,
        staleCleaned: hub.stats.staleCleaned,
        heartbeatsSent: heartbeats.sent,
        heartbeatsAnswered: heartbeats.answered,
        heartbeatsMissed: heartbeats.missed,
      },
      ...sessionFigures(hub.sessions(), hub.connectionCount),
      nodes,
    };
  }
}

/** Send-queue bytes and heartbeat round trips over this node's sessions: one pass, at each update. */
function sessionFigures(sessions: Iterable<Session>, count: number): Pick<DashboardUpdate, 'sendQueue' | 'rtt'> {
  let queueBytes = 0;
  let maxBytes = 0;
  const rtts = new Float64Array(count);
  let n = 0;
  for (const session of sessions) {
    const q = session.queuedBytes;
    queueBytes += q;
    if (q > maxBytes) maxBytes = q;
    const rtt = session.device.rttMs;
    if (rtt !== null && n < rtts.length) rtts[n++] = rtt;
  }
  const sorted = rtts.subarray(0, n).sort();
  const pct = (p: number) => (n ? sorted[Math.min(n - 1, Math.floor((p / 100) * n))] : null);
  return { sendQueue: { bytes: queueBytes, maxBytes }, rtt: { p50: pct(50), p99: pct(99), max: n ? sorted[n - 1] : null, samples: n } };
}

/** The nodes of the cluster with their connection counts; with the local broker, this node. */
export async function clusterNodes(node: HeraldNode): Promise<NodeSummary[]> {
  const members = node.broker as Partial<ClusterMembers>;
  if (node.broker.kind !== 'redis' || typeof members.nodeConnections !== 'function') return clusterNodesLocal(node);
  const self = node.config.NODE_ID;
  const list = await members.nodeConnections();
  const out = list.map((m) => ({
    id: m.id,
    // This node's own figure is exact and current; the others' come from Redis.
    connections: m.id === self ? node.hub.connectionCount : m.connections,
    self: m.id === self,
    lastSeenAt: m.lastSeenAt,
  }));
  if (!out.some((m) => m.self)) out.push(...clusterNodesLocal(node));
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function clusterNodesLocal(node: HeraldNode): NodeSummary[] {
  return [{ id: node.config.NODE_ID, connections: node.hub.connectionCount, self: true, lastSeenAt: Date.now() }];
}

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
