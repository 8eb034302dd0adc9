import type { TransportKind } from '../core/session.js';
import { TRANSPORT_KINDS } from '../transports/index.js';
import { parseJsonOrUndefined } from './wire.js';

/**
 * One device's entry in its client's registry hash (`P{client}:reg`, device id → JSON). The Lua
 * scripts in redis-scripts.ts write and change it as `{n, s, st, c, t, dt?}` (short, since every
 * script reads the whole hash); TypeScript reads it only through {@link decodeRegistryEntry}.
 */
export interface RegistryEntry {
  /** The node holding the device's stream (or that held it last, when detached). */
  node: string;
  /** The stream's session id on that node: a newer stream of the device has another. */
  sessionId: string;
  state: 'attached' | 'detached';
  /** When the stream attached (ms); kept across a re-claim by the same session. */
  connectedAt: number;
  transport: TransportKind;
  /** When it detached (ms); null while attached. */
  detachedAt: number | null;
}

/** The entry's JSON as the scripts write it. */
export function encodeRegistryEntry(e: RegistryEntry): string {
  const raw: Record<string, unknown> = { n: e.node, s: e.sessionId, st: e.state === 'attached' ? 'a' : 'd', c: e.connectedAt, t: e.transport };
  if (e.detachedAt !== null) raw.dt = e.detachedAt;
  return JSON.stringify(raw);
}

/**
 * Decodes an entry; null when it is not one, or names a transport not in src/transports/index.ts
 * (never throws: one bad field must not hide a client's devices).
 */
export function decodeRegistryEntry(raw: string): RegistryEntry | null {
  const v = parseJsonOrUndefined(raw);
  if (typeof v !== 'object' || v === null) return null;
  const { n, s, st, c, t, dt } = v as Record<string, unknown>;
  if (typeof n !== 'string' || typeof s !== 'string' || (st !== 'a' && st !== 'd') || typeof c !== 'number') return null;
  if (typeof t !== 'string' || !TRANSPORT_KINDS.includes(t) || (dt !== undefined && typeof dt !== 'number')) return null;
  return { node: n, sessionId: s, state: st === 'a' ? 'attached' : 'detached', connectedAt: c, transport: t as TransportKind, detachedAt: dt ?? null };
}

/** A stream somewhere in the cluster: which node holds it, and its session id there. */
export interface Holder {
  node: string;
  sessionId: string;
}

/** `node|sid`, as the claim script names a replaced stream (node ids hold no `|`). */
export function parseHolder(s: string): Holder {
  const i = s.indexOf('|');
  return { node: s.slice(0, i), sessionId: s.slice(i + 1) };
}
