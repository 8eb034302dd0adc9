import type { MetricSpec, Metrics, TargetResult } from '../scenarios/types.js';
import { SERVER_KINDS, type ServerId } from '../servers/kinds.js';
import type { MachineInfo } from './machine.js';

export interface ServerOutcome {
  metrics: Metrics;
  notes: string[];
  details?: Record<string, unknown>;
  error?: string;
  durationMs: number;
  /** Cores others kept busy just before this measurement (null: unknown). */
  backgroundCores?: number | null;
  /** The server's GC pauses inside the measured windows. */
  gc?: { count: number; totalMs: number; maxMs: number; loopDelayMaxMs?: number };
}

export interface ScenarioResult {
  id: string;
  title: string;
  metrics: MetricSpec[];
  charts: import('../scenarios/types.js').ChartSpec[];
  byServer: Partial<Record<ServerId, ServerOutcome>>;
  /** Ratio columns [subject, peer]; absent: Herald ÷ each peer. */
  ratios?: [ServerId, ServerId][];
  targets: (TargetResult & { id: string; text: string })[];
}

export interface RunResult {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  profiled: boolean;
  /** A candidate build of Herald instead of dist/ (experiments), or null. */
  heraldDist: string | null;
  httpClient: 'lean' | 'agent';
  servers: ServerId[];
  machine: MachineInfo;
  loadAverageAfter: number[];
  scenarios: ScenarioResult[];
}

export function formatNumber(v: number | null | undefined, digits = 0): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  return v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a == null || b == null || b === 0) return '—';
  return `${(a / b).toFixed(2)}×`;
}

/** The run as Markdown: machine, one table per scenario with ratios to the peers, then the issue's targets. */
export function toMarkdown(run: RunResult): string {
  const m = run.machine;
  const out: string[] = [];
  out.push(`# Herald benchmark — ${run.startedAt.replace('T', ' ').slice(0, 19)} UTC (${run.mode}${run.profiled ? ', Herald under --cpu-prof' : ''})`);
  out.push('');
  out.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Linux ${m.kernel}, open files ${m.openFileLimit}; load average ${m.loadAverage.join(' / ')} at start, ${run.loadAverageAfter.join(' / ')} at end.  `,
  );
  out.push(
    `Versions: Node ${m.node}, ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.  `,
  );
  if (run.heraldDist) out.push(`**Herald from a candidate build: \`${run.heraldDist}\`** (not the shipped dist/).  `);
  out.push(
    `Publishers' HTTP client: ${run.httpClient === 'lean' ? 'lean keep-alive client on raw sockets (bench/load/http-client.ts)' : 'node:http with a keep-alive Agent'}.  `,
  );
  out.push(
    'Each server runs in its own process; devices and publishers in other processes (≤ 5 000 devices each, each on its own loopback source address). Ratios are Herald ÷ peer within this run: on a shared 2-core machine they mean more than the absolute numbers.',
  );
  out.push('');
  for (const sc of run.scenarios) {
    // The servers this scenario measured, in the run's order.
    const servers = run.servers.filter((s) => sc.byServer[s]);
    const pairs: [ServerId, ServerId][] = (sc.ratios ?? servers.filter((s) => s !== 'herald').map((p): [ServerId, ServerId] => ['herald', p])).filter(
      ([a, b]) => servers.includes(a) && servers.includes(b),
    );
    out.push(`## ${sc.title}`);
    out.push('');
    const head = ['metric', ...servers.map((s) => SERVER_KINDS[s].label), ...pairs.map(([a, b]) => `${SERVER_KINDS[a].label} ÷ ${SERVER_KINDS[b].label}`)];
    out.push(`| ${head.join(' | ')} |`);
    out.push(`|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const spec of sc.metrics) {
      const cells = servers.map((s) => {
        const o = sc.byServer[s];
        const v = o?.metrics[spec.key];
        // A server that ran but does not expose this figure (not one that failed): the metric's own word.
        return v == null && spec.missing && o && !o.error ? spec.missing : formatNumber(v, spec.digits ?? 0);
      });
      const ratios = pairs.map(([a, b]) => ratio(sc.byServer[a]?.metrics[spec.key], sc.byServer[b]?.metrics[spec.key]));
      out.push(`| ${spec.label}${spec.unit ? ` (${spec.unit})` : ''} | ${[...cells, ...ratios].join(' | ')} |`);
    }
    const bg = servers.map((s) => sc.byServer[s]?.backgroundCores).map((b) => (b == null ? '—' : b.toFixed(2)));
    out.push(`| background load before (cores busy with other work) | ${bg.join(' | ')} |${' |'.repeat(pairs.length)}`);
    if (servers.some((s) => sc.byServer[s]?.gc)) {
      const gc = servers.map((s) => sc.byServer[s]?.gc);
      const cell = (f: (g: NonNullable<ServerOutcome['gc']>) => number, d: number) => gc.map((g) => (g ? formatNumber(f(g), d) : '—')).join(' | ');
      const blank = ' |'.repeat(pairs.length);
      out.push(`| server GC pauses while measuring: longest (ms) | ${cell((g) => g.maxMs, 1)} |${blank}`);
      out.push(`| server GC pauses while measuring: total (ms) | ${cell((g) => g.totalMs, 0)} |${blank}`);
      out.push(`| server event-loop stall while measuring: longest (ms) | ${cell((g) => g.loopDelayMaxMs ?? Number.NaN, 0)} |${blank}`);
    }
    const notes = servers.flatMap((s) => {
      const o = sc.byServer[s];
      if (!o) return [];
      return [...(o.error ? [`**failed**: ${o.error.split('\n')[0]}`] : []), ...o.notes].map((n) => `${SERVER_KINDS[s].label}: ${n}`);
    });
    if (notes.length) {
      out.push('');
      for (const n of notes) out.push(`- ${n}`);
    }
    out.push('');
  }
  const targets = run.scenarios.flatMap((s) => s.targets);
  if (targets.length) {
    out.push('## Targets');
    out.push('');
    out.push('| target | measured | met |');
    out.push('|---|---:|:---:|');
    for (const t of targets) out.push(`| ${t.text} | ${t.measured} | ${t.met === null ? '—' : t.met ? 'yes' : `**no** (${describeMiss(t)})`} |`);
    out.push('');
  }
  return out.join('\n');
}

function describeMiss(t: TargetResult & { text: string }): string {
  if (t.ratio === null || Number.isNaN(t.ratio)) return 'missed';
  // ratio = measured ÷ bound: for a floor, how far below; for a ceiling, how far above.
  return t.ratio < 1 ? `${((1 - t.ratio) * 100).toFixed(0)} % short` : `${((t.ratio - 1) * 100).toFixed(0)} % over`;
}
