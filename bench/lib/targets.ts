import type { Metrics, Target, TargetResult } from '../scenarios/types.js';
import { SERVER_KINDS, type ServerId } from '../servers/kinds.js';

type Op = '>=' | '<=';

function judge(value: number, op: Op, bound: number): { met: boolean; ratio: number } {
  return { met: op === '>=' ? value >= bound : value <= bound, ratio: bound === 0 ? Number.NaN : value / bound };
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

/** Herald's `metric` against `factor` × a peer's, within the run. */
export function ratioTarget(id: string, text: string, metric: string, op: Op, factor: number, peer: ServerId): Target {
  return {
    id,
    text,
    evaluate(by: Partial<Record<ServerId, Metrics>>): TargetResult {
      const h = by.herald?.[metric];
      const p = by[peer]?.[metric];
      if (h == null || p == null || p === 0) return { measured: 'not measured', met: null, ratio: null };
      const r = judge(h, op, p * factor);
      return { measured: `${fmt(h / p)} × ${SERVER_KINDS[peer].label}`, ...r };
    },
  };
}

/** Herald's `metric` against a fixed bound (unit for display). */
export function absoluteTarget(id: string, text: string, metric: string, op: Op, bound: number | ((m: Metrics) => number), unit: string): Target {
  return {
    id,
    text,
    evaluate(by: Partial<Record<ServerId, Metrics>>): TargetResult {
      const m = by.herald;
      const h = m?.[metric];
      if (m == null || h == null) return { measured: 'not measured', met: null, ratio: null };
      const b = typeof bound === 'function' ? bound(m) : bound;
      return { measured: `${fmt(h)} ${unit}`, ...judge(h, op, b) };
    },
  };
}

/** `subject`'s `metric` against `factor` × `peer`'s, within the run (servers other than Herald's WebSocket). */
export function pairTarget(id: string, text: string, metric: string, subject: ServerId, op: Op, factor: number, peer: ServerId): Target {
  return {
    id,
    text,
    evaluate(by: Partial<Record<ServerId, Metrics>>): TargetResult {
      const h = by[subject]?.[metric];
      const p = by[peer]?.[metric];
      if (h == null || p == null || p === 0) return { measured: 'not measured', met: null, ratio: null };
      return { measured: `${fmt(h / p)} × ${SERVER_KINDS[peer].label}`, ...judge(h, op, p * factor) };
    },
  };
}

/** `subject`'s `metric` against a fixed bound. */
export function boundTarget(id: string, text: string, metric: string, subject: ServerId, op: Op, bound: number, unit: string): Target {
  return {
    id,
    text,
    evaluate(by: Partial<Record<ServerId, Metrics>>): TargetResult {
      const h = by[subject]?.[metric];
      if (h == null) return { measured: 'not measured', met: null, ratio: null };
      const r = judge(h, op, bound);
      // A bound of 0 (lost = 0): the ratio is meaningless, the verdict is not.
      return { measured: `${fmt(h)} ${unit}`, met: r.met, ratio: bound === 0 ? null : r.ratio };
    },
  };
}
