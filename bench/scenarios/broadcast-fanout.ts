import { postBroadcast } from '../lib/broadcast.js';
import { sleep } from '../lib/children.js';
import type { DevicePool } from '../lib/devices.js';
import { nowMs } from '../lib/histogram.js';
import { interleave, median } from '../lib/interleave.js';
import type { ServerHandle } from '../lib/servers.js';
import { ratioTarget } from '../lib/targets.js';
import { LATENCY_METRICS, latencyChart, type Scenario, type ScenarioOutcome } from './types.js';

const SEQ_TIMEOUT_MS = 15_000;
/** Pause after each broadcast: one at a time, each measured alone. */
const GAP_MS = 100;

interface Rig {
  server: ServerHandle;
  pool: DevicePool;
  notes: string[];
  /** Per measured broadcast: devices ÷ (last receipt − publish), per second. */
  rates: number[];
  spentMs: number;
  incomplete: number;
  cpuUs: number;
}

async function broadcastOnce(rig: Rig, seq: number, devices: number, measured: boolean): Promise<void> {
  const { server, pool } = rig;
  const done = pool.waitSeq(seq, SEQ_TIMEOUT_MS);
  const w = measured ? await server.begin('broadcast') : null;
  const t = nowMs();
  await postBroadcast(server, 'broadcast fan-out', t, seq);
  const r = await done;
  if (!measured) return;
  if (w) rig.cpuUs += (await server.end(w)).cpuUs;
  const ms = (r.complete ? r.lastAt : nowMs()) - t;
  rig.spentMs += ms;
  if (!r.complete) rig.incomplete++;
  else rig.rates.push((devices / ms) * 1000);
}

/**
 * One broadcast at a time to every connected device: deliveries per second (devices ÷ time from
 * publish to the last device's receipt; the median over the broadcasts) and the publish-to-receive
 * latency of every delivery, from the publisher's timestamp inside the message to the device's
 * clock (same machine). The servers run side by side, idle but for their own broadcast, and take
 * turns, so a burst of someone else's work on the machine hits all of them alike.
 */
export const broadcastFanout: Scenario = {
  id: 'broadcast-fanout',
  title: 'Broadcast fan-out, one broadcast at a time',
  metrics: (s) => [
    {
      key: 'deliveriesPerSec',
      label: `deliveries / s (${s.fanoutDevices.toLocaleString('en')} devices, median of ${s.fanoutBroadcasts})`,
      unit: '/s',
      better: 'higher',
    },
    ...LATENCY_METRICS,
    { key: 'cpuUsPerDelivery', label: 'server CPU / delivery', unit: 'µs', better: 'lower', digits: 2 },
    { key: 'frameBytes', label: 'frame size', unit: 'B', better: 'lower' },
  ],
  targets: [
    ratioTarget('fanout-vs-ws', 'Broadcast fan-out ≥ 0.95 × raw ws (deliveries/s)', 'deliveriesPerSec', '>=', 0.95, 'ws'),
    ratioTarget('fanout-vs-socketio', 'Broadcast fan-out ≥ 1.5 × Socket.IO (deliveries/s)', 'deliveriesPerSec', '>=', 1.5, 'socketio'),
    ratioTarget('fanout-p99-vs-ws', 'Broadcast fan-out p99 latency ≤ 1.1 × raw ws', 'p99', '<=', 1.1, 'ws'),
  ],
  charts: [
    { title: 'Broadcast fan-out', unit: 'deliveries/s', keys: [{ key: 'deliveriesPerSec', label: 'deliveries/s' }] },
    latencyChart('Broadcast fan-out latency'),
  ],
  async runTogether(ctxs) {
    const { fanoutDevices: n, fanoutWarmup: warm, fanoutBroadcasts: count } = ctxs[0].sizes;
    const rigs: Rig[] = [];
    for (const ctx of ctxs) {
      const server = await ctx.startServer();
      const pool = await ctx.openDevices(server, n);
      const c = await pool.connect(n);
      ctx.log(`${c.open} devices connected`);
      rigs.push({
        server,
        pool,
        notes: c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [],
        rates: [],
        spentMs: 0,
        incomplete: 0,
        cpuUs: 0,
      });
    }
    const opens = await Promise.all(rigs.map((r) => r.pool.phase(true)));
    for (let i = 0; i < warm; i++) {
      for (const [k, rig] of rigs.entries()) {
        await broadcastOnce(rig, i, opens[k], false);
        await sleep(GAP_MS);
      }
    }
    const open = await Promise.all(rigs.map((r) => r.pool.phase(true)));
    await interleave(rigs, count, async (rig, k, round) => {
      await broadcastOnce(rig, warm + round, open[k], true);
      await sleep(GAP_MS);
    });
    const outcomes: ScenarioOutcome[] = [];
    for (const [k, rig] of rigs.entries()) {
      const r = await rig.pool.report();
      if (rig.incomplete) rig.notes.push(`${rig.incomplete} of ${count} broadcasts did not reach every device within ${SEQ_TIMEOUT_MS} ms`);
      if (r.closed) rig.notes.push(`${r.closed} devices were closed during the run: ${JSON.stringify(r.closeCodes)}`);
      const lat = r.latency.summary();
      outcomes.push({
        metrics: {
          deliveriesPerSec: median(rig.rates),
          p50: lat.p50,
          p99: lat.p99,
          max: lat.max,
          cpuUsPerDelivery: rig.cpuUs / Math.max(1, r.received),
          frameBytes: r.bytes / Math.max(1, r.received),
        },
        notes: rig.notes,
        details: {
          open: open[k],
          received: r.received,
          expected: open[k] * count,
          overallDeliveriesPerSec: (r.received / rig.spentMs) * 1000,
          perBroadcast: rig.rates.map((x) => Math.round(x)),
        },
      });
    }
    return outcomes;
  },
};
