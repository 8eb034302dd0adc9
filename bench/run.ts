/**
 * `npm run bench [-- --quick] [--servers herald,ws] [--scenarios broadcast-fanout,…] [--profile] [--verbose]
 *  [--http-client lean|agent] [--herald-dist <a candidate build's dist/>] [--baseline-dist <an older build's dist/>]`
 *
 * Runs every scenario against Herald, Socket.IO 4 and a raw `ws` server — each server in its own
 * process, started fresh per scenario, the devices and publishers in other processes — and writes
 * bench/results/<timestamp>.{json,md,svg} plus latest.* (only for runs of all three servers, since
 * the targets are ratios). `--profile` runs Herald under `--cpu-prof` and summarises each profile.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { waitForQuiet } from './lib/background.js';
import { toSvg } from './lib/chart.js';
import { BENCH_DIR, killAllChildren, REPO_DIR, setVerbose, sleep } from './lib/children.js';
import { DevicePool } from './lib/devices.js';
import { resetHttpAgent } from './lib/http.js';
import { machineInfo } from './lib/machine.js';
import { BenchPostgres } from './lib/postgres.js';
import { profileReport, setHeraldRoot } from './lib/profile.js';
import { PublisherPool } from './lib/publishers.js';
import { BenchRedis } from './lib/redis.js';
import { type RunResult, type ScenarioResult, type ServerOutcome, toMarkdown } from './lib/report.js';
import { ServerHandle } from './lib/servers.js';
import { FULL, QUICK } from './lib/sizes.js';
import { SCENARIOS } from './scenarios/index.js';
import type { ScenarioContext } from './scenarios/types.js';
import { ALL_SERVERS, SERVER_KINDS, SERVER_ORDER, type ServerId } from './servers/kinds.js';

/** Full runs wait up to this long, before each scenario, for other people's load to drop under {@link QUIET_CORES}. */
const QUIET_WAIT_MS = 15_000;
const QUIET_CORES = 0.5;
/** No scenario may take longer than this for one server; the run goes on without it. */
const SCENARIO_TIMEOUT_MS = 6 * 60_000;
/** Between two servers (full runs): sockets of the last one finish closing, the machine settles. */
const PAUSE_MS = 1500;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    servers: { type: 'string' },
    scenarios: { type: 'string' },
    'http-client': { type: 'string', default: 'lean' },
    'herald-dist': { type: 'string' },
    'baseline-dist': { type: 'string' },
    'heap-snapshot': { type: 'boolean', default: false },
  },
  strict: true,
});

