import { Histogram } from '../lib/histogram.js';
import { interleave } from '../lib/interleave.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const WARM = 200;
/** The devices are connected in this many slices per server, the servers taking turns. */
const SLICES = 5;

/**
 * How fast devices get a ready stream (Herald: `welcome`, which includes the JWT check and the
 * registry; Socket.IO: the namespace connect ack; raw ws: `open`), with the load processes'
 * handshakes 64 in flight each. The servers run side by side and connect in turns.
 */
export const connectRate: Scenario = {
  id: 'connect-rate',
  title: 'Connect rate',
  metrics: (s) => [
    { key: 'connectsPerSec', label: `connections / s (${s.connectCount.toLocaleString('en')} devices)`, unit: '/s', better: 'higher' },
    { key: 'handshakeP50', label: 'handshake p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'handshakeP99', label: 'handshake p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'cpuUsPerConnect', label: 'server CPU / connection', unit: 'µs', better: 'lower' },
  ],
  targets: [],
  charts: [{ title: 'Connect rate', unit: 'connections/s', keys: [{ key: 'connectsPerSec', label: 'connects/s' }] }],
  async runTogether(ctxs) {
    const n = ctxs[0].sizes.connectCount;
    const rigs = [];
    for (const ctx of ctxs) {
      const server = await ctx.startServer();
      const pool = await ctx.openDevices(server, n);
      const warm = await pool.connect(WARM);
      rigs.push({ server, pool, open: warm.open, made: 0, elapsedMs: 0, cpuUs: 0, failed: 0, errors: {} as Record<string, number>, hs: new Histogram() });
    }
    await interleave(rigs, SLICES, async (rig, _k, round) => {
      const w = await rig.server.begin('connect');
      const c = await rig.pool.connect(WARM + Math.round(((n - WARM) * (round + 1)) / SLICES));
      rig.cpuUs += (await rig.server.end(w)).cpuUs;
      rig.made += c.open - rig.open;
      rig.open = c.open;
      rig.elapsedMs += c.elapsedMs;
      rig.failed += c.failed;
      for (const [e, v] of Object.entries(c.errors)) rig.errors[e] = (rig.errors[e] ?? 0) + v;
      rig.hs.merge(c.handshake.toJSON());
    });
    return rigs.map((rig): ScenarioOutcome => {
      const hs = rig.hs.summary();
      return {
        metrics: {
          connectsPerSec: (rig.made / rig.elapsedMs) * 1000,
          handshakeP50: hs.p50,
          handshakeP99: hs.p99,
          cpuUsPerConnect: rig.cpuUs / Math.max(1, rig.made),
        },
        notes: rig.failed ? [`${rig.failed} connections failed: ${JSON.stringify(rig.errors)}`] : [],
        details: { open: rig.open, elapsedMs: rig.elapsedMs },
      };
    });
  },
};
