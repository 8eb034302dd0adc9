import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A V8 .cpuprofile as `node --cpu-prof` writes it. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** The measured windows summarised (all of the process's life when none were recorded). */
  scope: string;
  totalMs: number;
  /** Time not idle (everything but `(idle)`). */
  busyMs: number;
  byCategory: { name: string; ms: number; pct: number }[];
  topSelf: { name: string; ms: number; pct: number }[];
  /** Herald's own functions (dist/), inclusive of what they call. */
  heraldInclusive: { name: string; ms: number; pct: number }[];
}

/** Herald's build as the profiled process loaded it (file URL of its dist/ directory, trailing slash). */
let heraldRoot = '/dist/';

/** Where Herald ran from (dist/ or a candidate build), so its files are told from everyone else's. */
export function setHeraldRoot(dir: string): void {
  heraldRoot = `${pathToFileURL(dir).href.replace(/\/?$/, '/')}`;
}

function heraldFile(url: string): string | null {
  const i = url.indexOf(heraldRoot);
  return i >= 0 ? url.slice(i + heraldRoot.length) : null;
}

function shortUrl(url: string): string {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const h = heraldFile(url);
  if (h !== null) return `herald/${h}`;
  return url.replace(/^file:\/\//, '');
}

/** Where a frame's time goes: Herald's code, a package, Node's internals, GC, or the VM. */
function category(url: string, fn: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (fn === '(idle)') return 'idle';
  if (!url) return `native: ${fn || '(anonymous)'}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg: ${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const h = heraldFile(url);
  if (h !== null) return `herald: ${h}`;
  return `other: ${shortUrl(url)}`;
}

/**
 * Self time by function and by category, and inclusive time of Herald's functions, from one
 * profile; only the samples inside `windows` (monotonic µs, the profile's own clock) when given,
 * so start-up and connection set-up do not hide the path a scenario measures.
 */
export function summarizeProfile(file: string, windows: { fromUs: number; toUs: number }[] | null, scope: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (windows && !windows.some((w) => t >= w.fromUs && t <= w.toUs)) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const keyOf = (id: number) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return '?';
    return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  };
  let total = 0;
  let idle = 0;
  const selfByKey = new Map<string, number>();
  const byCat = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)?.callFrame;
    total += ms;
    if (f?.functionName === '(idle)') idle += ms;
    const k = keyOf(id);
    selfByKey.set(k, (selfByKey.get(k) ?? 0) + ms);
    const c = category(f?.url ?? '', f?.functionName ?? '');
    byCat.set(c, (byCat.get(c) ?? 0) + ms);
  }
  const busy = total - idle;
  // Inclusive time per Herald function, counting a function once per stack (recursion-safe).
  const inclusive = new Map<string, number>();
  const onStack = new Map<string, number>();
  const subtotal = new Map<number, number>();
  const visit = (id: number): number => {
    const n = byId.get(id);
    if (!n) return 0;
    let sum = self.get(id) ?? 0;
    for (const c of n.children ?? []) sum += visit(c);
    subtotal.set(id, sum);
    return sum;
  };
  const root = p.nodes[0]?.id;
  if (root !== undefined) visit(root);
  const walk = (id: number) => {
    const n = byId.get(id);
    if (!n) return;
    const isHerald = heraldFile(n.callFrame.url) !== null;
    const k = keyOf(id);
    const depth = onStack.get(k) ?? 0;
    if (isHerald && depth === 0) inclusive.set(k, (inclusive.get(k) ?? 0) + (subtotal.get(id) ?? 0));
    onStack.set(k, depth + 1);
    for (const c of n.children ?? []) walk(c);
    onStack.set(k, depth);
  };
  if (root !== undefined) walk(root);
  const rank = (m: Map<string, number>, base: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms: Math.round(ms), pct: Math.round((ms / base) * 1000) / 10 }));
  byCat.delete('idle');
  return {
    file,
    scope,
    totalMs: Math.round(total),
    busyMs: Math.round(busy),
    byCategory: rank(byCat, busy),
    topSelf: rank(new Map([...selfByKey].filter(([k]) => !k.startsWith('(idle)'))), busy),
    heraldInclusive: rank(inclusive, busy),
  };
}

export function profileMarkdown(scenario: string, s: ProfileSummary): string {
  const table = (title: string, rows: { name: string; ms: number; pct: number }[]) =>
    [`**${title}**`, '', '| % of busy | ms | where |', '|---:|---:|---|', ...rows.map((r) => `| ${r.pct} | ${r.ms} | \`${r.name}\` |`), ''].join('\n');
  return [
    `### ${scenario}: ${s.scope}`,
    '',
    `Profile \`${s.file.split('/').slice(-2).join('/')}\`, ${s.scope}: ${s.totalMs} ms sampled, ${s.busyMs} ms busy (not idle).`,
    '',
    table('Self time by area', s.byCategory.slice(0, 15)),
    table('Self time by function', s.topSelf.slice(0, 20)),
    table("Herald's functions, inclusive", s.heraldInclusive.slice(0, 15)),
  ].join('\n');
}

/** A window of a scenario, in the profile's clock (see ServerHandle.begin/end). */
interface Window {
  label: string;
  fromUs: number;
  toUs: number;
}

/** One section per scenario and measured window label (the whole life when a scenario records none). */
export function profileReport(dir: string, title: string): string {
  const parts = [`# Herald CPU profiles — ${title}`, ''];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const name = f.replace('.cpuprofile', '');
    const wfile = join(dir, `${name}.windows.json`);
    const windows: Window[] = existsSync(wfile) ? JSON.parse(readFileSync(wfile, 'utf8')) : [];
    const labels = [...new Set(windows.map((w) => w.label))];
    if (labels.length === 0) parts.push(profileMarkdown(name, summarizeProfile(join(dir, f), null, 'whole process')));
    for (const label of labels) {
      const ws = windows.filter((w) => w.label === label);
      parts.push(profileMarkdown(name, summarizeProfile(join(dir, f), ws, `${ws.length} "${label}" window${ws.length > 1 ? 's' : ''}`)));
    }
  }
  return parts.join('\n');
}
