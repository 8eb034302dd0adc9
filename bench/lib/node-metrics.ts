import { getText } from './http.js';
import type { ServerHandle } from './servers.js';

/**
 * The counter family a Herald node exposes in its `/metrics` for the Redis commands it wrote
 * (issue 17): `herald_redis_commands_total{component="store"|"broker"|…}`. One EVALSHA is one
 * command sent, however many commands the script runs inside Redis (those are what `INFO
 * commandstats` counts).
 */
export const REDIS_COMMANDS_FAMILY = 'herald_redis_commands_total';

/** Commands a node wrote to Redis, summed over the family's samples, and by `component`. */
export interface SentCommands {
  total: number;
  byComponent: Record<string, number>;
}

/** `name{labels} value [timestamp]`; labels are cut out by {@link splitSample} (a quoted value may hold `}`). */
function splitSample(line: string): { name: string; labels: string; value: string } | null {
  const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!m) return null;
  const name = m[0];
  let i = name.length;
  let labels = '';
  if (line[i] === '{') {
    let quoted = false;
    let j = i + 1;
    for (; j < line.length; j++) {
      const c = line[j];
      if (quoted && c === '\\') j++;
      else if (c === '"') quoted = !quoted;
      else if (c === '}' && !quoted) break;
    }
    if (j >= line.length) return null;
    labels = line.slice(i + 1, j);
    i = j + 1;
  }
  const value = line.slice(i).trim().split(/\s+/)[0];
  return value ? { name, labels, value } : null;
}

/**
 * Reads {@link REDIS_COMMANDS_FAMILY} out of a Prometheus text exposition (or OpenMetrics, whose
 * `# TYPE` line names the family without `_total`). Null when the family is not there at all (a
 * build from before the counter, or a node without Redis); a family declared without samples yet
 * is 0.
 */
export function parseRedisCommandsSent(text: string): SentCommands | null {
  const base = REDIS_COMMANDS_FAMILY.replace(/_total$/, '');
  let seen = false;
  const byComponent: Record<string, number> = {};
  let total = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#')) {
      const t = /^#\s*TYPE\s+(\S+)/.exec(line);
      if (t && (t[1] === REDIS_COMMANDS_FAMILY || t[1] === base)) seen = true;
      continue;
    }
    const s = splitSample(line);
    if (!s || s.name !== REDIS_COMMANDS_FAMILY) continue;
    seen = true;
    const v = Number(s.value);
    if (!Number.isFinite(v)) continue;
    const component = /(?:^|,)\s*component\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(s.labels)?.[1] ?? '';
    byComponent[component] = (byComponent[component] ?? 0) + v;
    total += v;
  }
  return seen ? { total, byComponent } : null;
}

/**
 * A node's Redis commands sent so far, from its `/metrics` (with the kind's headers, as every
 * bench call to a server's API). Null for a kind without that endpoint (the peers), an answer
 * other than 200, or a build without the counter.
 */
export async function readRedisCommandsSent(node: ServerHandle): Promise<SentCommands | null> {
  if (node.kind.script !== 'herald.ts') return null;
  const res = await getText(node.port, '/metrics', node.kind.headers);
  if (res.status !== 200) return null;
  return parseRedisCommandsSent(res.body);
}

/** What was sent between two readings (null if either is missing). */
export function sentBetween(a: SentCommands | null, b: SentCommands | null): SentCommands | null {
  if (!a || !b) return null;
  const byComponent: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.byComponent)) byComponent[k] = v - (a.byComponent[k] ?? 0);
  return { total: b.total - a.total, byComponent };
}

/** Adds `b` into `a`; null as soon as one part is missing (so a figure is never half-counted). */
export function addSent(a: SentCommands | null, b: SentCommands | null): SentCommands | null {
  if (!a || !b) return null;
  const byComponent = { ...a.byComponent };
  for (const [k, v] of Object.entries(b.byComponent)) byComponent[k] = (byComponent[k] ?? 0) + v;
  return { total: a.total + b.total, byComponent };
}

/** `store 1.00, broker 1.00` per `per` operations. */
export function describeSent(s: SentCommands, per: number): string {
  return (
    Object.entries(s.byComponent)
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k || '(no label)'} ${(v / Math.max(1, per)).toFixed(2)}`)
      .join(', ') || 'none'
  );
}
