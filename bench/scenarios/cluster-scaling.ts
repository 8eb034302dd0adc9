import { postBroadcast } from '../lib/broadcast.js';
import { sleep } from '../lib/children.js';
import type { DevicePool } from '../lib/devices.js';
import { nowMs } from '../lib/histogram.js';
import { resetHttpAgent } from '../lib/http.js';
import { median } from '../lib/interleave.js';
import { addSent, describeSent, REDIS_COMMANDS_FAMILY, readRedisCommandsSent, type SentCommands, sentBetween } from '../lib/node-metrics.js';
import type { PublisherPool } from '../lib/publishers.js';
import { type BenchRedis, type RedisDelta, topCommands } from '../lib/redis.js';
import type { ServerHandle } from '../lib/servers.js';
import { WARMUP_BATCH, WARMUP_BATCH_MS } from './cluster.js';
import type { ChartSpec, MetricSpec, Metrics, Scenario, ScenarioContext } from './types.js';

/**
 * The cluster sizes measured, one after the other, each on a fresh redis-server; the last is three
 * nodes on a Redis Cluster of three shards (REDIS_CLUSTER), to compare with three on one server.
 */
const VARIANTS = [
  { id: '1', nodes: 1, shards: 1 },
  { id: '2', nodes: 2, shards: 1 },
  { id: '3', nodes: 3, shards: 1 },
  { id: '4', nodes: 4, shards: 1 },
  { id: '3s3', nodes: 3, shards: 3 },
] as const;
type Variant = (typeof VARIANTS)[number];
/** Closed-loop publishes in flight per node (the cluster scenario's one publishing node has 32). */
const CONCURRENCY_PER_NODE = 32;
const WARMUP_MS = 700;
const RECEIVE_TIMEOUT_MS = 10_000;
const SEQ_TIMEOUT_MS = 15_000;
const GAP_MS = 100;

const nodesLabel = (n: number) => `${n} node${n > 1 ? 's' : ''}`;
const variantLabel = (v: Variant) => `${nodesLabel(v.nodes)}${v.shards > 1 ? ` on ${v.shards} Redis shards` : ''}`;

/** One row per figure and node count (`rate1` … `rate4`), so the one-column table reads down by N. */
function perN(key: string, label: string, unit: string, better: 'higher' | 'lower', digits = 0, missing?: string): MetricSpec[] {
  return VARIANTS.map((v) => ({ key: `${key}${v.id}`, label: `${label}, ${variantLabel(v)}`, unit, better, digits, ...(missing ? { missing } : {}) }));
}

const chartPerN = (title: string, unit: string, key: string): ChartSpec => ({
  title,
  unit,
  keys: VARIANTS.map((v) => ({ key: `${key}${v.id}`, label: variantLabel(v) })),
});

interface Window {
  redis: RedisDelta;
  /** All nodes' Redis commands sent (their `/metrics`); null when not exposed. */
  sent: SentCommands | null;
  nodeCpuUs: number;
}

/** One stretch on every node and the redis-server; `/metrics` read outside the nodes' CPU windows. */
async function measure<T>(redis: BenchRedis, nodes: ServerHandle[], label: string, fn: () => Promise<T>): Promise<{ value: T } & Window> {
  const r0 = await redis.sample();
  const s0 = await Promise.all(nodes.map((n) => readRedisCommandsSent(n)));
  const ws = await Promise.all(nodes.map((n) => n.begin(label)));
  const value = await fn();
  const costs = await Promise.all(nodes.map((n, i) => n.end(ws[i])));
  const s1 = await Promise.all(nodes.map((n) => readRedisCommandsSent(n)));
  const r1 = await redis.sample();
  return {
    value,
    redis: redis.delta(r0, r1),
    sent: s0.map((a, i) => sentBetween(a, s1[i])).reduce<SentCommands | null>((a, x) => addSent(a, x), { total: 0, byComponent: {} }),
    nodeCpuUs: costs.reduce((a, c) => a + c.cpuUs, 0),
  };
}

/** What one node count measured. */
interface Step {
  metrics: Metrics;
  notes: string[];
  details: Record<string, unknown>;
}

