import type { DevicePool, PoolReport } from '../lib/devices.js';
import { Histogram } from '../lib/histogram.js';
import { interleave, median } from '../lib/interleave.js';
import { addTotals, type PublisherPool, type PublishSpec, type PublishTotals } from '../lib/publishers.js';
import type { ServerHandle } from '../lib/servers.js';
import { absoluteTarget } from '../lib/targets.js';
import type { Scenario, ScenarioOutcome } from './types.js';

/**
 * One publisher process per server: with the lean client it needs ~15 µs of CPU per request, so it
 * leaves the server most of a core; a second one would only compete for the same two cores.
 */
const PUBLISHER_PROCESSES = 1;
/** Requests in flight (keep-alive connections, one request each). */
const CLOSED_CONCURRENCY = 32;
const PACED_CONCURRENCY = 64;
const BATCH_CONCURRENCY = 2;
/** Each phase is cut into this many slices per server, the servers taking turns. */
const SLICES = 2;
/**
 * The paced phase has more, shorter slices, and reports the median of their p99s: on a machine
 * shared with other people's test runs, a burst of their work lands in one slice, not in all.
 */
const PACED_SLICES = 4;

type Phase = 'closed-loop' | 'paced' | 'batch';

interface Rig {
  server: ServerHandle;
  pool: DevicePool;
  pubs: PublisherPool;
  notes: string[];
  parts: Record<Phase, PublishTotals[]>;
  cpuUs: Record<Phase, number>;
  delivered: Record<Phase, PoolReport | null>;
  expected: number;
  pacedRate: number;
  /** Publish-to-receive p99 of each paced slice. */
  pacedSliceP99: number[];
}

/**
 * Publishes to one client each through the HTTP API, keep-alive, round robin over every connected
 * client: as fast as the server answers (publishes/s), then open-loop at half that rate (at most
 * the 10 000/s) for publish-to-receive latency, then through the batch endpoint. The
 * servers run side by side and take turns, slice by slice.
 */
