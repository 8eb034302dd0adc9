import WebSocket from 'ws';
import { signDeviceToken } from '../../src/auth/auth.js';
import { sleep } from '../lib/children.js';
import { Histogram, nowMs } from '../lib/histogram.js';
import { postJson } from '../lib/http.js';
import type { ServerHandle } from '../lib/servers.js';
import { boundTarget } from '../lib/targets.js';
import { BENCH_API_KEY, BENCH_JWT_SECRET } from '../servers/kinds.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from './types.js';

const DEVICES = 5;
const ITEMS = 4;
/** How long the last frames of a phase may take before they count as missing. */
const DRAIN_MS = 5000;

interface Sizing {
  clients: number;
  rate: number;
  seconds: number;
}

const sizing = (mode: 'quick' | 'full'): Sizing => (mode === 'quick' ? { clients: 100, rate: 200, seconds: 3 } : { clients: 400, rate: 400, seconds: 8 });

/** A change in flight for one client: when it was asked, how many of its devices still wait for the frame. */
interface Pending {
  t0: number;
  waiting: number;
}

interface Phase {
  latency: Histogram;
  request: Histogram;
  asked: number;
  completed: number;
  skipped: number;
  cpuUs: number;
  ms: number;
}

const emptyPhase = (): Phase => ({ latency: new Histogram(), request: new Histogram(), asked: 0, completed: 0, skipped: 0, cpuUs: 0, ms: 0 });

/**
 * Issue 15: how fast a state change reaches every device of the client. Each client has 5 devices
 * (WebSocket, in the orchestrator: light load, one change in flight per client); every change
 * toggles `read` on one of its items, so each makes a `state` frame for all 5. Measured from the
 * moment the change is asked to the moment the fifth device has its frame: asked by the backend
 * (`POST /api/v1/clients/<c>/notifications/state`, its request latency beside it) and by a device
 * (a `{"type":"state"}` WebSocket frame from the first device). One node on the memory store, one
 * on the Redis store, and two nodes on Redis with 3 devices of each client on the first and 2 on
 * the second (changes asked on the first: the last frame always crosses nodes).
 */
export const inboxFanout: Scenario = {
  id: 'inbox-fanout',
  title: 'Mark-read fan-out to the 5 devices of a client',
  servers: ['herald', 'herald-redis', 'herald-cluster'],
  ratios: [
    ['herald-redis', 'herald'],
    ['herald-cluster', 'herald'],
  ],
  metrics: (s) => {
    const z = sizing(s.mode);
    return [
      { key: 'rate', label: `changes / s asked (${z.clients} clients × ${DEVICES} devices)`, unit: '/s', better: 'higher' },
      { key: 'backendP50', label: 'backend change → 5th device: p50', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'backendP99', label: 'backend change → 5th device: p99', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'backendRequestP99', label: 'backend change: request p99', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'deviceP50', label: 'device change (WebSocket) → 5th device: p50', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'deviceP99', label: 'device change (WebSocket) → 5th device: p99', unit: 'ms', better: 'lower', digits: 2 },
      { key: 'cpuUsPerChange', label: 'server CPU / change (all nodes, 5 frames)', unit: 'µs', better: 'lower', digits: 0 },
      { key: 'missing', label: 'changes whose frames did not all arrive', unit: '', better: 'lower' },
    ];
  },
  targets: [
    boundTarget('inbox-fanout-p99', 'Mark-read fan-out to 5 devices: p99 ≤ 200 ms on one node', 'backendP99', 'herald', '<=', 200, 'ms'),
    boundTarget('inbox-fanout-cluster-p99', 'Mark-read fan-out to 5 devices: p99 ≤ 200 ms across nodes', 'backendP99', 'herald-cluster', '<=', 200, 'ms'),
  ],
  charts: [
    {
      title: 'Mark-read fan-out to 5 devices (backend change)',
      unit: 'ms',
      log: true,
      keys: [
        { key: 'backendP50', label: 'p50' },
        { key: 'backendP99', label: 'p99' },
      ],
    },
  ],
  async run(ctx) {
    const z = sizing(ctx.sizes.mode);
    const nodes: ServerHandle[] = [];
    if (ctx.kind.id === 'herald-cluster') {
      const redis = await ctx.startRedis();
      for (let i = 0; i < 2; i++) nodes.push(await ctx.startServer({ redisUrl: redis.url, nodeId: `bench-inbox-n${i}` }));
    } else nodes.push(await ctx.startServer());
    const rig = await connect(ctx, nodes, z.clients);
    try {
      const backend = await phase(nodes, rig, z, 'backend');
      const device = await phase(nodes, rig, z, 'device');
      const changes = backend.asked + device.asked;
      const notes = [
        `${backend.completed + device.completed} of ${changes} changes reached all ${DEVICES} devices; ${backend.skipped + device.skipped} ticks skipped (client still busy)`,
      ];
      return {
        metrics: {
          rate: backend.asked / z.seconds,
          backendP50: backend.latency.percentileMs(50),
          backendP99: backend.latency.percentileMs(99),
          backendRequestP99: backend.request.percentileMs(99),
          deviceP50: device.latency.percentileMs(50),
          deviceP99: device.latency.percentileMs(99),
          cpuUsPerChange: (backend.cpuUs + device.cpuUs) / Math.max(1, changes),
          missing: changes - backend.completed - device.completed,
        },
        notes,
        details: { backend: backend.latency.summary(), backendRequest: backend.request.summary(), device: device.latency.summary() },
      } satisfies ScenarioOutcome;
    } finally {
      for (const sockets of rig.sockets) for (const ws of sockets) ws.terminate();
    }
  },
};

