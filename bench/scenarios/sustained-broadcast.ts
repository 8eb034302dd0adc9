import { postBroadcast } from '../lib/broadcast.js';
import type { DevicePool } from '../lib/devices.js';
import { nowMs } from '../lib/histogram.js';
import { interleave } from '../lib/interleave.js';
import type { ServerHandle } from '../lib/servers.js';
import { absoluteTarget } from '../lib/targets.js';
import { LATENCY_METRICS, latencyChart, type Scenario, type ScenarioOutcome } from './types.js';

const DRAIN_TIMEOUT_MS = 20_000;

interface Rig {
  server: ServerHandle;
  pool: DevicePool;
  notes: string[];
  open: number;
  seq: number;
  expected: number;
  received: number;
  spanMs: number;
  cpuUs: number;
  wallMs: number;
}

function publish(server: ServerHandle, at: number, seq: number): Promise<void> {
  return postBroadcast(server, 'sustained broadcast', at, seq);
}

/** Broadcasts at `rate` for `ms` on a fixed schedule (never waiting for deliveries), stamped with the scheduled time. */
async function schedule(rig: Rig, rate: number, ms: number): Promise<number> {
  const count = Math.round((rate * ms) / 1000);
  const t0 = nowMs() + 20;
  const posts: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - nowMs();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    posts.push(publish(rig.server, at, rig.seq++));
  }
  await Promise.all(posts);
  rig.expected += count * rig.open;
  return t0;
}

/**
 * Broadcasts on a fixed schedule (10/s) to every device, whether or not the previous one has
 * arrived: the rate achieved (deliveries ÷ the time from the first publish to the last delivery of
 * each window, never less than the window) against the rate asked, and publish-to-receive latency
 * stamped with each broadcast's scheduled time. The servers run side by side and take turns.
 */
export const sustainedBroadcast: Scenario = {
  id: 'sustained-broadcast',
  title: 'Sustained broadcast load',
  metrics: (s) => [
    { key: 'askedPerSec', label: `asked (${s.sustainedRate}/s × ${s.sustainedDevices.toLocaleString('en')} devices)`, unit: 'deliveries/s', better: 'higher' },
    { key: 'achievedPerSec', label: 'achieved', unit: 'deliveries/s', better: 'higher' },
    { key: 'achievedPct', label: 'achieved ÷ asked', unit: '%', better: 'higher', digits: 1 },
    ...LATENCY_METRICS,
    { key: 'serverCpuPct', label: 'server CPU', unit: '% of a core', better: 'lower', digits: 0 },
    { key: 'cpuUsPerDelivery', label: 'server CPU / delivery', unit: 'µs', better: 'lower', digits: 2 },
    { key: 'lost', label: 'not delivered', unit: '', better: 'lower' },
  ],
  targets: [
    absoluteTarget('sustained-rate', 'Sustained 10 broadcasts/s: ≥ 99 % of the asked rate', 'achievedPct', '>=', 99, '%'),
    absoluteTarget('sustained-p99', 'Sustained 10 broadcasts/s: p99 ≤ 250 ms', 'p99', '<=', 250, 'ms'),
  ],
  charts: [
    { title: 'Sustained broadcast, achieved', unit: 'deliveries/s', keys: [{ key: 'achievedPerSec', label: 'achieved/s' }] },
    latencyChart('Sustained broadcast latency'),
  ],
  async runTogether(ctxs) {
    const { sustainedDevices: n, sustainedRate: rate, sustainedSeconds: secs, sustainedWindows: windows } = ctxs[0].sizes;
    const rigs: Rig[] = [];
    for (const ctx of ctxs) {
      const server = await ctx.startServer();
      const pool = await ctx.openDevices(server, n);
      const c = await pool.connect(n);
      ctx.log(`${c.open} devices connected`);
      const notes = c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [];
      rigs.push({ server, pool, notes, open: c.open, seq: 0, expected: 0, received: 0, spanMs: 0, cpuUs: 0, wallMs: 0 });
    }
    // Warm-up: one second at the rate, fully delivered, not counted.
    for (const rig of rigs) {
      rig.open = await rig.pool.phase(false);
      await schedule(rig, rate, 1000);
      await rig.pool.waitReceived(rig.expected, DRAIN_TIMEOUT_MS);
      rig.open = await rig.pool.phase(false);
      rig.expected = 0;
    }
    const windowMs = (secs * 1000) / windows;
    await interleave(rigs, windows, async (rig) => {
      const w = await rig.server.begin('sustained');
      const t0 = await schedule(rig, rate, windowMs);
      const r = await rig.pool.waitReceived(rig.expected, DRAIN_TIMEOUT_MS);
      const cpu = await rig.server.end(w);
      rig.cpuUs += cpu.cpuUs;
      rig.wallMs += cpu.wallMs;
      // This window's deliveries over the time from its first publish to its last delivery.
      rig.spanMs += Math.max(windowMs, r.lastAt - t0);
      rig.received = r.received;
    });
    const outcomes: ScenarioOutcome[] = [];
    for (const rig of rigs) {
      const r = await rig.pool.report();
      const asked = rig.open * rate;
      const achieved = (r.received / rig.spanMs) * 1000;
      const lat = r.latency.summary();
      if (r.closed) rig.notes.push(`${r.closed} devices were closed during the run: ${JSON.stringify(r.closeCodes)}`);
      outcomes.push({
        metrics: {
          askedPerSec: asked,
          achievedPerSec: achieved,
          achievedPct: (achieved / asked) * 100,
          p50: lat.p50,
          p99: lat.p99,
          max: lat.max,
          serverCpuPct: (rig.cpuUs / 1000 / rig.wallMs) * 100,
          cpuUsPerDelivery: rig.cpuUs / Math.max(1, r.received),
          lost: rig.expected - r.received,
        },
        notes: rig.notes,
        details: { open: rig.open, expected: rig.expected, received: r.received, spanMs: rig.spanMs, windows },
      });
    }
    return outcomes;
  },
};
