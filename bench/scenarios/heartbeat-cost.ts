import { sleep } from '../lib/children.js';
import { absoluteTarget } from '../lib/targets.js';
import type { Scenario } from './types.js';

/** Long enough for every connection's first ping to have gone out (Herald spreads them over one interval). */
const SETTLE_MS = 2000;

/**
 * Server CPU with many idle connections and a short heartbeat interval (1 s), the devices answering
 * every ping: process.cpuUsage() of the server process over the window, as % of one core.
 */
export const heartbeatCost: Scenario = {
  id: 'heartbeat-cost',
  title: 'Heartbeat cost at idle',
  metrics: (s) => [
    {
      key: 'cpuPct',
      label: `server CPU (${s.heartbeatDevices.toLocaleString('en')} connections, ${s.heartbeatMs} ms interval)`,
      unit: '% of a core',
      better: 'lower',
      digits: 1,
    },
    { key: 'cpuPctAt15k', label: 'server CPU scaled to 15 000 connections (linear)', unit: '% of a core', better: 'lower', digits: 1 },
    { key: 'pingsPerSec', label: 'pings answered / s', unit: '/s', better: 'higher' },
    { key: 'cpuUsPerPing', label: 'server CPU / ping-pong', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'closed', label: 'connections lost', unit: '', better: 'lower' },
  ],
  // Judged on the CPU scaled to 15 000 connections, so a quick run with fewer says the same thing.
  targets: [absoluteTarget('heartbeat-cpu', 'Heartbeats at 15 000 connections, 1 s interval: ≤ 10 % of one core', 'cpuPctAt15k', '<=', 10, '% of a core')],
  charts: [{ title: 'Heartbeat cost', unit: '% of one core', keys: [{ key: 'cpuPct', label: 'CPU %' }] }],
  async run(ctx) {
    const { heartbeatDevices: n, heartbeatMs, heartbeatSeconds } = ctx.sizes;
    // The pong timeout stays under the interval: Herald sends its next ping only once the previous
    // one is answered or timed out, so a timeout above the interval would stretch the interval.
    const server = await ctx.startServer({ heartbeatMs, heartbeatTimeoutMs: Math.floor(heartbeatMs * 0.8) });
    const pool = await ctx.openDevices(server, n);
    const c = await pool.connect(n);
    await sleep(SETTLE_MS);
    await pool.phase(false);
    const w = await server.begin('heartbeats');
    await sleep(heartbeatSeconds * 1000);
    const cpu = await server.end(w);
    const r = await pool.report();
    const pingsPerSec = (r.pings / cpu.wallMs) * 1000;
    return {
      metrics: {
        cpuPct: cpu.pctOfCore,
        cpuPctAt15k: (cpu.pctOfCore * 15_000) / Math.max(1, c.open),
        pingsPerSec,
        cpuUsPerPing: r.pings ? cpu.cpuUs / r.pings : null,
        closed: r.closed,
      },
      notes: c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [],
      details: { open: c.open, closeCodes: r.closeCodes },
    };
  },
};
