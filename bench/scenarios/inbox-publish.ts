import type { DevicePool } from '../lib/devices.js';
import { Histogram } from '../lib/histogram.js';
import { interleave, median } from '../lib/interleave.js';
import { addTotals, type PublisherPool, type PublishTotals } from '../lib/publishers.js';
import type { ServerHandle } from '../lib/servers.js';
import { boundTarget } from '../lib/targets.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const CLOSED_CONCURRENCY = 32;
const PACED_CONCURRENCY = 64;
const SLICES = 2;
const PACED_SLICES = 4;

type Variant = 'plain' | 'collapse';
const VARIANTS: Variant[] = ['plain', 'collapse'];

interface Run {
  closed: PublishTotals[];
  closedCpuUs: number;
  pacedSliceP99: number[];
  paced: Histogram;
}

interface Rig {
  /** This build, or the baseline (`--baseline-dist`: plain publishes only). */
  baseline: boolean;
  server: ServerHandle;
  pool: DevicePool;
  pubs: PublisherPool;
  notes: string[];
  runs: Record<Variant, Run>;
  pacedRate: number;
}

const emptyRun = (): Run => ({ closed: [], closedCpuUs: 0, pacedSliceP99: [], paced: new Histogram() });

/**
 * The inbox's cost on the publish path (issue 15): targeted publishes through the HTTP API, one
 * device per client, plain and with a collapse key (`collapseKey: "live"`: every publish replaces
 * the client's previous item, the inbox's most expensive publish), on the memory and the Redis
 * store: closed loop for the rate and CPU per publish, then paced at half the plain rate for
 * publish-to-receive latency. "Without the inbox": with `--baseline-dist <dist/ of a build from
 * before it>`, that build runs beside this one on each store (plain publishes; it would ignore a
 * collapse key), at the same paced rate. Builds, variants and stores take turns, slice by slice.
 */
