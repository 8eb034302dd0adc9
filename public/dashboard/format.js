// Small formatters shared by the cards, the list and the panels.

const nf = new Intl.NumberFormat('en-US');
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const int = (n) => (n === null || n === undefined ? '—' : nf.format(n));
export const dec = (n) => (n === null || n === undefined ? '—' : nf1.format(n));

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${nf1.format(v)} ${units[i]}`;
}

export const ms = (n) => (n === null || n === undefined ? '—' : `${nf1.format(n)} ms`);

/** "12s", "3m 04s", "2h 05m", "3d 4h" since `ts` (ms since epoch); "—" when never. */
export function age(ts, now = Date.now()) {
  if (ts === null || ts === undefined) return '—';
  const s = Math.max(0, Math.floor((now - ts) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

// One formatter: Date#toLocaleString builds a new one per call, which shows in a profile.
const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
export const when = (ts) => (ts === null || ts === undefined ? 'never' : dtf.format(ts));
