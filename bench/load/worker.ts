import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { signDeviceToken } from '../../src/auth/auth.js';
import { Histogram, nowMs } from '../lib/histogram.js';
import { emitEvent, type IpcRequest, serveRpc } from '../lib/ipc.js';
import type { ServerId, Transport } from '../servers/kinds.js';
import { PROTOCOLS, readStamp } from './protocols.js';
import { type Conn, openGrpc, openGrpcWeb, openSse, openWs } from './streams.js';

/**
 * A load process: up to a few thousand devices of one server, all from one loopback source address
 * (its own ephemeral port range), so several of these reach 15 000 connections while each stays
 * under the 20 000-file limit. Driven over IPC by the orchestrator (see lib/devices.ts).
 * Devices speak WebSocket, SSE or gRPC (load/streams.ts); with `track`, each also keeps every
 * sequence number it received and its resume position (cursor, or Socket.IO's pid and offset),
 * for the reconnect storm's exact lost/duplicated check.
 */
interface Device {
  clientId: string;
  port: number;
  /** Not on the first node (cluster scenarios: the publish goes to the first). */
  remote: boolean;
  conn: Conn | null;
  ready: boolean;
  /** Bumped at each connect: events of an earlier connection are ignored. */
  gen: number;
  // track mode
  seen: Set<number> | null;
  dups: number;
  cursor: string | null;
  sioPid: string | null;
  sioOffset: string | null;
  /** Stored notifications still to come after the welcome (Herald's `pending`). */
  pendingLeft: number;
  resumed: boolean | null;
  resumedAt: number;
}

interface InitRequest {
  server: ServerId;
  transport: Transport;
  /** Ports of the server's nodes: device k (global index) goes to ports[k % ports.length]. */
  ports: number[];
  /** Client ids are `u<first>` … `u<first + count - 1>`, one device each. */
  first: number;
  count: number;
  localAddress: string;
  secret: string;
  /** Handshakes in flight at once (keeps the server's accept backlog from overflowing). */
  concurrency: number;
  track: boolean;
}

const MAX_LIFETIME_MS = 30 * 60_000;
const HANDSHAKE_TIMEOUT_MS = 20_000;

let init: InitRequest;
let devices: Device[] = [];
let tokens: string[] = [];
let open = 0;
let closed = 0;
const closeCodes: Record<string, number> = {};

// what the current phase has seen
let received = 0;
let pings = 0;
let lastAt = 0;
let bytes = 0;
const latency = new Histogram();
/** Devices not on the first node (cluster scenarios): cross-node deliveries. */
const latencyRemote = new Histogram();
/** This process's own stalls: a device's latency includes them, so they are reported beside it. */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.duration > gcMaxMs) gcMaxMs = e.duration;
}).observe({ entryTypes: ['gc'] });
/** Per broadcast sequence: how many of this worker's devices have it (broadcast scenarios). */
let perSeq: Map<number, number> | null = null;
let expectPerSeq = 0;

const CURSOR_MARK = Buffer.from('"cursor":"');
const QUOTE = 0x22;

/** Track mode: what a notification frame says about the device's resume position. */
function trackFrame(d: Device, data: Buffer, s: number, at: number): void {
  if (d.seen) {
    if (d.seen.has(s)) d.dups++;
    else d.seen.add(s);
  }
  const proto = init.server;
  if (PROTOCOLS[proto] === PROTOCOLS.socketio) {
    // `42["notification",{…},"<offset>"]`: with connection-state recovery the offset is the last argument.
    const end = data.length - 2;
    if (data[end] === QUOTE) {
      const start = data.lastIndexOf(QUOTE, end - 1);
      if (start > 0) d.sioOffset = data.toString('latin1', start + 1, end);
    }
  } else {
    const i = data.indexOf(CURSOR_MARK);
    if (i >= 0) {
      const j = data.indexOf(QUOTE, i + CURSOR_MARK.length);
      if (j > 0) d.cursor = data.toString('latin1', i + CURSOR_MARK.length, j);
    }
  }
  if (d.pendingLeft > 0 && --d.pendingLeft === 0 && d.resumedAt === 0) d.resumedAt = at;
}

/** Track mode: the welcome (Herald) or connect ack (Socket.IO) says whether the resume was honoured. */
function trackReady(d: Device, data: Buffer, at: number): void {
  if (PROTOCOLS[init.server] === PROTOCOLS.socketio) {
    let pid: string | null = null;
    try {
      pid = (JSON.parse(data.toString('utf8', 2)) as { pid?: string }).pid ?? null;
    } catch {}
    d.resumed = d.sioPid !== null && pid === d.sioPid;
    d.sioPid = pid;
    d.pendingLeft = 0;
    d.resumedAt = at;
    return;
  }
  const i = data.indexOf('{');
  let w: { resumed?: boolean; pending?: number } = {};
  try {
    w = JSON.parse(data.toString('utf8', Math.max(i, 0))) as typeof w;
  } catch {}
  d.resumed = w.resumed ?? null;
  d.pendingLeft = w.pending ?? 0;
  if (d.pendingLeft === 0) d.resumedAt = at;
}