/**
 * N nodes on a fresh redis-server, the scenario's devices spread over them (`u<k>` on node k mod N),
 * one publisher process per node publishing closed-loop targeted notifications to all clients
 * (so (N − 1) ÷ N of deliveries cross nodes), then broadcasts one at a time, each from the next
 * node. Everything it starts is stopped before the next N.
 */
async function step(ctx: ScenarioContext, v: Variant): Promise<Step> {
  const n = v.nodes;
  const id = v.id;
  const s = ctx.sizes;
  const total = s.clusterDevices;
  const notes: string[] = [];
  const redis = await ctx.startRedis(v.shards);
  const nodes: ServerHandle[] = [];
  let pool: DevicePool | undefined;
  let pubs: PublisherPool | undefined;
  try {
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: n }, (_, i) => ctx.startServer({ redisUrl: redis.url, redisCluster: redis.cluster, nodeId: `bench-s${id}-n${i}` })),
      )),
    );
    pool = await ctx.openDevices(nodes[0], total, { nodes });
    const c = await pool.connect(total);
    if (c.failed) notes.push(`${c.failed} connections failed: ${JSON.stringify(c.errors)}`);
    ctx.log(`${variantLabel(v)}: ${c.open} devices connected`);
    pubs = ctx.openPublishers(nodes[0], n, { nodes });
    const p = pubs;
    const devices = pool;

    // Registrations settle (batched registry writes), then a warm-up, not counted.
    await sleep(1000);
    const base = {
      target: 'client' as const,
      clients: total,
      batchSize: 1,
      client: ctx.httpClient,
      rate: 0,
      mode: 'closed' as const,
      concurrency: CONCURRENCY_PER_NODE,
    };
    // Every client's stream gets a first notification before anything is measured (see cluster.ts).
    await p.run({ ...base, target: 'batch', mode: 'batch', batchSize: WARMUP_BATCH, concurrency: 2, durationMs: WARMUP_BATCH_MS });
    await p.run({ ...base, durationMs: WARMUP_MS });
    await sleep(300);

    // Targeted, closed loop on every node at once. Redis CPU as a share of a core over the
    // publishing itself (to `mid`); everything per publish over the whole window, the wait for the
    // last deliveries included.
    await devices.phase(false);
    let mid: { cpuUs: number; atMs: number; shards: number[] } | undefined;
    const t = await measure(redis, nodes, 'scaling-targeted', async () => {
      const r0 = await redis.sample();
      const totals = await p.run({ ...base, durationMs: s.scalingSeconds * 1000 });
      const r1 = await redis.sample();
      mid = { cpuUs: r1.cpuUs - r0.cpuUs, atMs: r1.atMs - r0.atMs, shards: redis.shardCpuUs(r0, r1) };
      const got = await devices.waitReceived(totals.ok, RECEIVE_TIMEOUT_MS);
      if (got.received < totals.ok)
        notes.push(`${totals.ok - got.received} of ${totals.ok} targeted notifications not received within ${RECEIVE_TIMEOUT_MS / 1000} s`);
      if (totals.failed) notes.push(`${totals.failed} publishes failed ${JSON.stringify(totals.statuses)}`);
      return { totals, received: got.received };
    });
    const { totals, received } = t.value;
    const publishes = Math.max(1, totals.ok);
    const seconds = totals.elapsedMs / 1000;
    notes.push(
      `targeted: ${totals.ok} publishes (per node ${totals.okByProcess.join(' / ')}), publishers' CPU ${totals.publisherCpuPct.toFixed(0)} % of a core; executed per publish: ${topCommands(t.redis, publishes)}`,
    );
    if (t.sent) notes.push(`targeted: Redis commands sent per publish by component (all nodes): ${describeSent(t.sent, publishes)}`);
    if (mid && mid.shards.length > 1 && mid.atMs > 0) {
      const m = mid;
      notes.push(`targeted: Redis CPU by shard: ${m.shards.map((us) => `${((us / 1000 / m.atMs) * 100).toFixed(0)} %`).join(' / ')} of a core`);
    }

    // Broadcasts, one at a time, from each node in turn.
    const open = await devices.phase(true);
    const rates: number[] = [];
    let incomplete = 0;
    const b: Window = { redis: { cpuUs: 0, wallMs: 0, calls: 0, byCommand: {}, usecByCommand: {} }, sent: { total: 0, byComponent: {} }, nodeCpuUs: 0 };
    for (let k = 0; k < s.clusterBroadcasts; k++) {
      const node = nodes[k % n];
      const w = await measure(redis, nodes, 'scaling-broadcast', async () => {
        const done = devices.waitSeq(k, SEQ_TIMEOUT_MS);
        const at = nowMs();
        await postBroadcast(node, 'scaling broadcast', at, k);
        const r = await done;
        if (!r.complete) incomplete++;
        else rates.push((open / (r.lastAt - at)) * 1000);
      });
      b.redis.cpuUs += w.redis.cpuUs;
      b.redis.wallMs += w.redis.wallMs;
      b.redis.calls += w.redis.calls;
      for (const [cmd, v] of Object.entries(w.redis.byCommand)) b.redis.byCommand[cmd] = (b.redis.byCommand[cmd] ?? 0) + v;
      b.sent = addSent(b.sent, w.sent);
      b.nodeCpuUs += w.nodeCpuUs;
      await sleep(GAP_MS);
    }
    const br = await devices.report();
    if (incomplete) notes.push(`${incomplete} broadcasts did not reach every device within ${SEQ_TIMEOUT_MS} ms`);
    if (br.closed) notes.push(`${br.closed} devices were closed during the run: ${JSON.stringify(br.closeCodes)}`);
    const casts = Math.max(1, s.clusterBroadcasts);
    notes.push(`broadcast: executed per broadcast: ${topCommands(b.redis, casts)}`);
    if (b.sent) notes.push(`broadcast: Redis commands sent per broadcast by component (all nodes): ${describeSent(b.sent, casts)}`);

    return {
      metrics: {
        [`rate${id}`]: totals.ok / seconds,
        [`deliveries${id}`]: received / seconds,
        [`redisCpuPct${id}`]: mid && mid.atMs > 0 ? (mid.cpuUs / 1000 / mid.atMs) * 100 : null,
        [`redisCpuUs${id}`]: t.redis.cpuUs / publishes,
        [`sent${id}`]: t.sent ? t.sent.total / publishes : null,
        [`executed${id}`]: t.redis.calls / publishes,
        [`nodeCpuUs${id}`]: t.nodeCpuUs / Math.max(1, received),
        [`bcastRate${id}`]: median(rates),
        [`bcastRedisCpuUs${id}`]: b.redis.cpuUs / casts,
        [`bcastSent${id}`]: b.sent ? b.sent.total / casts : null,
        [`bcastExecuted${id}`]: b.redis.calls / casts,
      },
      notes,
      details: {
        variant: id,
        nodes: n,
        shards: v.shards,
        devices: c.open,
        targeted: {
          publishes: totals.ok,
          perNode: totals.okByProcess,
          received,
          elapsedMs: totals.elapsedMs,
          publisherCpuPct: totals.publisherCpuPct,
          redis: t.redis,
          sent: t.sent,
          nodeCpuUs: t.nodeCpuUs,
        },
        broadcast: {
          count: s.clusterBroadcasts,
          deliveries: br.received,
          perBroadcast: rates.map(Math.round),
          redis: b.redis,
          sent: b.sent,
          nodeCpuUs: b.nodeCpuUs,
        },
      },
    };
  } finally {
    // Servers first (their sockets close from their side), then Redis, then the load processes;
    // the scenario's own cleanup finds them stopped.
    for (const node of nodes) await node.stop().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    await pool?.close();
    await pubs?.close();
    resetHttpAgent();
    await sleep(500);
  }
}

