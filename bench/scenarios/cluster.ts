import { postBroadcast } from '../lib/broadcast.js';
import { sleep } from '../lib/children.js';
import type { DevicePool } from '../lib/devices.js';
import { Histogram, nowMs } from '../lib/histogram.js';
import { interleave, median } from '../lib/interleave.js';
import { addSent, describeSent, REDIS_COMMANDS_FAMILY, readRedisCommandsSent, type SentCommands, sentBetween } from '../lib/node-metrics.js';
import type { PublisherPool, PublishTotals } from '../lib/publishers.js';
import { type BenchRedis, type RedisDelta, topCommands } from '../lib/redis.js';
import type { ServerHandle, WindowCost } from '../lib/servers.js';
import { boundTarget, pairTarget } from '../lib/targets.js';
import type { Scenario, ScenarioOutcome } from './types.js';

const NODES = 3;
const CLOSED_CONCURRENCY = 32;
const PACED_CONCURRENCY = 64;
const SEQ_TIMEOUT_MS = 15_000;
const GAP_MS = 100;
/** Warm-up batches: 500 notifications a request, long enough to reach every client (≥ 9 000) at a few thousand a second. */
export const WARMUP_BATCH = 500;
export const WARMUP_BATCH_MS = 3000;
/** Each targeted phase is cut into this many slices per cluster, the clusters taking turns. */
const SLICES = 2;

interface Acc {
  deliveries: number;
  publishes: number;
  ms: number;
  nodeCpuUs: number;
  redis: RedisDelta;
  /** Redis commands written by the publishing node (the first) and by all nodes (their `/metrics`); null: not exposed. */
  sentPub: SentCommands | null;
  sentAll: SentCommands | null;
  latency: Histogram;
  remote: Histogram;
}

const emptyAcc = (): Acc => ({
  deliveries: 0,
  publishes: 0,
  ms: 0,
  nodeCpuUs: 0,
  redis: { cpuUs: 0, wallMs: 0, calls: 0, byCommand: {}, usecByCommand: {} },
  sentPub: { total: 0, byComponent: {} },
  sentAll: { total: 0, byComponent: {} },
  latency: new Histogram(),
  remote: new Histogram(),
});

interface Rig {
  nodes: ServerHandle[];
  redis: BenchRedis;
  pool: DevicePool;
  pubs: PublisherPool;
  open: number;
  notes: string[];
  closed: Acc;
  paced: Acc;
  broadcast: Acc;
  closedTotals: PublishTotals[];
  pacedSliceP99: number[];
  rates: number[];
  incomplete: number;
  /** Herald: its nodes count the Redis commands they send (`/metrics`); the adapter has no such counter. */
  countsSent: boolean;
}

function addRedis(a: RedisDelta, b: RedisDelta): void {
  a.cpuUs += b.cpuUs;
  a.wallMs += b.wallMs;
  a.calls += b.calls;
  for (const [k, v] of Object.entries(b.byCommand)) a.byCommand[k] = (a.byCommand[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.usecByCommand)) a.usecByCommand[k] = (a.usecByCommand[k] ?? 0) + v;
}

/**
 * Where Redis's CPU per operation went: executing scripts (their inner commands included) or, with
 * no scripts, the commands; the rest is reading, writing and the event loop.
 */
const redisTime = (r: RedisDelta, per: number) => {
  const u = r.usecByCommand;
  const scripts = (u.evalsha ?? 0) + (u.eval ?? 0);
  const exec = scripts > 0 ? scripts : Object.values(u).reduce((a, v) => a + v, 0);
  const f = (v: number) => (v / Math.max(1, per)).toFixed(1);
  return `${scripts > 0 ? 'executing scripts' : 'executing commands'} ${f(exec)} µs, the rest (reading, writing, event loop) ${f(r.cpuUs - exec)} µs`;
};

/** Every node's Redis commands sent so far (null where its `/metrics` has no such counter). */
const readSent = (nodes: ServerHandle[]) => Promise.all(nodes.map((n) => readRedisCommandsSent(n)));

/**
 * Measures one stretch on every node of a cluster and its redis-server. The nodes' `/metrics` are
 * read outside their CPU windows (a scrape is not part of a delivery).
 */
