import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../lib/children.js';
import { heapDeltaPerConnection } from '../lib/heap.js';
import { ratioTarget } from '../lib/targets.js';
import type { Scenario } from './types.js';

/** Devices connected before the baseline, so lazily loaded code and first-use caches are not counted per connection. */
const WARM = 100;

/**
 * RSS and V8 heap per idle WebSocket connection, after GC, at a small and a large count:
 * (memory at N − memory at {@link WARM}) ÷ (N − WARM). Heartbeats at their default interval.
 */
export const idleMemory: Scenario = {
  id: 'idle-memory',
  title: 'Idle memory per WebSocket connection (after GC)',
  metrics: (s) => [
    { key: 'rssLow', label: `RSS / connection @ ${s.memoryCounts[0].toLocaleString('en')}`, unit: 'KB', better: 'lower', digits: 1 },
    { key: 'heapLow', label: `heap / connection @ ${s.memoryCounts[0].toLocaleString('en')}`, unit: 'KB', better: 'lower', digits: 1 },
    { key: 'rssHigh', label: `RSS / connection @ ${s.memoryCounts[1].toLocaleString('en')}`, unit: 'KB', better: 'lower', digits: 1 },
    { key: 'heapHigh', label: `heap / connection @ ${s.memoryCounts[1].toLocaleString('en')}`, unit: 'KB', better: 'lower', digits: 1 },
    { key: 'rssTotalHigh', label: `server RSS @ ${s.memoryCounts[1].toLocaleString('en')}`, unit: 'MB', better: 'lower', digits: 0 },
  ],
  targets: [
    ratioTarget('memory-vs-ws', 'Idle memory per WebSocket connection ≤ 1.3 × raw ws (RSS, largest count)', 'rssHigh', '<=', 1.3, 'ws'),
    ratioTarget('memory-vs-socketio', 'Idle memory per WebSocket connection ≤ 0.5 × Socket.IO (RSS, largest count)', 'rssHigh', '<=', 0.5, 'socketio'),
  ],
  charts: [
    {
      title: 'Idle memory per connection (largest count)',
      unit: 'KB',
      keys: [
        { key: 'rssHigh', label: 'RSS' },
        { key: 'heapHigh', label: 'heap' },
      ],
    },
  ],
  async run(ctx) {
    const [low, high] = ctx.sizes.memoryCounts;
    const server = await ctx.startServer();
    const pool = await ctx.openDevices(server, high);
    const notes: string[] = [];
    const warm = await pool.connect(WARM);
    await sleep(500);
    const base = await server.mem();
    const at = async (n: number) => {
      const c = await pool.connect(n);
      if (c.failed > 0) notes.push(`${c.failed} of ${n} connections failed: ${JSON.stringify(c.errors)}`);
      await sleep(ctx.sizes.memorySettleMs);
      const m = await server.mem();
      const per = (v: number, b: number) => (v - b) / (c.open - warm.open) / 1024;
      ctx.log(`${c.open} open: rss ${(m.rss / 2 ** 20).toFixed(0)} MB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)} MB`);
      return { open: c.open, mem: m, rss: per(m.rss, base.rss), heap: per(m.heapUsed, base.heapUsed), external: per(m.external, base.external) };
    };
    // Diagnostics: what the first `low` connections are made of, from two heap snapshots.
    const snap = ctx.heapSnapshotDir ? join(ctx.heapSnapshotDir, `${ctx.kind.id}-warm.heapsnapshot`) : null;
    if (snap) await server.heapSnapshot(snap);
    const a = await at(low);
    let heapByKind: { what: string; bytes: number; count: number }[] | undefined;
    if (snap && ctx.heapSnapshotDir) {
      const after = join(ctx.heapSnapshotDir, `${ctx.kind.id}-${low}.heapsnapshot`);
      await server.heapSnapshot(after);
      heapByKind = heapDeltaPerConnection(snap, after, a.open - warm.open);
      notes.push('heap snapshots were taken (--heap-snapshot): the RSS figures of this run are distorted by them');
      notes.push(`heap per connection by kind: ${heapByKind.map((r) => `${r.what} ${Math.round(r.bytes)} B`).join(', ')}`);
      rmSync(snap, { force: true });
      rmSync(after, { force: true });
    }
    const b = await at(high);
    return {
      metrics: { rssLow: a.rss, heapLow: a.heap, rssHigh: b.rss, heapHigh: b.heap, rssTotalHigh: b.mem.rss / 2 ** 20 },
      notes,
      details: { warm: warm.open, base, low: a, high: b, heapByKind },
    };
  },
};