/**
 * Issue 17: how a Herald cluster grows on one Redis. For N = 1, 2, 3, 4 node processes, each N on
 * its own fresh redis-server (and 3 nodes on a fresh three-shard Redis Cluster), the same devices (the cluster scenario's count) spread evenly over
 * the nodes and one closed-loop publisher per node: the cluster's targeted publishes/s, its
 * deliveries/s, Redis CPU (share of a core, µs per publish), Redis commands per publish (sent by
 * the nodes, from their `/metrics`; executed, from `INFO commandstats`), the nodes' CPU per
 * delivery; then a few broadcasts: deliveries/s and Redis cost per broadcast. On one 2-core machine
 * the nodes, Redis and the load share the same cores, so the rate cannot grow as it would on
 * separate hosts: the per-publish costs are what carry over.
 */
export const clusterScaling: Scenario = {
  id: 'cluster-scaling',
  title: 'Cluster scaling: 1 to 4 Herald nodes on one Redis (and 3 on a 3-shard Redis Cluster), same devices',
  servers: ['herald-cluster'],
  ratios: [],
  metrics: (s) => [
    ...perN(
      'rate',
      `targeted: cluster publishes / s (closed loop, ${CONCURRENCY_PER_NODE} in flight per node, ${s.clusterDevices.toLocaleString('en')} devices in all)`,
      '/s',
      'higher',
    ),
    ...perN('deliveries', 'targeted: deliveries / s', '/s', 'higher'),
    ...perN('redisCpuPct', 'targeted: Redis CPU', '% of a core', 'lower'),
    ...perN('redisCpuUs', 'targeted: Redis CPU / publish', 'µs', 'lower', 1),
    ...perN('sent', 'targeted: Redis commands sent by all nodes / publish', '', 'lower', 2, 'n/a'),
    ...perN('executed', 'targeted: Redis commands executed (incl. inside scripts) / publish', '', 'lower', 2),
    ...perN('nodeCpuUs', 'targeted: CPU of all nodes / delivery', 'µs', 'lower', 1),
    ...perN('bcastRate', `broadcast: deliveries / s (median of ${s.clusterBroadcasts})`, '/s', 'higher'),
    ...perN('bcastRedisCpuUs', 'broadcast: Redis CPU / broadcast', 'µs', 'lower'),
    ...perN('bcastSent', 'broadcast: Redis commands sent by all nodes / broadcast', '', 'lower', 1, 'n/a'),
    ...perN('bcastExecuted', 'broadcast: Redis commands executed (incl. inside scripts) / broadcast', '', 'lower', 1),
  ],
  targets: [],
  charts: [
    chartPerN('Cluster scaling: targeted publishes/s', 'publishes/s, all nodes', 'rate'),
    chartPerN('Cluster scaling: Redis CPU', '% of a core (targeted, closed loop)', 'redisCpuPct'),
    chartPerN('Cluster scaling: Redis CPU per publish', 'µs', 'redisCpuUs'),
  ],
  async run(ctx) {
    const metrics: Metrics = {};
    const notes: string[] = [];
    const steps: Record<string, unknown>[] = [];
    let sentMissing = false;
    for (const v of VARIANTS) {
      try {
        const r = await step(ctx, v);
        Object.assign(metrics, r.metrics);
        notes.push(...r.notes.map((x) => `${variantLabel(v)}: ${x}`));
        steps.push(r.details);
        if (r.metrics[`sent${v.id}`] == null) sentMissing = true;
        ctx.log(
          `${variantLabel(v)}: ${Math.round(r.metrics[`rate${v.id}`] ?? 0)} publishes/s, Redis ${Math.round(r.metrics[`redisCpuPct${v.id}`] ?? 0)} % of a core`,
        );
      } catch (err) {
        // One variant failing leaves the others' figures.
        const e = err as Error;
        ctx.log(`${variantLabel(v)} FAILED: ${e.message}`);
        notes.push(`${variantLabel(v)}: **failed**: ${e.message.split('\n')[0]}`);
      }
    }
    if (sentMissing) notes.push(`Redis commands sent: n/a, the nodes' /metrics have no \`${REDIS_COMMANDS_FAMILY}\` (a build from before that counter).`);
    return { metrics, notes, details: { steps } };
  },
};
