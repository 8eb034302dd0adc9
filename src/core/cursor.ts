/**
 * Positions and cursors. A position is a place in one stream (a client's own stream or the
 * broadcast stream), shaped like a Redis stream id: milliseconds and a sequence within them.
 * A cursor names a place in both streams at once, so one opaque string resumes everything a
 * device missed. The server builds each device's cursor from what it actually handed that device,
 * so resuming never skips a broadcast that was still in flight when a client notification passed.
 */
export interface StreamPos {
  readonly ms: number;
  readonly seq: number;
}

export interface Cursor {
  /** Position in the client's stream, or null: nothing seen there. */
  readonly c: StreamPos | null;
  /** Position in the broadcast stream, or null: nothing seen there. */
  readonly b: StreamPos | null;
}

export function comparePos(a: StreamPos, b: StreamPos): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** True when `a` is after `b`; anything is after null. */
export function isAfter(a: StreamPos, b: StreamPos | null): boolean {
  return b === null || a.ms > b.ms || (a.ms === b.ms && a.seq > b.seq);
}

export function maxPos(a: StreamPos | null, b: StreamPos | null): StreamPos | null {
  if (a === null) return b;
  if (b === null) return a;
  return comparePos(a, b) >= 0 ? a : b;
}

/** `1700000000000-3` (the Redis stream id form). */
export function posToStreamId(p: StreamPos): string {
  return `${p.ms}-${p.seq}`;
}

export function streamIdToPos(id: string): StreamPos {
  const i = id.indexOf('-');
  return { ms: Number(id.slice(0, i)), seq: Number(id.slice(i + 1)) };
}

function posPart(p: StreamPos | null): string {
  return p === null ? '0' : `${p.ms.toString(36)}.${p.seq.toString(36)}`;
}

const PART_RE = /^(?:0|[0-9a-z]{1,12}\.[0-9a-z]{1,12})$/;

function parsePart(s: string): StreamPos | null | undefined {
  if (!PART_RE.test(s)) return undefined;
  if (s === '0') return null;
  const [ms, seq] = s.split('.');
  const pos = { ms: Number.parseInt(ms, 36), seq: Number.parseInt(seq, 36) };
  return Number.isSafeInteger(pos.ms) && Number.isSafeInteger(pos.seq) ? pos : undefined;
}

/** Encodes a cursor: URL-safe, opaque to clients. */
export function encodeCursor(c: Cursor): string {
  return `${posPart(c.c)}~${posPart(c.b)}`;
}

/** The client-stream half of a cursor string, shared by every cursor with that position. */
export function cursorClientPart(p: StreamPos | null): string {
  return posPart(p);
}

export function cursorBroadcastPart(p: StreamPos | null): string {
  return posPart(p);
}

/** Decodes a cursor string; undefined when it is not one of ours. */
export function decodeCursor(s: string): Cursor | undefined {
  if (typeof s !== 'string' || s.length > 64) return undefined;
  const i = s.indexOf('~');
  if (i < 0) return undefined;
  const c = parsePart(s.slice(0, i));
  const b = parsePart(s.slice(i + 1));
  if (c === undefined || b === undefined) return undefined;
  return { c, b };
}
