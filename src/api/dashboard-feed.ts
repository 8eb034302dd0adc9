import type { HeraldNode } from '../core/node.js';
import { sum } from '../core/stats.js';
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

export interface DashboardFeedOptions {
  /** Minimum time between two `update` events. @default 1000 */
  updateMs?: number;
  /** How often the registry version is checked, for the small `devices` event. @default 250 */
  checkMs?: number;
  /** Samples kept for a viewer that joins (charts start filled). @default 120 */
  historySize?: number;
  /** A viewer with more unsent bytes than this is skipped for a tick. @default 262144 */
  maxBufferedBytes?: number;
}

interface Counters {
  at: number;
  published: number;
  delivered: number;
  connects: number;
  disconnects: number;
}

/**
 * The live side of the dashboard: ONE interval for all viewers, running only while there is at
 * least one. Every `checkMs` it compares the registry version (O(1)) and, when it moved, sends
 * every viewer a tiny `devices` event so pages refetch their visible rows at once; at most once per
 * `updateMs` it computes one `update` (totals, rates from counter deltas, send-queue bytes, RTT
 * percentiles, nodes) and writes that same string to every viewer. A viewer whose socket is
 * backed up skips updates instead of buffering them.
 */
export class DashboardFeed {
  readonly #node: HeraldNode;
  readonly #index: DeviceIndex;
  readonly #o: Required<DashboardFeedOptions>;
  readonly #viewers = new Set<FeedViewer>();
  #timer: NodeJS.Timeout | null = null;
  #prev: Counters | null = null;
  #last: DashboardUpdate | null = null;
  #ticks = 0;
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
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), this.#o.checkMs);
      this.#timer.unref();
      void this.#update();
    }
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

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    // The next viewer starts from fresh counters: rates over a gap nobody watched mean nothing.
    this.#prev = null;
    this.#last = null;
    this.#history = [];
    this.#lastVersion = -1;
    this.#ticks = 0;
  }

  #tick(): void {
    // Every n-th check is an update: interval ticks never come early, so updates are >= updateMs apart.
    this.#ticks = (this.#ticks + 1) % Math.max(1, Math.round(this.#o.updateMs / this.#o.checkMs));
    if (this.#ticks === 0) {
      void this.#update();
      return;
    }
    const version = this.#index.version;
    if (version !== this.#lastVersion) {
      this.#lastVersion = version;
      this.#broadcast(sse('devices', { version }));
    }
  }

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

  #snapshot(nodes: NodeSummary[]): DashboardUpdate {
    const node = this.#node;
    const hub = node.hub;
    const s = hub.stats;
    const now = Date.now();
    const devices = this.#index.countDevices();
    const counters: Counters = {
      at: now,
      published: s.published,
      delivered: sum(s.delivered),
      connects: sum(s.connects),
      disconnects: sum(s.disconnects),
    };
    const prev = this.#prev;
    this.#prev = counters;
    const secs = prev ? Math.max(0.001, (now - prev.at) / 1000) : 0;
    const rate = (k: keyof Omit<Counters, 'at'>) => (prev ? round2(Math.max(0, counters[k] - prev[k]) / secs) : 0);

    let queueBytes = 0;
    let maxBytes = 0;
    const rtts = new Float64Array(hub.connectionCount);
    let n = 0;
    for (const session of hub.sessions()) {
      const q = session.queuedBytes;
      queueBytes += q;
      if (q > maxBytes) maxBytes = q;
      const rtt = session.device.rttMs;
      if (rtt !== null && n < rtts.length) rtts[n++] = rtt;
    }
    const sorted = rtts.subarray(0, n).sort();
    const pct = (p: number) => (n ? sorted[Math.min(n - 1, Math.floor((p / 100) * n))] : null);

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
      rates: { publishes: rate('published'), deliveries: rate('delivered'), connects: rate('connects'), disconnects: rate('disconnects') },
      totals: {
        published: s.published,
        delivered: counters.delivered,
        dropped: s.dropped,
        zombies: s.zombies,
        staleCleaned: s.staleCleaned,
        heartbeatsSent: s.heartbeatsSent,
        heartbeatsAnswered: s.heartbeatsAnswered,
        heartbeatsMissed: s.heartbeatsMissed,
      },
      sendQueue: { bytes: queueBytes, maxBytes },
      rtt: { p50: pct(50), p99: pct(99), max: n ? sorted[n - 1] : null, samples: n },
      nodes,
    };
  }
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