interface Rig {
  /** Client ids are `<prefix><n>`. */
  prefix: string;
  /** Per client: its 5 sockets. */
  sockets: WebSocket[][];
  /** Per client: its item ids. */
  items: string[][];
  /** Per client and item: read or not. */
  read: boolean[][];
  pending: (Pending | null)[];
  onDone: ((c: number, ms: number) => void) | null;
}

const headers = { authorization: `Bearer ${BENCH_API_KEY}` };

async function connect(ctx: ScenarioContext, nodes: ServerHandle[], clients: number): Promise<Rig> {
  const rig: Rig = {
    prefix: `inbox-${process.pid}-${Date.now().toString(36)}-`,
    sockets: [],
    items: [],
    read: [],
    pending: Array(clients).fill(null),
    onDone: null,
  };
  const opened: Promise<void>[] = [];
  for (let c = 0; c < clients; c++) {
    const clientId = `${rig.prefix}${c}`;
    const token = await signDeviceToken(BENCH_JWT_SECRET, clientId);
    const sockets: WebSocket[] = [];
    for (let d = 0; d < DEVICES; d++) {
      // Two nodes: devices 0-2 on the first, 3-4 on the second.
      const node = nodes.length === 1 || d < 3 ? nodes[0] : nodes[1];
      const ws = new WebSocket(`ws://127.0.0.1:${node.port}/ws?device=d${d}&token=${token}`);
      ws.on('error', () => {});
      ws.on('message', (data) => {
        const f = JSON.parse(data.toString()) as { type: string };
        if (f.type === 'ping') ws.send('{"type":"pong"}');
        else if (f.type === 'state') {
          const p = rig.pending[c];
          if (p && --p.waiting === 0) {
            rig.pending[c] = null;
            rig.onDone?.(c, nowMs() - p.t0);
          }
        }
      });
      opened.push(new Promise((resolve, reject) => ws.once('message', () => resolve()).once('close', () => reject(new Error('closed before its welcome')))));
      sockets.push(ws);
    }
    rig.sockets.push(sockets);
  }
  await Promise.all(opened);
  ctx.log(`${clients * DEVICES} devices connected`);
  await sleep(500); // registrations settle (a cluster's registry)
  for (let c = 0; c < clients; c++) {
    const ids: string[] = [];
    for (let k = 0; k < ITEMS; k++) {
      const r = await postJson(nodes[0].port, `/api/v1/clients/${rig.prefix}${c}/notifications`, { title: `item ${k}`, message: 'bench' }, headers);
      ids.push((JSON.parse(r.body) as { id: string }).id);
    }
    rig.items.push(ids);
    rig.read.push(ids.map(() => false));
  }
  return rig;
}

/** One paced phase: a change per tick, round robin over the clients, one in flight per client. */
async function phase(nodes: ServerHandle[], rig: Rig, z: Sizing, kind: 'backend' | 'device'): Promise<Phase> {
  const out = emptyPhase();
  rig.onDone = (_c, ms) => {
    out.completed++;
    out.latency.recordMs(ms);
  };
  const windows = await Promise.all(nodes.map((n) => n.begin(`inbox-${kind}`)));
  const t0 = nowMs();
  const end = t0 + z.seconds * 1000;
  let sent = 0;
  let next = 0;
  const requests: Promise<void>[] = [];
  while (nowMs() < end) {
    const due = Math.floor(((nowMs() - t0) * z.rate) / 1000);
    while (sent < due) {
      sent++;
      const c = next;
      next = (next + 1) % rig.items.length;
      if (rig.pending[c]) {
        out.skipped++;
        continue;
      }
      const k = sent % ITEMS;
      const read = !rig.read[c][k];
      rig.read[c][k] = read;
      const asked = nowMs();
      rig.pending[c] = { t0: asked, waiting: DEVICES };
      out.asked++;
      const change = { ids: [rig.items[c][k]], read };
      if (kind === 'device') rig.sockets[c][0].send(JSON.stringify({ type: 'state', ...change }));
      else {
        requests.push(
          postJson(nodes[0].port, `/api/v1/clients/${rig.prefix}${c}/notifications/state`, change, headers).then(() => {
            out.request.recordMs(nowMs() - asked);
          }),
        );
      }
    }
    await sleep(1);
  }
  await Promise.all(requests);
  const deadline = nowMs() + DRAIN_MS;
  while (rig.pending.some((p) => p !== null) && nowMs() < deadline) await sleep(5);
  out.ms = nowMs() - t0;
  const costs = await Promise.all(nodes.map((n, i) => n.end(windows[i])));
  out.cpuUs = costs.reduce((a, x) => a + x.cpuUs, 0);
  rig.pending.fill(null);
  rig.onDone = null;
  return out;
}
