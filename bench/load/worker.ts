import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { signDeviceToken } from '../../src/api/auth.js';
import { Histogram, nowMs } from '../lib/histogram.js';
import { emitEvent, type IpcRequest, serveRpc } from '../lib/ipc.js';
import type { ServerId } from '../servers/kinds.js';
import { PROTOCOLS, readStamp } from './protocols.js';

/**
 * A load process: up to a few thousand devices of one server, all from one loopback source address
 * (its own ephemeral port range), so several of these reach 15 000 connections while each stays
 * under the 20 000-file limit. Driven over IPC by the orchestrator (see lib/devices.ts).
 */
interface Device {
  clientId: string;
  ws: WebSocket | null;
  ready: boolean;
}

interface InitRequest {
  server: ServerId;
  port: number;
  /** Client ids are `u<first>` … `u<first + count - 1>`, one device each. */
  first: number;
  count: number;
  localAddress: string;
  secret: string;
  /** Handshakes in flight at once (keeps the server's accept backlog from overflowing). */
  concurrency: number;
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

function onMessage(d: Device, ws: WebSocket, data: Buffer, settle: (ok: boolean, why?: string) => void): void {
  const proto = PROTOCOLS[init.server];
  // Notification frames carry the bench stamp; anything else is the protocol's own traffic.
  const stamp = readStamp(data);
  if (stamp) {
    const at = nowMs();
    received++;
    bytes += data.length;
    lastAt = at;
    latency.recordMs(at - stamp.t);
    if (perSeq && stamp.s >= 0) {
      const n = (perSeq.get(stamp.s) ?? 0) + 1;
      if (n >= expectPerSeq) {
        perSeq.delete(stamp.s);
        emitEvent('seq', { seq: stamp.s, lastAt: at, count: n });
      } else perSeq.set(stamp.s, n);
    }
    return;
  }
  const r = proto.control(ws, data, d.clientId);
  if (r === 'ping') pings++;
  else if (r === 'ready') settle(true);
  else if (r === 'refused') settle(false, 'refused');
}

function connectOne(d: Device, index: number, hs: Histogram): Promise<string | null> {
  const proto = PROTOCOLS[init.server];
  const started = nowMs();
  return new Promise((resolve) => {
    const ws = new WebSocket(proto.url(init.port, d.clientId, proto.needsToken ? tokens[index] : null), {
      localAddress: init.localAddress,
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    d.ws = ws;
    let settled = false;
    const timer = setTimeout(() => settle(false, 'ready timeout'), HANDSHAKE_TIMEOUT_MS);
    function settle(ok: boolean, why?: string) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ok) {
        d.ready = true;
        open++;
        hs.recordMs(nowMs() - started);
        resolve(null);
      } else {
        ws.terminate();
        resolve(why ?? 'failed');
      }
    }
    ws.on('open', () => {
      if (proto.readyOnOpen) settle(true);
    });
    ws.on('message', (data: Buffer) => onMessage(d, ws, data, settle));
    ws.on('unexpected-response', (_req, res) => settle(false, `HTTP ${res.statusCode}`));
    ws.on('error', (err) => settle(false, err.message));
    ws.on('close', (code) => {
      if (d.ready) {
        d.ready = false;
        open--;
        closed++;
        closeCodes[code] = (closeCodes[code] ?? 0) + 1;
      }
      settle(false, `closed ${code}`);
    });
  });
}

serveRpc(
  {
    async init(req: IpcRequest) {
      init = req as unknown as InitRequest;
      devices = Array.from({ length: init.count }, (_, i) => ({ clientId: `u${init.first + i}`, ws: null, ready: false }));
      if (PROTOCOLS[init.server].needsToken) {
        tokens = await Promise.all(devices.map((d) => signDeviceToken(init.secret, d.clientId, 4 * 3600)));
      }
      return { count: devices.length };
    },
    /** Connects devices [connected, upTo); answers when all are ready or failed. */
    async connect(req: IpcRequest) {
      const upTo = Math.min(devices.length, req.upTo as number);
      const hs = new Histogram();
      const errors: Record<string, number> = {};
      let failed = 0;
      let next = devices.findIndex((d) => d.ws === null);
      if (next < 0) next = devices.length;
      const t0 = nowMs();
      const lane = async () => {
        while (next < upTo) {
          const i = next++;
          const err = await connectOne(devices[i], i, hs);
          if (err) {
            failed++;
            errors[err] = (errors[err] ?? 0) + 1;
          }
        }
      };
      await Promise.all(Array.from({ length: init.concurrency }, lane));
      return { open, failed, errors, elapsedMs: nowMs() - t0, handshake: hs.toJSON() };
    },
    /** Starts a measurement phase; with `seqTracking`, reports each broadcast sequence once all devices have it. */
    phase(req: IpcRequest) {
      received = 0;
      pings = 0;
      lastAt = 0;
      bytes = 0;
      latency.reset();
      loopDelay.reset();
      gcMaxMs = 0;
      perSeq = req.seqTracking ? new Map() : null;
      expectPerSeq = open;
      return { open };
    },
    report() {
      return { open, closed, closeCodes, received, pings, bytes, lastAt, latency: latency.toJSON(), loopDelayMaxMs: loopDelay.max / 1e6, gcMaxMs };
    },
    close() {
      for (const d of devices) d.ws?.terminate();
      setTimeout(() => process.exit(0), 200);
      return true;
    },
  },
  MAX_LIFETIME_MS,
);