function onMessage(d: Device, conn: Conn, data: Buffer, settle: (ok: boolean, why?: string) => void): void {
  const proto = PROTOCOLS[init.server];
  // Notification frames carry the bench stamp; anything else is the protocol's own traffic.
  const stamp = readStamp(data);
  if (stamp) {
    const at = nowMs();
    received++;
    bytes += data.length;
    lastAt = at;
    latency.recordMs(at - stamp.t);
    if (d.remote) latencyRemote.recordMs(at - stamp.t);
    if (init.track) trackFrame(d, data, stamp.s, at);
    if (perSeq && stamp.s >= 0) {
      const n = (perSeq.get(stamp.s) ?? 0) + 1;
      if (n >= expectPerSeq) {
        perSeq.delete(stamp.s);
        emitEvent('seq', { seq: stamp.s, lastAt: at, count: n });
      } else perSeq.set(stamp.s, n);
    }
    return;
  }
  const r = proto.control(conn, data, d);
  if (r === 'ping') pings++;
  else if (r === 'ready') {
    if (init.track) trackReady(d, data, nowMs());
    settle(true);
  } else if (r === 'refused') settle(false, 'refused');
}

function connectOne(d: Device, index: number, hs: Histogram): Promise<string | null> {
  const proto = PROTOCOLS[init.server];
  const started = nowMs();
  const gen = ++d.gen;
  const token = proto.needsToken ? tokens[index] : null;
  d.resumed = null;
  d.resumedAt = 0;
  d.pendingLeft = 0;
  return new Promise((resolve) => {
    let settled = false;
    const timer = setTimeout(() => settle(false, 'ready timeout'), HANDSHAKE_TIMEOUT_MS);
    function settle(ok: boolean, why?: string) {
      if (settled || d.gen !== gen) return;
      settled = true;
      clearTimeout(timer);
      if (ok) {
        d.ready = true;
        open++;
        hs.recordMs(nowMs() - started);
        resolve(null);
      } else {
        conn.close();
        resolve(why ?? 'failed');
      }
    }
    const events = {
      open: () => {
        if (proto.readyOnOpen && d.gen === gen) settle(true);
      },
      frame: (data: Buffer) => {
        if (d.gen === gen) onMessage(d, conn, data, settle);
      },
      error: (why: string) => settle(false, why),
      close: (code: number) => {
        if (d.gen !== gen) return;
        if (d.ready) {
          d.ready = false;
          open--;
          closed++;
          closeCodes[code] = (closeCodes[code] ?? 0) + 1;
        }
        settle(false, `closed ${code}`);
      },
    };
    const cursor = init.track ? d.cursor : null;
    const conn: Conn =
      init.transport === 'grpc'
        ? openGrpc(d.port, d.clientId, token ?? '', cursor, events)
        : init.transport === 'grpc-web'
          ? openGrpcWeb(d.port, d.clientId, token ?? '', cursor, init.localAddress, HANDSHAKE_TIMEOUT_MS, events)
          : init.transport === 'sse'
            ? openSse(proto.url(d.port, d.clientId, token, cursor), init.localAddress, HANDSHAKE_TIMEOUT_MS, events)
            : openWs(proto.url(d.port, d.clientId, token, cursor), init.localAddress, HANDSHAKE_TIMEOUT_MS, events);
    d.conn = conn;
  });
}

/** Connects devices [from, upTo) with `lanes` handshakes in flight. */
async function connectRange(list: number[], lanes: number) {
  const hs = new Histogram();
  const errors: Record<string, number> = {};
  let failed = 0;
  let next = 0;
  const t0 = nowMs();
  const lane = async () => {
    while (next < list.length) {
      const i = list[next++];
      const err = await connectOne(devices[i], i, hs);
      if (err) {
        failed++;
        errors[err] = (errors[err] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, list.length) }, lane));
  return { open, failed, errors, elapsedMs: nowMs() - t0, handshake: hs.toJSON() };
}

/** Drops every device's connection at once, without counting it as a close. */
function dropAll(): void {
  for (const d of devices) {
    if (!d.conn) continue;
    d.gen++;
    d.conn.close();
    d.conn = null;
    if (d.ready) {
      d.ready = false;
      open--;
    }
  }
}