export const targetedPublish: Scenario = {
  id: 'targeted-publish',
  title: 'Targeted publish through the HTTP API',
  metrics: (s) => [
    { key: 'publishesPerSec', label: `publishes / s, closed loop (${s.targetedDevices.toLocaleString('en')} clients)`, unit: '/s', better: 'higher' },
    { key: 'requestP99', label: 'closed loop: request p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'serverCpuPct', label: 'closed loop: server CPU', unit: '% of a core', better: 'lower', digits: 0 },
    { key: 'cpuUsPerPublish', label: 'closed loop: server CPU / publish', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'pacedRate', label: 'paced rate (half the closed-loop rate, ≤ 10 000)', unit: '/s', better: 'higher' },
    { key: 'pacedP50', label: 'paced: publish-to-receive p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'pacedP99', label: `paced: publish-to-receive p99 (median of ${PACED_SLICES} slices)`, unit: 'ms', better: 'lower', digits: 2 },
    { key: 'pacedP99Pooled', label: 'paced: publish-to-receive p99, all slices pooled', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'pacedRequestP99', label: 'paced: request p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'batchPerSec', label: `batch endpoint (${s.batchSize} items/request)`, unit: 'notifications/s', better: 'higher' },
    { key: 'batchRequestP99', label: 'batch: request p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'cpuUsPerBatchItem', label: 'batch: server CPU / notification', unit: 'µs', better: 'lower', digits: 1 },
  ],
  targets: [
    absoluteTarget('targeted-rate', 'Targeted HTTP publish ≥ 20 000 publishes/s (memory store)', 'publishesPerSec', '>=', 20_000, '/s'),
    absoluteTarget('targeted-p99', 'Targeted HTTP publish p99 ≤ 10 ms at half that rate (publish-to-receive)', 'pacedP99', '<=', 10, 'ms'),
    absoluteTarget('batch-rate', 'Batch endpoint ≥ 100 000 notifications/s', 'batchPerSec', '>=', 100_000, '/s'),
  ],
  charts: [
    { title: 'Targeted publish (closed loop)', unit: 'publishes/s', keys: [{ key: 'publishesPerSec', label: 'publishes/s' }] },
    { title: 'Batch endpoint', unit: 'notifications/s', keys: [{ key: 'batchPerSec', label: 'notifications/s' }] },
    {
      title: 'Targeted publish latency, paced',
      unit: 'ms',
      log: true,
      keys: [
        { key: 'pacedP50', label: 'p50' },
        { key: 'pacedP99', label: 'p99' },
      ],
    },
  ],
  async runTogether(ctxs) {
    const s = ctxs[0].sizes;
    const n = s.targetedDevices;
    const client = ctxs[0].httpClient;
    const rigs: Rig[] = [];
    for (const ctx of ctxs) {
      const server = await ctx.startServer();
      const pool = await ctx.openDevices(server, n);
      const c = await pool.connect(n);
      ctx.log(`${c.open} devices connected`);
      rigs.push({
        server,
        pool,
        pubs: ctx.openPublishers(server, PUBLISHER_PROCESSES),
        notes: c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [],
        parts: { 'closed-loop': [], paced: [], batch: [] },
        cpuUs: { 'closed-loop': 0, paced: 0, batch: 0 },
        delivered: { 'closed-loop': null, paced: null, batch: null },
        expected: 0,
        pacedRate: 0,
        pacedSliceP99: [],
      });
    }
    const base = { clients: n, rate: 0, batchSize: s.batchSize, client } as const;
    // Warm-up (JIT, keep-alive sockets), not counted.
    for (const rig of rigs) await rig.pubs.run({ ...base, target: 'client', mode: 'closed', concurrency: CLOSED_CONCURRENCY, durationMs: 700 });

    const phase = async (
      name: Phase,
      seconds: number,
      slices: number,
      spec: (rig: Rig) => Omit<PublishSpec, 'durationMs'>,
      delivered: (t: PublishTotals) => number,
    ) => {
      const pooled = new Map<Rig, Histogram>();
      const last = new Map<Rig, PoolReport>();
      for (const rig of rigs) pooled.set(rig, new Histogram());
      await interleave(rigs, slices, async (rig) => {
        // Each slice is its own device phase: its p99 is kept, its histogram pooled.
        const open = await rig.pool.phase(false);
        const w = await rig.server.begin(name);
        const t = await rig.pubs.run({ ...spec(rig), durationMs: (seconds * 1000) / slices });
        const r = await rig.pool.waitReceived(delivered(t), 10_000);
        rig.cpuUs[name] += (await rig.server.end(w)).cpuUs;
        rig.parts[name].push(t);
        pooled.get(rig)?.merge(r.latency.toJSON());
        last.set(rig, r);
        if (name === 'paced') rig.pacedSliceP99.push(r.latency.percentileMs(99) ?? Number.NaN);
        if (open === 0) throw new Error(`${rig.server.kind.label}: no device left connected`);
      });
      for (const rig of rigs) {
        const r = last.get(rig);
        const h = pooled.get(rig);
        if (r && h) rig.delivered[name] = { ...r, latency: h, received: h.count };
      }
    };

    await phase(
      'closed-loop',
      s.targetedSeconds,
      SLICES,
      () => ({ ...base, target: 'client', mode: 'closed', concurrency: CLOSED_CONCURRENCY }),
      (t) => t.ok,
    );
    for (const rig of rigs) {
      const closed = addTotals(rig.parts['closed-loop']);
      rig.pacedRate = Math.max(100, Math.min(s.pacedRateCap, Math.floor(closed.requestsPerSec / 2)));
    }
    await phase(
      'paced',
      s.pacedSeconds,
      PACED_SLICES,
      (rig) => ({ ...base, target: 'client', mode: 'paced', rate: rig.pacedRate, concurrency: PACED_CONCURRENCY }),
      (t) => t.ok,
    );
    await phase(
      'batch',
      s.batchSeconds,
      SLICES,
      () => ({ ...base, target: 'batch', mode: 'batch', concurrency: BATCH_CONCURRENCY }),
      (t) => t.notifications,
    );

    return rigs.map((rig): ScenarioOutcome => {
      const closed = addTotals(rig.parts['closed-loop']);
      const paced = addTotals(rig.parts.paced);
      const batch = addTotals(rig.parts.batch);
      const notes = [...rig.notes];
      const d = rig.delivered;
      notes.push(
        `publisher (${client} client): ${closed.publisherCpuUsPerRequest.toFixed(1)} µs CPU / request, ${closed.publisherCpuPct.toFixed(0)} % of a core in the closed loop`,
      );
      notes.push(
        `load generator's longest event-loop stall: publisher ${paced.loopDelayMaxMs.toFixed(0)} ms (paced), devices ${(d.paced?.loopDelayMaxMs ?? 0).toFixed(0)} ms (paced, longest GC ${(d.paced?.gcMaxMs ?? 0).toFixed(0)} ms); a stall adds to the latencies measured`,
      );
      for (const [name, r] of [
        ['closed loop', closed],
        ['paced', paced],
        ['batch', batch],
      ] as const) {
        if (r.failed) notes.push(`${name}: ${r.failed} requests failed ${JSON.stringify(r.statuses)}`);
        if (r.late) notes.push(`${name}: ${r.late} requests dropped by the publisher (too many in flight)`);
      }
      const closedCodes = d.batch?.closeCodes ?? {};
      if (Object.keys(closedCodes).length) notes.push(`devices closed: ${JSON.stringify(closedCodes)}`);
      return {
        metrics: {
          publishesPerSec: closed.requestsPerSec,
          requestP99: closed.latency.percentileMs(99),
          serverCpuPct: (rig.cpuUs['closed-loop'] / 1000 / closed.elapsedMs) * 100,
          cpuUsPerPublish: rig.cpuUs['closed-loop'] / Math.max(1, closed.ok),
          pacedRate: rig.pacedRate,
          pacedP50: d.paced?.latency.percentileMs(50) ?? null,
          pacedP99: median(rig.pacedSliceP99.filter((x) => !Number.isNaN(x))),
          pacedP99Pooled: d.paced?.latency.percentileMs(99) ?? null,
          pacedRequestP99: paced.latency.percentileMs(99),
          batchPerSec: batch.notificationsPerSec,
          batchRequestP99: batch.latency.percentileMs(99),
          cpuUsPerBatchItem: rig.cpuUs.batch / Math.max(1, batch.notifications),
        },
        notes,
        details: {
          closed: {
            ok: closed.ok,
            failed: closed.failed,
            request: closed.latency.summary(),
            delivery: d['closed-loop']?.latency.summary(),
            received: d['closed-loop']?.received,
          },
          paced: {
            ok: paced.ok,
            request: paced.latency.summary(),
            delivery: d.paced?.latency.summary(),
            received: d.paced?.received,
            sliceP99: rig.pacedSliceP99,
          },
          batch: { notifications: batch.notifications, request: batch.latency.summary(), delivery: d.batch?.latency.summary(), received: d.batch?.received },
        },
      };
    });
  },
};