export const inboxPublish: Scenario = {
  id: 'inbox-publish',
  title: 'Targeted publish with and without collapse keys (the inbox on the publish path)',
  servers: ['herald', 'herald-redis'],
  ratios: [['herald-redis', 'herald']],
  metrics: (s) => [
    { key: 'baselinePerSec', label: 'without the inbox (--baseline-dist): publishes / s, closed loop', unit: '/s', better: 'higher' },
    { key: 'baselineCpuUs', label: 'without the inbox: server CPU / publish', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'baselineP99', label: 'without the inbox, paced: publish-to-receive p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'plainPerSec', label: `plain: publishes / s, closed loop (${s.targetedDevices.toLocaleString('en')} clients)`, unit: '/s', better: 'higher' },
    { key: 'collapsePerSec', label: 'collapse key: publishes / s, closed loop', unit: '/s', better: 'higher' },
    { key: 'plainCpuUs', label: 'plain: server CPU / publish', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'collapseCpuUs', label: 'collapse key: server CPU / publish', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'pacedRate', label: 'paced rate (half the plain closed-loop rate, ≤ 10 000)', unit: '/s', better: 'higher' },
    { key: 'plainP99', label: `plain, paced: publish-to-receive p99 (median of ${PACED_SLICES} slices)`, unit: 'ms', better: 'lower', digits: 2 },
    { key: 'collapseP99', label: `collapse key, paced: publish-to-receive p99 (median of ${PACED_SLICES} slices)`, unit: 'ms', better: 'lower', digits: 2 },
  ],
  targets: [
    boundTarget(
      'inbox-publish-rate',
      'Targeted publish with collapse keys ≥ 10 000 publishes/s (memory store)',
      'collapsePerSec',
      'herald',
      '>=',
      10_000,
      '/s',
    ),
  ],
  charts: [
    {
      title: 'Targeted publish, plain and with a collapse key',
      unit: 'publishes/s',
      keys: [
        { key: 'plainPerSec', label: 'plain' },
        { key: 'collapsePerSec', label: 'collapse' },
      ],
    },
  ],
  async runTogether(ctxs) {
    const s = ctxs[0].sizes;
    const n = s.targetedDevices;
    const client = ctxs[0].httpClient;
    const rigs: Rig[] = [];
    const byCtx: { rig: Rig; baseline: Rig | null }[] = [];
    for (const ctx of ctxs) {
      const start = async (baseline: boolean): Promise<Rig> => {
        const server = await ctx.startServer(baseline && ctx.baselineDist ? { dist: ctx.baselineDist } : {});
        const pool = await ctx.openDevices(server, n);
        const c = await pool.connect(n);
        ctx.log(`${c.open} devices connected${baseline ? ' (baseline build)' : ''}`);
        const rig: Rig = {
          baseline,
          server,
          pool,
          pubs: ctx.openPublishers(server, 1),
          notes: c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [],
          runs: { plain: emptyRun(), collapse: emptyRun() },
          pacedRate: 0,
        };
        rigs.push(rig);
        return rig;
      };
      const rig = await start(false);
      byCtx.push({ rig, baseline: ctx.baselineDist ? await start(true) : null });
    }
    const base = { target: 'client' as const, clients: n, batchSize: 1, client, rate: 0 };
    const pairs = rigs.flatMap((rig) => (rig.baseline ? (['plain'] as Variant[]) : VARIANTS).map((v) => ({ rig, v })));
    // Warm-up of both paths (JIT, keep-alive sockets, the collapse index), not counted.
    for (const { rig, v } of pairs)
      await rig.pubs.run({ ...base, mode: 'closed', concurrency: CLOSED_CONCURRENCY, durationMs: 500, collapse: v === 'collapse' });

    await interleave(pairs, SLICES, async ({ rig, v }) => {
      await rig.pool.phase(false);
      const w = await rig.server.begin(`closed-${v}`);
      const t = await rig.pubs.run({
        ...base,
        mode: 'closed',
        concurrency: CLOSED_CONCURRENCY,
        durationMs: (s.targetedSeconds * 1000) / SLICES,
        collapse: v === 'collapse',
      });
      await rig.pool.waitReceived(t.ok, 10_000);
      rig.runs[v].closedCpuUs += (await rig.server.end(w)).cpuUs;
      rig.runs[v].closed.push(t);
    });
    // Both builds of a store at one rate: the baseline's latency is compared at the same load.
    for (const { rig, baseline } of byCtx) {
      rig.pacedRate = Math.max(100, Math.min(s.pacedRateCap, Math.floor(addTotals(rig.runs.plain.closed).requestsPerSec / 2)));
      if (baseline) baseline.pacedRate = rig.pacedRate;
    }
    await interleave(pairs, PACED_SLICES, async ({ rig, v }) => {
      await rig.pool.phase(false);
      const t = await rig.pubs.run({
        ...base,
        mode: 'paced',
        rate: rig.pacedRate,
        concurrency: PACED_CONCURRENCY,
        durationMs: (s.pacedSeconds * 1000) / PACED_SLICES,
        collapse: v === 'collapse',
      });
      const r = await rig.pool.waitReceived(t.ok, 10_000);
      rig.runs[v].pacedSliceP99.push(r.latency.percentileMs(99) ?? Number.NaN);
      rig.runs[v].paced.merge(r.latency.toJSON());
      if (r.received < t.ok) rig.notes.push(`${v}, paced: ${t.ok - r.received} of ${t.ok} not received within 10 s`);
    });

    return byCtx.map(({ rig, baseline }): ScenarioOutcome => {
      const closed = (v: Variant, r = rig) => addTotals(r.runs[v].closed);
      const notes = [...rig.notes, ...(baseline?.notes ?? [])];
      for (const v of VARIANTS) {
        const t = closed(v);
        if (t.failed) notes.push(`${v}, closed loop: ${t.failed} requests failed ${JSON.stringify(t.statuses)}`);
      }
      const p99 = (v: Variant, r = rig) => median(r.runs[v].pacedSliceP99.filter((x) => !Number.isNaN(x)));
      if (baseline) notes.push(`without the inbox: ${String(baseline.server.info.dist)}`);
      return {
        metrics: {
          baselinePerSec: baseline ? closed('plain', baseline).requestsPerSec : null,
          baselineCpuUs: baseline ? baseline.runs.plain.closedCpuUs / Math.max(1, closed('plain', baseline).ok) : null,
          baselineP99: baseline ? p99('plain', baseline) : null,
          plainPerSec: closed('plain').requestsPerSec,
          collapsePerSec: closed('collapse').requestsPerSec,
          plainCpuUs: rig.runs.plain.closedCpuUs / Math.max(1, closed('plain').ok),
          collapseCpuUs: rig.runs.collapse.closedCpuUs / Math.max(1, closed('collapse').ok),
          pacedRate: rig.pacedRate,
          plainP99: p99('plain'),
          collapseP99: p99('collapse'),
        },
        notes,
        details: Object.fromEntries(
          VARIANTS.map((v) => [
            v,
            {
              closed: { ok: closed(v).ok, request: closed(v).latency.summary() },
              paced: { delivery: rig.runs[v].paced.summary(), sliceP99: rig.runs[v].pacedSliceP99 },
            },
          ]),
        ),
      };
    });
  },
};