serveRpc(
  {
    async init(req: IpcRequest) {
      init = req as unknown as InitRequest;
      devices = Array.from({ length: init.count }, (_, i) => {
        const k = init.first + i;
        const n = init.ports.length;
        return {
          clientId: `u${k}`,
          port: init.ports[k % n],
          remote: n > 1 && k % n !== 0,
          conn: null,
          ready: false,
          gen: 0,
          seen: init.track ? new Set<number>() : null,
          dups: 0,
          cursor: null,
          sioPid: null,
          sioOffset: null,
          pendingLeft: 0,
          resumed: null,
          resumedAt: 0,
        };
      });
      if (PROTOCOLS[init.server].needsToken) {
        tokens = await Promise.all(devices.map((d) => signDeviceToken(init.secret, d.clientId, 4 * 3600)));
      }
      return { count: devices.length };
    },
    /** Connects devices up to `upTo` that never connected; answers when all are ready or failed. */
    async connect(req: IpcRequest) {
      const upTo = Math.min(devices.length, req.upTo as number);
      const list: number[] = [];
      for (let i = 0; i < upTo; i++) if (devices[i].conn === null && devices[i].gen === 0) list.push(i);
      return connectRange(list, init.concurrency);
    },
    /**
     * Reconnect storm: every device drops its connection at once and reconnects with its resume
     * position (`lanes` handshakes in flight). Answers when each device has its stream back and
     * its replay received (Herald: `welcome.pending` notifications after the welcome; Socket.IO:
     * the connect ack, written after the missed packets), or at `timeoutMs`.
     */
    async storm(req: IpcRequest) {
      const timeoutMs = req.timeoutMs as number;
      dropAll();
      const t0 = nowMs();
      const list = devices.map((_, i) => i);
      const c = await connectRange(list, req.lanes as number);
      const deadline = t0 + timeoutMs;
      while (nowMs() < deadline && devices.some((d) => d.ready && d.resumedAt === 0)) await new Promise((r) => setTimeout(r, 10));
      let lastResumedAt = 0;
      let notResumed = 0;
      let notCaughtUp = 0;
      for (const d of devices) {
        if (d.resumed !== true) notResumed++;
        if (d.resumedAt === 0) notCaughtUp++;
        else lastResumedAt = Math.max(lastResumedAt, d.resumedAt);
      }
      return { t0, ...c, lastResumedAt, notResumed, notCaughtUp };
    },
    /**
     * Track mode: lost, duplicated and unexpected notifications. Publisher sequence `s` went to
     * client `u<(offset + s) % clients>`; `ambiguous` are sequences whose publish failed without an
     * answer (stored or not: neither counted as lost nor as unexpected).
     */
    verify(req: IpcRequest) {
      const { total, offset, clients } = req as unknown as { total: number; offset: number; clients: number };
      const ambiguous = new Set(req.ambiguous as number[]);
      let expected = 0;
      let lost = 0;
      let dups = 0;
      let unexpected = 0;
      let devicesWithLoss = 0;
      const examples: string[] = [];
      for (let i = 0; i < devices.length; i++) {
        const d = devices[i];
        const seen = d.seen ?? new Set<number>();
        const c = init.first + i;
        let mine = 0;
        let missing = 0;
        for (let s = (((c - offset) % clients) + clients) % clients; s < total; s += clients) {
          if (ambiguous.has(s)) continue;
          mine++;
          if (!seen.has(s)) {
            missing++;
            if (examples.length < 5) examples.push(`${d.clientId} missed #${s}`);
          }
        }
        for (const s of seen) if (((((offset + s) % clients) + clients) % clients !== c || s >= total) && !ambiguous.has(s)) unexpected++;
        expected += mine;
        lost += missing;
        dups += d.dups;
        if (missing) devicesWithLoss++;
      }
      return { expected, lost, dups, unexpected, devicesWithLoss, examples };
    },
    /** Starts a measurement phase; with `seqTracking`, reports each broadcast sequence once all devices have it. */
    phase(req: IpcRequest) {
      received = 0;
      pings = 0;
      lastAt = 0;
      bytes = 0;
      latency.reset();
      latencyRemote.reset();
      loopDelay.reset();
      gcMaxMs = 0;
      perSeq = req.seqTracking ? new Map() : null;
      expectPerSeq = open;
      return { open };
    },
    report() {
      return {
        open,
        closed,
        closeCodes,
        received,
        pings,
        bytes,
        lastAt,
        latency: latency.toJSON(),
        latencyRemote: latencyRemote.toJSON(),
        loopDelayMaxMs: loopDelay.max / 1e6,
        gcMaxMs,
      };
    },
    close() {
      for (const d of devices) {
        d.gen++;
        d.conn?.close();
      }
      setTimeout(() => process.exit(0), 200);
      return true;
    },
  },
  MAX_LIFETIME_MS,
);
