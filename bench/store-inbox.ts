/**
 * `node --import tsx bench/store-inbox.ts [--quick]`
 *
 * Issue 15's inbox at the store level (no HTTP, no devices), on a private redis-server:
 * 1. **Targeted publish with and without the inbox bookkeeping**: the Redis append script before
 *    the inbox (frozen in lib/pre-inbox-append.ts) beside today's, through the same JS wrapper, the
 *    same connection settings and 1 000 appends in flight, on streams full at the default retention
 *    (1 000: every append also trims, the steady state); rounds interleaved so other people's load
 *    falls on both alike. Reports appends/s and Redis CPU per append (INFO cpu: the server's own
 *    cost, steadier than rates on a shared machine). Also today's script with a collapse key on
 *    every publish, and the whole RedisStore.append (with `--pre-inbox-dist <dist/ of a build of
 *    1a24d41>` also that build's RedisStore.append, for the JS side). Node CPU per append too.
 * 2. **Inbox reads with 1 000 items per client** on the memory and the Redis store: listInbox
 *    (a page of 20), inboxCounts (three views) and setState (one id), one call at a time: p50/p99,
 *    and on Redis the server's CPU per call.
 *
 * Writes bench/results/<time>-store-inbox.{md,json}.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { uuidv7 } from '../src/core/ids.js';
import type { Store, Target } from '../src/core/types.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { APPEND_LUA } from '../src/store/redis-scripts.js';
import { RedisStore } from '../src/store/redis-store.js';
import { backgroundCores } from './lib/background.js';
import { BENCH_DIR } from './lib/children.js';
import { Histogram } from './lib/histogram.js';
import { machineInfo } from './lib/machine.js';
import { PRE_INBOX_APPEND_LUA } from './lib/pre-inbox-append.js';
import { BenchRedis } from './lib/redis.js';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'pre-inbox-dist': { type: 'string' } },
  strict: true,
});
const QUICK = args.quick;
const CLIENTS = QUICK ? 50 : 200;
/** The default RETENTION_MESSAGES: every stream is filled to it first, so each measured append also trims. */
const RETENTION = 1000;
const IN_FLIGHT = 1000;
const ROUNDS = QUICK ? 3 : 6;
const PER_ROUND = QUICK ? 10_000 : 30_000;
const READS = QUICK ? 300 : 2000;
const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

type Lane = { name: string; append: (client: number, now: number) => Promise<unknown> };