async function measured(rig: Rig, label: string, acc: Acc, fn: () => Promise<{ deliveries: number; publishes: number }>): Promise<void> {
  const r0 = await rig.redis.sample();
  const s0 = await readSent(rig.nodes);
  const ws = await Promise.all(rig.nodes.map((n) => n.begin(label)));
  const t0 = performance.now();
  const { deliveries, publishes } = await fn();
  const ms = performance.now() - t0;
  const costs: WindowCost[] = await Promise.all(rig.nodes.map((n, i) => n.end(ws[i])));
  const s1 = await readSent(rig.nodes);
  const r1 = await rig.redis.sample();
  acc.deliveries += deliveries;
  acc.publishes += publishes;
  acc.ms += ms;
  acc.nodeCpuUs += costs.reduce((a, c) => a + c.cpuUs, 0);
  addRedis(acc.redis, rig.redis.delta(r0, r1));
  const sent = s0.map((a, i) => sentBetween(a, s1[i]));
  acc.sentPub = addSent(acc.sentPub, sent[0]);
  acc.sentAll = sent.reduce<SentCommands | null>((a, x) => addSent(a, x), acc.sentAll);
}

/**
 * Redis commands sent per `per` operations: from the nodes' counter (Herald), or, for a server
 * without one (Socket.IO + redis-adapter, whose every command is a top-level one), the commands
 * executed. Null when a Herald build does not expose the counter.
 */
function sentPer(rig: Rig, sent: SentCommands | null, redis: RedisDelta, per: number): number | null {
  if (!rig.countsSent) return redis.calls / Math.max(1, per);
  return sent ? sent.total / Math.max(1, per) : null;
}

/**
 * Issue 7: three Herald nodes on one redis-server beside three Socket.IO servers with
 * `@socket.io/redis-adapter` on another, each node its own process. Devices are spread over the
 * three nodes (`u<k>` on node k mod 3); every publish goes to the first node, so two thirds of
 * targeted deliveries and of every broadcast cross nodes through Redis. Targeted publishes: closed
 * loop for throughput, then paced at the same rate for both clusters (half the slower one's
 * closed-loop rate) for latency; broadcasts one at a time. Each redis-server is the bench's own:
 * its CPU (`INFO cpu`) and commands executed (`INFO commandstats`, which counts the commands a Lua
 * script runs inside Redis too) over each phase are divided by the deliveries of that phase.
 * Issue 17 adds the commands *sent*, one per round trip whatever a script does inside: each Herald
 * node's `herald_redis_commands_total` (its `/metrics`), on the publishing node per publish and on
 * all nodes per delivery; for the adapter, whose commands are all top-level, the commands executed.
 */
