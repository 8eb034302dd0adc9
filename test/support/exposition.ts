/**
 * A strict reader of the Prometheus text exposition (0.0.4) that also holds it to the OpenMetrics
 * family rules, so that an exposition it accepts parses in both. Lenient parsers (and Prometheus
 * itself, for the classic format) accept what an OpenMetrics parser rejects, e.g. a gauge `x`
 * beside a counter `x_total`: both are the family `x` there. Throws on the first problem with its
 * line number; returns the families with their samples.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  /** The name of the `# TYPE` line (for a counter, with its `_total`). */
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** The OpenMetrics family name: a counter's `_total` is a suffix of its samples, not of its name. */
function openMetricsName(f: { name: string; type: MetricType }): string {
  return f.type === 'counter' && f.name.endsWith('_total') ? f.name.slice(0, -'_total'.length) : f.name;
}

/** Every sample name a family may emit, in either format (OpenMetrics adds `_created`). */
function sampleNames(f: { name: string; type: MetricType }): string[] {
  const base = openMetricsName(f);
  switch (f.type) {
    case 'counter':
      return [`${base}_total`, `${base}_created`];
    case 'histogram':
      return [`${base}_bucket`, `${base}_sum`, `${base}_count`, `${base}_created`];
    case 'summary':
      return [base, `${base}_sum`, `${base}_count`, `${base}_created`];
    default:
      return [base];
  }
}

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** `{a="1",b="x\"y"}` → labels; escapes `\\`, `\"`, `\n` only; no duplicate names. */
function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: label ${name} value not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\n') throw new Error(`${where}: raw newline in label ${name}`);
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const esc = text[++j];
      if (esc === '\\' || esc === '"') value += esc;
      else if (esc === 'n') value += '\n';
      else throw new Error(`${where}: bad escape \\${esc} in label ${name}`);
    }
    if (j >= text.length) throw new Error(`${where}: unterminated label ${name}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label ${name}`);
  }
  if (i !== text.length - 1) throw new Error(`${where}: text after the labels`);
  return labels;
}

export function parseExpositionStrict(text: string): Family[] {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const lines = text.split('\n').slice(0, -1);
  const families = new Map<string, Family>();
  const help = new Map<string, string>();
  /** Sample name → family, for every name a declared family may emit. */
  const owner = new Map<string, Family>();
  const omNames = new Map<string, Family>();
  /** Families whose samples have started, in order; the last one is the only one still open. */
  const started: Family[] = [];
  const series = new Set<string>();

  lines.forEach((line, n) => {
    const where = `line ${n + 1} (${JSON.stringify(line.slice(0, 80))})`;
    if (line === '') return; // the classic format ignores empty lines (prom-client puts one between families)
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) throw new Error(`${where}: a comment that is neither HELP nor TYPE`);
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      if (kind === 'HELP') {
        if (help.has(name)) throw new Error(`${where}: second HELP for ${name}`);
        if (started.some((f) => f.name === name)) throw new Error(`${where}: HELP after the samples of ${name}`);
        help.set(name, rest);
        const f = families.get(name);
        if (f) f.help = rest;
        return;
      }
      if (!TYPES.has(rest as MetricType)) throw new Error(`${where}: unknown type ${JSON.stringify(rest)}`);
      if (families.has(name)) throw new Error(`${where}: second TYPE for ${name}`);
      const f: Family = { name, type: rest as MetricType, help: help.get(name), samples: [] };
      // OpenMetrics names a counter's samples `<family>_total`; a counter named otherwise parses
      // in the classic format only.
      if (f.type === 'counter' && !name.endsWith('_total')) throw new Error(`${where}: counter ${name} does not end in _total`);
      const om = openMetricsName(f);
      const clash = omNames.get(om);
      if (clash) throw new Error(`${where}: ${name} (${f.type}) and ${clash.name} (${clash.type}) are one OpenMetrics family ${om}`);
      for (const s of sampleNames(f)) {
        const other = owner.get(s);
        if (other) throw new Error(`${where}: ${name} (${f.type}) may emit ${s}, as ${other.name} (${other.type}) may`);
      }
      families.set(name, f);
      omNames.set(om, f);
      for (const s of sampleNames(f)) owner.set(s, f);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^\n]*\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: malformed sample`);
    const [, name, labelText, valueText] = m;
    const f = owner.get(name);
    // Every sample needs its family's TYPE before it (a TYPE after the samples is caught here).
    if (!f) throw new Error(`${where}: sample ${name} before any TYPE of its family`);
    const labels = labelText ? parseLabels(labelText, where) : {};
    const value = parseValue(valueText, where);
    if (f.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`${where}: bucket without le`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
    series.add(key);
    if (started.at(-1) !== f) {
      if (started.includes(f)) throw new Error(`${where}: samples of ${f.name} are not contiguous`);
      started.push(f);
    }
    f.samples.push({ name, labels, value });
  });

  for (const f of families.values()) {
    if (f.type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of f.samples.filter((x) => x.name.endsWith('_bucket'))) {
      const { le: _le, ...rest } = s.labels;
      const k = JSON.stringify(Object.entries(rest).sort());
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const buckets of groups.values()) {
      if (buckets.at(-1)?.labels.le !== '+Inf') throw new Error(`${f.name}: the last bucket is not le="+Inf"`);
    }
  }
  for (const name of help.keys()) if (!families.has(name)) throw new Error(`HELP for ${name}, which has no TYPE`);
  return [...families.values()];
}