/** Runs `total` calls with `inFlight` outstanding at a time. */
async function pool(total: number, inFlight: number, call: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) await call(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/** One ioredis connection as RedisStore configures it, with a script under the name `cmd`. */
function connection(url: string, lua: string, keys?: number): Redis & { cmd: (...a: (string | number)[]) => Promise<unknown> } {
  const r = new Redis(url, { enableAutoPipelining: false, maxRetriesPerRequest: 0 });
  r.defineCommand('cmd', { numberOfKeys: keys, lua });
  return r as Redis & { cmd: (...a: (string | number)[]) => Promise<unknown> };
}

/** The JSON body RedisStore.append writes, built the same way for every lane. */
function body(now: number): { id: string; json: string } {
  const id = uuidv7(now);
  return {
    id,
    json: JSON.stringify({ id, title: 'Order shipped', message: 'Your order #1234 is on its way', service: 'shop', data: { order: 1234 }, ts: now }),
  };
}

async function publishBench(redis: BenchRedis): Promise<Record<string, unknown>> {
  const ttl = 3_600_000;
  const retMs = 86_400_000;
  const pre = connection(redis.url, PRE_INBOX_APPEND_LUA, 3);
  // Today's script takes its number of keys first: 3 for a plain publish, 4 with the inbox hash.
  const cur = connection(redis.url, APPEND_LUA);
  const store = await RedisStore.connect({ url: redis.url, prefix: 'bs:', retentionMessages: RETENTION, retentionMs: retMs, streamTtlMs: ttl });
  const preDist = args['pre-inbox-dist'];
  const PreStore = preDist
    ? ((await import(pathToFileURL(join(resolve(preDist), 'store/redis-store.js')).href)) as { RedisStore: typeof RedisStore }).RedisStore
    : null;
  const preStore = PreStore && (await PreStore.connect({ url: redis.url, prefix: 'bo:', retentionMessages: RETENTION, retentionMs: retMs, streamTtlMs: ttl }));
  const publish = (s: Store, c: number, now: number) =>
    s.append(
      { kind: 'client', clientId: `c${c}` },
      { title: 'Order shipped', message: 'Your order #1234 is on its way', service: 'shop', data: { order: 1234 } },
      now,
    );
  const k = (p: string, c: number, s: string) => `${p}{c${c}}:${s}`;
  const lanes: Lane[] = [
    {
      name: 'before the inbox (script of 1a24d41)',
      append: (c, now) => {
        const b = body(now);
        return pre.cmd(k('bp:', c, 's'), k('bp:', c, 'm'), k('bp:', c, 'i:'), now, RETENTION, retMs, ttl, '0', '1', b.json, '', '', 'e0000000');
      },
    },
    {
      name: 'with the inbox (today)',
      append: (c, now) => {
        const b = body(now);
        return cur.cmd(3, k('bc:', c, 's'), k('bc:', c, 'm'), k('bc:', c, 'i:'), now, RETENTION, retMs, ttl, '0', '1', b.json, '', '', 'e0000000');
      },
    },
    {
      name: 'with the inbox, a collapse key on every publish',
      append: (c, now) => {
        const b = body(now);
        return cur.cmd(
          4,
          k('bk:', c, 's'),
          k('bk:', c, 'm'),
          k('bk:', c, 'i:'),
          k('bk:', c, 'x'),
          now,
          RETENTION,
          retMs,
          ttl,
          '0',
          '1',
          b.json,
          '',
          '',
          'e0000000',
          b.id,
          `score-${now % 10}`,
          '',
        );
      },
    },
    { name: 'RedisStore.append (today, whole store path)', append: (c, now) => publish(store, c, now) },
  ];
  if (preStore) lanes.push({ name: 'RedisStore.append before the inbox (build of 1a24d41)', append: (c, now) => publish(preStore, c, now) });
  // Fill every stream to retention first, so each measured append also trims (the steady state).
  log(`filling ${CLIENTS} streams per lane to ${RETENTION} notifications`);
  for (const lane of lanes) await pool(CLIENTS * RETENTION, IN_FLIGHT, (i) => lane.append(i % CLIENTS, Date.now()));
  const rates: Record<string, number[]> = Object.fromEntries(lanes.map((l) => [l.name, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(lanes.map((l) => [l.name, []]));
  const nodeCpu: Record<string, number[]> = Object.fromEntries(lanes.map((l) => [l.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate who goes first, so a burst of other load does not always hit the same lane.
    const order = lanes.map((_, i) => lanes[(i + round) % lanes.length]);
    for (const lane of order) {
      const a = await redis.sample();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await pool(PER_ROUND, IN_FLIGHT, (i) => lane.append(i % CLIENTS, Date.now()));
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const d = redis.delta(a, await redis.sample());
      nodeCpu[lane.name].push((c1.user + c1.system) / PER_ROUND);
      rates[lane.name].push((PER_ROUND / ms) * 1000);
      cpu[lane.name].push(d.cpuUs / PER_ROUND);
    }
    log(`round ${round + 1}/${ROUNDS}: ${lanes.map((l) => `${Math.round(rates[l.name].at(-1) ?? 0)}/s`).join(', ')}`);
  }
  pre.disconnect();
  cur.disconnect();
  await store.close();
  await preStore?.close();
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  return Object.fromEntries(
    lanes.map((l) => [
      l.name,
      {
        appendsPerSec: Math.round(median(rates[l.name])),
        redisCpuUsPerAppend: round2(median(cpu[l.name])),
        nodeCpuUsPerAppend: round2(median(nodeCpu[l.name])),
        rounds: rates[l.name].map(Math.round),
      },
    ]),
  );
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** One client with 1 000 items (950 its own, 50 broadcasts since it registered; some read, some archived). */
async function fillInbox(s: Store, now: number): Promise<string[]> {
  await s.replay({ clientId: 'reader', deviceId: 'phone', after: { c: null, b: null, ce: null, be: null }, broadcasts: false, register: true }, now - 10_000);
  const ids: string[] = [];
  const alice: Target = { kind: 'client', clientId: 'reader' };
  for (let i = 0; i < 1000; i++) {
    const target: Target = i % 20 === 0 ? { kind: 'broadcast' } : i % 10 === 1 ? { kind: 'device', clientId: 'reader', deviceId: 'laptop' } : alice;
    const r = await s.append(
      target,
      { title: `notification ${i}`, message: 'Your order #1234 is on its way', service: 'shop', data: { order: i } },
      now - 5000 + i,
    );
    ids.push(r.notification.id);
  }
  await s.setState('reader', { ids: ids.filter((_, i) => i % 3 === 0), read: true, scope: null, by: null }, now);
  await s.setState('reader', { ids: ids.filter((_, i) => i % 10 === 5), archived: true, scope: null, by: null }, now);
  return ids;
}

async function readBench(name: string, s: Store, redis: BenchRedis | null): Promise<Record<string, unknown>> {
  const now = Date.now();
  const ids = await fillInbox(s, now);
  let before: string | null = null;
  const ops: Record<string, (i: number) => Promise<unknown>> = {
    listInbox: async (i) => {
      const page = await s.listInbox({ clientId: 'reader', deviceId: 'phone', limit: 20, before: i % 5 === 0 ? null : before }, Date.now());
      before = page.next;
    },
    inboxCounts: () => s.inboxCounts('reader', ['phone', 'laptop', null], Date.now()),
    setState: (i) => s.setState('reader', { ids: [ids[(i * 7) % ids.length]], read: i % 2 === 0, scope: 'phone', by: 'phone' }, Date.now()),
  };
  const row: Record<string, unknown> = {};
  for (const [op, call] of Object.entries(ops)) {
    const h = new Histogram();
    const a = await redis?.sample();
    for (let i = 0; i < READS; i++) {
      const t = performance.now();
      await call(i);
      h.recordMs(performance.now() - t);
    }
    const cpu = a && redis ? Math.round(redis.delta(a, await redis.sample()).cpuUs / READS) : null;
    row[op] = { ...h.summary(), redisCpuUsPerCall: cpu };
  }
  log(
    `${name}: ${Object.entries(row)
      .map(([op, v]) => `${op} p50 ${(v as { p50: number }).p50} ms p99 ${(v as { p99: number }).p99} ms`)
      .join('; ')}`,
  );
  return row;
}

async function main(): Promise<void> {
  const started = new Date();
  const background = await backgroundCores();
  log(`other load on the machine: ${background ?? '?'} cores busy`);
  const redis = await BenchRedis.start();
  try {
    const publish = await publishBench(redis);
    const memory = await readBench('memory', new MemoryStore({ retentionMessages: 1000, retentionMs: 86_400_000 }), null);
    const rs = await RedisStore.connect({ url: redis.url, prefix: 'br:', retentionMessages: 1000, retentionMs: 86_400_000 });
    const reads = { memory, redis: await readBench('redis', rs, redis) };
    await rs.close();
    const result = { started: started.toISOString(), quick: QUICK, machine: machineInfo(), backgroundCores: background, publish, reads };
    const stamp = started.toISOString().replace(/[:.]/g, '-').slice(0, 19);
    const base = join(BENCH_DIR, 'results', `${stamp}-store-inbox${QUICK ? '-quick' : ''}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(`${base}.md`, toMarkdown(result));
    process.stdout.write(`\n${toMarkdown(result)}\nwrote ${base}.{json,md}\n`);
  } finally {
    await redis.stop();
  }
}

function toMarkdown(r: {
  started: string;
  quick: boolean;
  backgroundCores: number | null;
  publish: Record<string, unknown>;
  reads: Record<string, Record<string, unknown>>;
}): string {
  const lines = [
    `# Inbox at the store level (${r.started}${r.quick ? ', quick' : ''})`,
    '',
    `Other load while it ran: ${r.backgroundCores ?? '?'} cores. ${CLIENTS} clients, retention ${RETENTION} (every append trims), ${IN_FLIGHT} appends in flight, median of ${ROUNDS} interleaved rounds of ${PER_ROUND}.`,
    '',
    '| targeted append, Redis store | appends/s | Redis CPU µs/append | Node CPU µs/append |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const [name, v] of Object.entries(r.publish) as [string, { appendsPerSec: number; redisCpuUsPerAppend: number; nodeCpuUsPerAppend: number }][]) {
    lines.push(`| ${name} | ${v.appendsPerSec} | ${v.redisCpuUsPerAppend} | ${v.nodeCpuUsPerAppend} |`);
  }
  lines.push('', `Inbox of one client with 1 000 items (950 its own, 50 broadcasts), ${READS} calls of each, one at a time (ms; Redis CPU µs per call):`, '');
  lines.push('| store | listInbox (page of 20) p50 / p99 | inboxCounts (3 views) p50 / p99 | setState (1 id) p50 / p99 |', '| --- | ---: | ---: | ---: |');
  type Row = { p50: number | null; p99: number | null; redisCpuUsPerCall: number | null };
  for (const [name, v] of Object.entries(r.reads) as [string, Record<string, Row>][]) {
    const f = (h: Row) => `${h.p50} / ${h.p99}${h.redisCpuUsPerCall === null ? '' : ` (${h.redisCpuUsPerCall} µs)`}`;
    lines.push(`| ${name} | ${f(v.listInbox)} | ${f(v.inboxCounts)} | ${f(v.setState)} |`);
  }
  return `${lines.join('\n')}\n`;
}

await main();
process.exit(0);
