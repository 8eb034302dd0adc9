import type { ChartSpec } from '../scenarios/types.js';
import { SERVER_KINDS, type ServerId } from '../servers/kinds.js';
import type { RunResult } from './report.js';

const PANEL_W = 440;
const PANEL_H = 230;
const COLS = 3;
const PAD = { top: 44, right: 16, bottom: 44, left: 64 };
const SERVER_COLORS: Record<ServerId, string> = {
  herald: '#d95f02',
  socketio: '#7570b3',
  ws: '#1b9e77',
  'herald-sse': '#e6ab02',
  'herald-grpc': '#a6761d',
  'herald-grpc-web': '#f781bf',
  'sse-node': '#66a61e',
  'herald-redis': '#e7298a',
  'socketio-recovery': '#386cb0',
  'herald-cluster': '#bf5b17',
  'socketio-cluster': '#6a3d9a',
  'herald-postgres': '#336791',
};
const KEY_SHADES = [1, 0.7, 0.45, 0.25];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function short(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

/** Nice linear ticks from 0 to at least `max`. */
function linearTicks(max: number): number[] {
  if (max <= 0) return [0, 1];
  const step0 = max / 4;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const ticks: number[] = [];
  for (let t = 0; t < max + step; t += step) ticks.push(t);
  return ticks;
}

function panel(x0: number, y0: number, spec: ChartSpec, values: { server: ServerId; key: string; label: string; value: number | null }[]): string {
  const w = PANEL_W - PAD.left - PAD.right;
  const h = PANEL_H - PAD.top - PAD.bottom;
  const present = values.filter((v) => v.value !== null && v.value > 0).map((v) => v.value as number);
  const parts: string[] = [];
  parts.push(`<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" fill="#fff" stroke="#ddd"/>`);
  parts.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 20}" text-anchor="middle" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  parts.push(
    `<text x="${x0 + PANEL_W / 2}" y="${y0 + 35}" text-anchor="middle" font-size="11" fill="#555">${esc(spec.unit)}${spec.log ? ', log scale' : ''}</text>`,
  );
  if (present.length === 0) {
    parts.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H / 2}" text-anchor="middle" font-size="12" fill="#999">not measured</text>`);
    return parts.join('');
  }
  let scale: (v: number) => number;
  let ticks: number[];
  if (spec.log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...present)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...present) * 1.0001));
    scale = (v) => (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    ticks = linearTicks(Math.max(...present));
    const top = ticks[ticks.length - 1];
    scale = (v) => v / top;
  }
  const px = x0 + PAD.left;
  const py = y0 + PAD.top;
  for (const t of ticks) {
    const y = py + h - scale(t) * h;
    parts.push(`<line x1="${px}" x2="${px + w}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${px - 6}" y="${y + 4}" text-anchor="end" font-size="10" fill="#555">${short(t)}</text>`);
  }
  const servers = [...new Set(values.map((v) => v.server))];
  const keys = spec.keys;
  const groupW = w / servers.length;
  const barW = Math.min(48, (groupW * 0.8) / keys.length);
  servers.forEach((server, si) => {
    const gx = px + si * groupW + (groupW - barW * keys.length) / 2;
    keys.forEach((k, ki) => {
      const v = values.find((x) => x.server === server && x.key === k.key)?.value ?? null;
      const bx = gx + ki * barW;
      if (v === null) return;
      const bh = Math.max(1, scale(v) * h);
      parts.push(
        `<rect x="${bx + 1}" y="${py + h - bh}" width="${barW - 2}" height="${bh}" fill="${SERVER_COLORS[server]}" fill-opacity="${KEY_SHADES[ki % KEY_SHADES.length]}"><title>${esc(`${SERVER_KINDS[server].label} ${k.label}: ${v}`)}</title></rect>`,
      );
      parts.push(`<text x="${bx + barW / 2}" y="${py + h - bh - 3}" text-anchor="middle" font-size="9">${short(v)}</text>`);
      if (keys.length > 1) parts.push(`<text x="${bx + barW / 2}" y="${py + h + 12}" text-anchor="middle" font-size="9" fill="#555">${esc(k.label)}</text>`);
    });
    parts.push(
      `<text x="${px + si * groupW + groupW / 2}" y="${py + h + (keys.length > 1 ? 26 : 14)}" text-anchor="middle" font-size="11" fill="${SERVER_COLORS[server]}" font-weight="bold">${esc(SERVER_KINDS[server].label)}</text>`,
    );
  });
  parts.push(`<line x1="${px}" x2="${px + w}" y1="${py + h}" y2="${py + h}" stroke="#999"/>`);
  return parts.join('');
}

/** Small multiples: one panel per chart spec of every scenario (throughput, latency percentiles, memory, CPU), bars per server. */
export function toSvg(run: RunResult): string {
  const panels: { spec: ChartSpec; values: { server: ServerId; key: string; label: string; value: number | null }[] }[] = [];
  for (const sc of run.scenarios) {
    for (const spec of sc.charts) {
      const values = run.servers
        .filter((server) => sc.byServer[server])
        .flatMap((server) => spec.keys.map((k) => ({ server, key: k.key, label: k.label, value: sc.byServer[server]?.metrics[k.key] ?? null })));
      panels.push({ spec, values });
    }
  }
  const rows = Math.ceil(panels.length / COLS);
  const W = COLS * PANEL_W + (COLS + 1) * 10;
  const H = rows * PANEL_H + (rows + 1) * 10 + 40;
  const body = panels.map((p, i) => panel(10 + (i % COLS) * (PANEL_W + 10), 50 + Math.floor(i / COLS) * (PANEL_H + 10), p.spec, p.values)).join('\n');
  const title = `Herald vs Socket.IO 4 vs raw ws — ${run.mode} run ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${run.machine.cores} × ${run.machine.cpuModel}, Node ${run.machine.node}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#f7f7f7"/>`,
    `<text x="${W / 2}" y="30" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}