export const cluster: Scenario = {
  id: 'cluster',
  title: 'Three nodes on Redis: cross-node delivery',
  servers: ['herald-cluster', 'socketio-cluster'],
  ratios: [['herald-cluster', 'socketio-cluster']],
  metrics: (s) => [
    { key: 'devices', label: `devices over ${NODES} nodes (of ${s.clusterDevices.toLocaleString('en')})`, unit: '', better: 'higher' },
    { key: 'targetedPerSec', label: 'targeted: publishes / s on one node, closed loop', unit: '/s', better: 'higher' },
    { key: 'pacedRate', label: 'targeted, paced: rate (same for both)', unit: '/s', better: 'higher' },
    { key: 'targetedP50', label: 'targeted, paced: publish-to-receive p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'targetedP99', label: `targeted, paced: publish-to-receive p99 (median of ${SLICES} slices)`, unit: 'ms', better: 'lower', digits: 2 },
    { key: 'targetedRemoteP99', label: 'targeted, paced: p99 of cross-node deliveries only', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'targetedNodeCpuUs', label: 'targeted: CPU of all nodes / delivery', unit: 'µs', better: 'lower', digits: 1 },
    {
      key: 'targetedSentPerPublish',
      label: 'targeted: Redis commands sent by the publishing node / publish',
      unit: '',
      better: 'lower',
      digits: 2,
      missing: 'n/a',
    },
    { key: 'targetedSentPerDelivery', label: 'targeted: Redis commands sent by all nodes / delivery', unit: '', better: 'lower', digits: 2, missing: 'n/a' },
    { key: 'targetedRedisCmds', label: 'targeted: Redis commands executed (incl. inside scripts) / delivery', unit: '', better: 'lower', digits: 2 },
    { key: 'targetedRedisCpuUs', label: 'targeted: Redis CPU / delivery', unit: 'µs', better: 'lower', digits: 1 },
    { key: 'targetedRedisCpuPct', label: 'targeted, closed loop: Redis CPU', unit: '% of a core', better: 'lower' },
    { key: 'broadcastPerSec', label: `broadcast: deliveries / s (median of ${s.clusterBroadcasts})`, unit: '/s', better: 'higher' },
    { key: 'broadcastP50', label: 'broadcast: latency p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'broadcastP99', label: 'broadcast: latency p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'broadcastNodeCpuUs', label: 'broadcast: CPU of all nodes / delivery', unit: 'µs', better: 'lower', digits: 2 },
    {
      key: 'broadcastSentPerPublish',
      label: 'broadcast: Redis commands sent by the publishing node / broadcast',
      unit: '',
      better: 'lower',
      digits: 1,
      missing: 'n/a',
    },
    {
      key: 'broadcastSentPerBroadcast',
      label: 'broadcast: Redis commands sent by all nodes / broadcast',
      unit: '',
      better: 'lower',
      digits: 1,
      missing: 'n/a',
    },
    { key: 'broadcastRedisCmds', label: 'broadcast: Redis commands executed (incl. inside scripts) / broadcast', unit: '', better: 'lower', digits: 1 },
    { key: 'broadcastRedisCpuUs', label: 'broadcast: Redis CPU / broadcast', unit: 'µs', better: 'lower', digits: 0 },
  ],
  // Issue 17's goals.
  targets: [
    boundTarget(
      'cluster-targeted-sent',
      'Cluster: Redis commands sent by the publishing node ≤ 2 per targeted publish',
      'targetedSentPerPublish',
      'herald-cluster',
      '<=',
      2,
      'commands',
    ),
    boundTarget(
      'cluster-broadcast-sent',
      'Cluster: Redis commands sent by the publishing node ≤ 2 per broadcast',
      'broadcastSentPerPublish',
      'herald-cluster',
      '<=',
      2,
      'commands',
    ),
    pairTarget(
      'cluster-targeted-redis-cpu',
      'Cluster: Redis CPU per targeted delivery ≤ 1.2 × Socket.IO + redis-adapter',
      'targetedRedisCpuUs',
      'herald-cluster',
      '<=',
      1.2,
      'socketio-cluster',
    ),
    pairTarget(
      'cluster-targeted-p99',
      'Cluster: targeted cross-node p99 ≤ 1.2 × Socket.IO + redis-adapter',
      'targetedRemoteP99',
      'herald-cluster',
      '<=',
      1.2,
      'socketio-cluster',
    ),
  ],
  charts: [
    { title: 'Cluster: targeted publishes', unit: 'publishes/s', keys: [{ key: 'targetedPerSec', label: 'publishes/s' }] },
    {
      title: 'Cluster: targeted latency (paced)',
      unit: 'ms',
      log: true,
      keys: [
        { key: 'targetedP50', label: 'p50' },
        { key: 'targetedP99', label: 'p99' },
      ],
    },
    {
      title: 'Cluster: Redis commands, targeted',
      unit: 'commands',
      keys: [
        { key: 'targetedSentPerPublish', label: 'sent / publish' },
        { key: 'targetedRedisCmds', label: 'executed / delivery' },
      ],
    },
    { title: 'Cluster: Redis CPU per targeted delivery', unit: 'µs', keys: [{ key: 'targetedRedisCpuUs', label: 'Redis CPU' }] },
  ],
  async runTogether(ctxs) {
    const s = ctxs[0].sizes;
    const n = s.clusterDevices;
    const client = ctxs[0].httpClient;
    const rigs: Rig[] = [];
    for (const ctx of ctxs) {
      const redis = await ctx.startRedis();
      const nodes: ServerHandle[] = [];
      for (let i = 0; i < NODES; i++) nodes.push(await ctx.startServer({ redisUrl: redis.url, nodeId: `bench-n${i}` }));
      const pool = await ctx.openDevices(nodes[0], n, { nodes });
      const c = await pool.connect(n);
      ctx.log(`${c.open} devices connected over ${NODES} nodes`);
      rigs.push({
        nodes,
        redis,
        pool,
        pubs: ctx.openPublishers(nodes[0], 1),
        open: c.open,
        notes: c.failed ? [`${c.failed} connections failed: ${JSON.stringify(c.errors)}`] : [],
        closed: emptyAcc(),
        paced: emptyAcc(),
        broadcast: emptyAcc(),
        closedTotals: [],
        pacedSliceP99: [],
        rates: [],
        incomplete: 0,
        countsSent: ctx.kind.script === 'herald.ts',
      });
    }
    // Registrations settle (batched registry writes), then a warm-up, not counted: every client's
    // stream gets a first notification (batches, round robin over all clients), so what is measured
    // is the steady state of a running cluster, not the creation of 9 000 streams (a stream's first
    // append costs Redis about twice a later one: new keys and their expiry), then single publishes.
    await sleep(1000);
    const base = { target: 'client' as const, clients: n, batchSize: 1, client, rate: 0 };
    for (const rig of rigs) {
      await rig.pubs.run({ ...base, target: 'batch', batchSize: WARMUP_BATCH, mode: 'batch', concurrency: 2, durationMs: WARMUP_BATCH_MS });
      await rig.pubs.run({ ...base, mode: 'closed', concurrency: CLOSED_CONCURRENCY, durationMs: 700 });
    }
    await sleep(500);

    // Targeted, closed loop: throughput.
    await interleave(rigs, SLICES, async (rig) => {
      await rig.pool.phase(false);
      await measured(rig, 'targeted-closed', rig.closed, async () => {
        const t = await rig.pubs.run({ ...base, mode: 'closed', concurrency: CLOSED_CONCURRENCY, durationMs: (s.clusterSeconds * 1000) / SLICES });
        rig.closedTotals.push(t);
        const r = await rig.pool.waitReceived(t.ok, 10_000);
        if (r.received < t.ok) rig.notes.push(`targeted closed loop: ${t.ok - r.received} of ${t.ok} not received within 10 s`);
        return { deliveries: r.received, publishes: t.ok };
      });
    });
    const closedRate = (rig: Rig) => rig.closed.publishes / (rig.closedTotals.reduce((a, t) => a + t.elapsedMs, 0) / 1000);
    const pacedRate = Math.max(100, Math.floor(Math.min(...rigs.map(closedRate)) / 2));

    // Targeted, paced at one rate for both: latency, all and cross-node.
    await interleave(rigs, SLICES, async (rig) => {
      await rig.pool.phase(false);
      await measured(rig, 'targeted-paced', rig.paced, async () => {
        const t = await rig.pubs.run({
          ...base,
          mode: 'paced',
          rate: pacedRate,
          concurrency: PACED_CONCURRENCY,
          durationMs: (s.clusterSeconds * 1000) / SLICES,
        });
        const r = await rig.pool.waitReceived(t.ok, 10_000);
        rig.paced.latency.merge(r.latency.toJSON());
        rig.paced.remote.merge(r.latencyRemote.toJSON());
        rig.pacedSliceP99.push(r.latency.percentileMs(99) ?? Number.NaN);
        if (t.failed) rig.notes.push(`targeted paced: ${t.failed} publishes failed ${JSON.stringify(t.statuses)}`);
        return { deliveries: r.received, publishes: t.ok };
      });
    });

    // Broadcasts, one at a time.
    const opens = await Promise.all(rigs.map((r) => r.pool.phase(true)));
    let seq = 0;
    await interleave(rigs, s.clusterBroadcasts, async (rig, k) => {
      const mySeq = seq++;
      await measured(rig, 'broadcast', rig.broadcast, async () => {
        const done = rig.pool.waitSeq(mySeq, SEQ_TIMEOUT_MS);
        const t = nowMs();
        const node = rig.nodes[0];
        await postBroadcast(node, 'cluster broadcast', t, mySeq);
        const r = await done;
        if (!r.complete) rig.incomplete++;
        else rig.rates.push((opens[k] / (r.lastAt - t)) * 1000);
        return { deliveries: 0, publishes: 1 };
      });
      await sleep(GAP_MS);
    });

    const outcomes: ScenarioOutcome[] = [];
    for (const rig of rigs) {
      const b = await rig.pool.report();
      rig.broadcast.deliveries = b.received;
      rig.broadcast.latency.merge(b.latency.toJSON());
      if (rig.incomplete) rig.notes.push(`${rig.incomplete} broadcasts did not reach every device within ${SEQ_TIMEOUT_MS} ms`);
      if (b.closed) rig.notes.push(`${b.closed} devices were closed during the run: ${JSON.stringify(b.closeCodes)}`);
      const tc = rig.closed;
      const tp = rig.paced;
      const targetedDeliveries = tc.deliveries + tp.deliveries;
      const targetedPublishes = tc.publishes + tp.publishes;
      const targetedRedis: RedisDelta = { cpuUs: 0, wallMs: 0, calls: 0, byCommand: {}, usecByCommand: {} };
      addRedis(targetedRedis, tc.redis);
      addRedis(targetedRedis, tp.redis);
      const targetedSentPub = addSent(tc.sentPub, tp.sentPub);
      const targetedSentAll = addSent(tc.sentAll, tp.sentAll);
      const bc = rig.broadcast;
      rig.notes.push(`Redis commands executed per targeted delivery, top: ${topCommands(targetedRedis, targetedDeliveries)}`);
      rig.notes.push(`Redis CPU per targeted delivery: ${redisTime(targetedRedis, targetedDeliveries)}`);
      rig.notes.push(`Redis commands executed per broadcast, top: ${topCommands(bc.redis, bc.publishes)}`);
      if (!rig.countsSent) {
        rig.notes.push(
          'Redis commands sent: the adapter has no per-node counter, and every command it sends is a top-level one (no scripts), so "sent" is INFO commandstats calls, all nodes together (the same figure serves "by the publishing node" and "by all nodes").',
        );
      } else if (!targetedSentPub || !targetedSentAll || !bc.sentPub || !bc.sentAll) {
        rig.notes.push(`Redis commands sent: n/a, the nodes' /metrics have no \`${REDIS_COMMANDS_FAMILY}\` (a build from before that counter).`);
      } else {
        rig.notes.push(
          `Redis commands sent per targeted publish by component: publishing node ${describeSent(targetedSentPub, targetedPublishes)}; all nodes ${describeSent(targetedSentAll, targetedPublishes)}`,
        );
        rig.notes.push(
          `Redis commands sent per broadcast by component: publishing node ${describeSent(bc.sentPub, bc.publishes)}; all nodes ${describeSent(bc.sentAll, bc.publishes)}`,
        );
      }
      outcomes.push({
        metrics: {
          devices: rig.open,
          targetedPerSec: closedRate(rig),
          pacedRate,
          targetedP50: tp.latency.percentileMs(50),
          targetedP99: median(rig.pacedSliceP99.filter((x) => !Number.isNaN(x))),
          targetedRemoteP99: tp.remote.percentileMs(99),
          targetedNodeCpuUs: (tc.nodeCpuUs + tp.nodeCpuUs) / Math.max(1, targetedDeliveries),
          targetedSentPerPublish: sentPer(rig, targetedSentPub, targetedRedis, targetedPublishes),
          targetedSentPerDelivery: sentPer(rig, targetedSentAll, targetedRedis, targetedDeliveries),
          targetedRedisCmds: targetedRedis.calls / Math.max(1, targetedDeliveries),
          targetedRedisCpuUs: targetedRedis.cpuUs / Math.max(1, targetedDeliveries),
          targetedRedisCpuPct: tc.redis.wallMs ? (tc.redis.cpuUs / 1000 / tc.redis.wallMs) * 100 : null,
          broadcastPerSec: median(rig.rates),
          broadcastP50: rig.broadcast.latency.percentileMs(50),
          broadcastP99: rig.broadcast.latency.percentileMs(99),
          broadcastNodeCpuUs: rig.broadcast.nodeCpuUs / Math.max(1, rig.broadcast.deliveries),
          broadcastSentPerPublish: sentPer(rig, bc.sentPub, bc.redis, bc.publishes),
          broadcastSentPerBroadcast: sentPer(rig, bc.sentAll, bc.redis, bc.publishes),
          broadcastRedisCmds: rig.broadcast.redis.calls / Math.max(1, rig.broadcast.publishes),
          broadcastRedisCpuUs: rig.broadcast.redis.cpuUs / Math.max(1, rig.broadcast.publishes),
        },
        notes: rig.notes,
        details: {
          targeted: {
            closed: { publishes: tc.publishes, deliveries: tc.deliveries, redis: tc.redis, sentPublishingNode: tc.sentPub, sentAllNodes: tc.sentAll },
            paced: {
              publishes: tp.publishes,
              deliveries: tp.deliveries,
              redis: tp.redis,
              sentPublishingNode: tp.sentPub,
              sentAllNodes: tp.sentAll,
              latency: tp.latency.summary(),
              remote: tp.remote.summary(),
            },
          },
          broadcast: {
            count: rig.broadcast.publishes,
            deliveries: rig.broadcast.deliveries,
            redis: rig.broadcast.redis,
            sentPublishingNode: bc.sentPub,
            sentAllNodes: bc.sentAll,
            perBroadcast: rig.rates.map(Math.round),
          },
          nodes: rig.nodes.map((x) => x.info),
        },
      });
    }
    return outcomes;
  },
};