function pick<T extends string>(list: string | undefined, all: readonly T[], what: string): T[] {
  if (!list) return [...all];
  const chosen = list.split(',').map((s) => s.trim()) as T[];
  for (const c of chosen) if (!all.includes(c)) throw new Error(`unknown ${what} ${c}; one of ${all.join(', ')}`);
  return all.filter((a) => chosen.includes(a));
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

/** GC pauses inside the measured windows of a scenario's servers of one kind. */
function gcOf(servers: ServerHandle[] | undefined): ServerOutcome['gc'] {
  const all = (servers ?? []).flatMap((s) => Object.values(s.gc));
  if (all.length === 0) return undefined;
  return {
    count: all.reduce((a, g) => a + g.count, 0),
    totalMs: all.reduce((a, g) => a + g.totalMs, 0),
    maxMs: Math.max(...all.map((g) => g.maxMs)),
    loopDelayMaxMs: Math.max(...all.map((g) => g.loopDelayMaxMs)),
  };
}

type Guarded<T> = { ok: true; value: T } | { ok: false; error: Error };

/** Runs a scenario with a time limit; a failure is recorded and the run goes on. */
async function guarded<T>(fn: () => Promise<T>): Promise<Guarded<T>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const value = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${SCENARIO_TIMEOUT_MS / 1000} s`)), SCENARIO_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, value };
  } catch (err) {
    const e = err as Error;
    log(`  FAILED: ${e.stack ?? e.message}`);
    return { ok: false, error: e };
  } finally {
    clearTimeout(timer);
  }
}

function failed(r: { ok: false; error: Error } | { ok: true }, durationMs: number): ServerOutcome {
  return { metrics: {}, notes: [], error: r.ok ? 'no result' : r.error.message, durationMs };
}

function logDone(result: ScenarioResult, id: ServerId): void {
  const o = result.byServer[id];
  if (!o) return;
  const shown = result.metrics
    .slice(0, 4)
    .map((m) => `${m.key}=${o.metrics[m.key] == null ? '—' : Number(o.metrics[m.key]).toFixed(m.digits ?? 0)}`)
    .join(' ');
  log(`  ${SERVER_KINDS[id].label} done in ${(o.durationMs / 1000).toFixed(1)} s: ${o.error ? `FAILED ${o.error.split('\n')[0]}` : shown}`);
}

async function main(): Promise<void> {
  setVerbose(args.verbose ?? false);
  if (!existsSync(join(REPO_DIR, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: run `npm run build` (npm run bench does)');
  const sizes = args.quick ? QUICK : FULL;
  const pauseMs = args.quick ? 500 : PAUSE_MS;
  const httpClient = args['http-client'] === 'agent' ? 'agent' : 'lean';
  const heraldDist = args['herald-dist'] ? resolve(args['herald-dist']) : undefined;
  if (heraldDist && !existsSync(join(heraldDist, 'server.js'))) throw new Error(`--herald-dist ${heraldDist}: no server.js there`);
  const baselineDist = args['baseline-dist'] ? resolve(args['baseline-dist']) : null;
  if (baselineDist && !existsSync(join(baselineDist, 'server.js'))) throw new Error(`--baseline-dist ${baselineDist}: no server.js there`);
  const servers = pick<ServerId>(args.servers, ALL_SERVERS, 'server');
  const chosen = pick(
    args.scenarios,
    SCENARIOS.map((s) => s.id),
    'scenario',
  );
  const scenarios = SCENARIOS.filter((s) => chosen.includes(s.id));
  const runId = stamp();
  const resultsDir = join(BENCH_DIR, 'results');
  const profileDir = join(resultsDir, 'profiles', runId);
  mkdirSync(resultsDir, { recursive: true });
  if (args['heap-snapshot']) mkdirSync(profileDir, { recursive: true });

  const run: RunResult = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    mode: sizes.mode,
    profiled: args.profile ?? false,
    heraldDist: heraldDist ?? null,
    httpClient,
    servers,
    machine: machineInfo(),
    loadAverageAfter: [],
    scenarios: [],
  };
  log(`bench ${sizes.mode}: ${scenarios.map((s) => s.id).join(', ')} × ${servers.join(', ')}`);

  for (const scenario of scenarios) {
    const result: ScenarioResult = {
      id: scenario.id,
      title: scenario.title,
      metrics: scenario.metrics(sizes),
      charts: scenario.charts ?? [],
      ratios: scenario.ratios,
      byServer: {},
      targets: [],
    };
    // A scenario that names no servers is issue 4's comparison of the three.
    const ids = servers.filter((s) => (scenario.servers ?? SERVER_ORDER).includes(s));
    if (ids.length === 0) {
      log(`${scenario.id}: none of its servers chosen (${(scenario.servers ?? SERVER_ORDER).join(', ')}), skipped`);
      continue;
    }
    const cleanup: (() => Promise<void>)[] = [];
    const started = new Map<ServerId, ServerHandle[]>();
    const contextFor = (id: ServerId): ScenarioContext => ({
      kind: SERVER_KINDS[id],
      sizes,
      httpClient,
      heapSnapshotDir: args['heap-snapshot'] ? profileDir : null,
      baselineDist,
      log: (msg) => log(`  ${scenario.id} / ${id}: ${msg}`),
      startRedis: async (shards?: number) => {
        const redis = shards && shards > 1 ? await BenchRedis.startCluster(shards) : await BenchRedis.start();
        cleanup.push(() => redis.stop());
        return redis;
      },
      startServer: async (settings = {}) => {
        const kind = SERVER_KINDS[id];
        const heraldScript = kind.script === 'herald.ts';
        const profile = args.profile && heraldScript ? { dir: profileDir, name: `${scenario.id}-${id}` } : undefined;
        const env = heraldScript && heraldDist ? { BENCH_HERALD_DIST: heraldDist } : {};
        if (kind.redis && !settings.redisUrl) {
          const redis = await BenchRedis.start();
          cleanup.push(() => redis.stop());
          settings = { ...settings, redisUrl: redis.url };
        }
        if (kind.postgres && !settings.databaseUrl) {
          const postgres = await BenchPostgres.start();
          cleanup.push(() => postgres.stop());
          settings = { ...settings, databaseUrl: postgres.url };
        }
        const server = await ServerHandle.start(kind, settings, profile, env);
        started.set(id, [...(started.get(id) ?? []), server]);
        cleanup.push(() => server.stop());
        return server;
      },
      openDevices: async (server, capacity, opts) => {
        const pool = await DevicePool.create(server, capacity, opts);
        cleanup.unshift(() => pool.close());
        return pool;
      },
      openPublishers: (server, processes, opts) => {
        const pubs = PublisherPool.create(server, processes, opts?.nodes);
        cleanup.unshift(() => pubs.close());
        return pubs;
      },
    });
    const finish = async () => {
      // Servers first (their sockets close from their side), then the load processes.
      for (const fn of cleanup.splice(0).reverse()) await fn().catch((err: Error) => log(`  cleanup: ${err.message}`));
      resetHttpAgent();
      await sleep(pauseMs);
    };
    const background = async () => {
      const busy = await waitForQuiet(QUIET_CORES, sizes.mode === 'full' ? QUIET_WAIT_MS : 0);
      log(`  background load before: ${busy === null ? 'unknown' : `${busy.toFixed(2)} cores busy`}`);
      return busy;
    };
    const together = scenario.runTogether;
    if (together) {
      const busy = await background();
      log(`${scenario.id} / ${ids.map((id) => SERVER_KINDS[id].label).join(' + ')}, interleaved`);
      const t0 = performance.now();
      const outcomes = await guarded(() => together(ids.map(contextFor)));
      const ms = performance.now() - t0;
      for (const [i, id] of ids.entries()) {
        const o = outcomes.ok ? outcomes.value[i] : undefined;
        result.byServer[id] = o
          ? { metrics: o.metrics, notes: o.notes ?? [], details: o.details, durationMs: ms, backgroundCores: busy, gc: gcOf(started.get(id)) }
          : failed(outcomes, ms);
        logDone(result, id);
      }
      await finish();
    } else if (scenario.run) {
      const single = scenario.run;
      for (const id of ids) {
        const busy = await background();
        log(`${scenario.id} / ${SERVER_KINDS[id].label}`);
        const t0 = performance.now();
        const r = await guarded(() => single(contextFor(id)));
        const ms = performance.now() - t0;
        result.byServer[id] = r.ok
          ? { metrics: r.value.metrics, notes: r.value.notes ?? [], details: r.value.details, durationMs: ms, backgroundCores: busy, gc: gcOf(started.get(id)) }
          : failed(r, ms);
        logDone(result, id);
        await finish();
      }
    }
    result.targets = scenario.targets.map((t) => ({
      id: t.id,
      text: t.text,
      ...t.evaluate(Object.fromEntries(Object.entries(result.byServer).map(([k, v]) => [k, v.metrics]))),
    }));
    run.scenarios.push(result);
  }

  run.finishedAt = new Date().toISOString();
  run.loadAverageAfter = loadavg().map((x) => Math.round(x * 100) / 100);
  const md = toMarkdown(run);
  const svg = toSvg(run);
  const base = join(resultsDir, `${runId}-${sizes.mode}${run.profiled ? '-profiled' : ''}${heraldDist ? '-candidate' : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${md}\n![chart](${base.split('/').pop()}.svg)\n`);
  writeFileSync(`${base}.svg`, svg);
  // latest.* is the reference: every server, the shipped build, no profiler.
  const complete = ALL_SERVERS.every((s) => servers.includes(s)) && scenarios.length === SCENARIOS.length && !heraldDist;
  if (complete && !run.profiled) {
    writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(run, null, 2)}\n`);
    writeFileSync(join(resultsDir, 'latest.md'), `${md}\n![chart](latest.svg)\n`);
    writeFileSync(join(resultsDir, 'latest.svg'), svg);
  }
  if (run.profiled && existsSync(profileDir)) {
    setHeraldRoot(heraldDist ?? join(REPO_DIR, 'dist'));
    writeFileSync(`${base}-profile.md`, `${profileReport(profileDir, `run ${runId} (${sizes.mode})`)}\n`);
    log(`profile summary: ${base}-profile.md`);
  }
  process.stdout.write(`\n${md}\n`);
  log(`results: ${base}.{json,md,svg}${complete && !run.profiled ? ' and latest.*' : ''}`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAllChildren();
    process.exit(1);
  },
);
