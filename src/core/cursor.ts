/**
 * Positions and cursors. A position is a place in one stream (a client's own stream or the
 * broadcast stream), shaped like a Redis stream id: milliseconds and a sequence within them.
 * Every stream also has an **epoch**: a random generation id chosen when the stream is created
 * (a restarted memory store, a Redis that lost the stream, an expired and recreated stream all
 * get a new one), so a position from another generation or another deployment is recognised as
 * such instead of being mistaken for a place in this stream (PROTOCOL.md "A cursor the store
 * cannot place"; the same idea as Centrifugo's stream epochs).
 *
 * A cursor names a place in both streams at once, so one opaque string resumes everything a
 * device missed. It means "everything up to here" on both streams. The server builds each
 * device's cursor from what it actually handed that device and from the stream heads at its
 * welcome, so resuming never skips a broadcast that was still in flight, and never replays what
 * was published before the device first connected.
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
  /** Epoch of the client's stream that `c` belongs to; null when `c` is null or unknown (a legacy cursor). */
  readonly ce: string | null;
  /** Epoch of the broadcast stream that `b` belongs to; null when `b` is null or unknown. */
  readonly be: string | null;
}

/** A cursor at the start of both streams. */
export const START: Cursor = { c: null, b: null, ce: null, be: null };

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

/**
 * The later of two marks in one stream. A mark from another epoch than `b`'s replaces it: the
 * newer acknowledgement wins, because positions of different generations do not compare.
 */
export function laterMark(
  a: { pos: StreamPos | null; epoch: string | null },
  b: { pos: StreamPos | null; epoch: string | null },
): { pos: StreamPos | null; epoch: string | null } {
  if (b.pos === null) return a;
  if (a.pos === null) return b;
  if (a.epoch !== b.epoch) return b;
  return comparePos(a.pos, b.pos) >= 0 ? a : b;
}

/** The later of two cursors, stream by stream ({@link laterMark}). */
export function laterCursor(a: Cursor, b: Cursor): Cursor {
  const c = laterMark({ pos: a.c, epoch: a.ce }, { pos: b.c, epoch: b.ce });
  const bc = laterMark({ pos: a.b, epoch: a.be }, { pos: b.b, epoch: b.be });
  return { c: c.pos, ce: c.epoch, b: bc.pos, be: bc.epoch };
}

/** `1700000000000-3` (the Redis stream id form). */
export function posToStreamId(p: StreamPos): string {
  return `${p.ms}-${p.seq}`;
}

export function streamIdToPos(id: string): StreamPos {
  const i = id.indexOf('-');
  return { ms: Number(id.slice(0, i)), seq: Number(id.slice(i + 1)) };
}

/** `<epoch>:<ms>-<seq>` — how stores keep a mark as one string ('' = none; no epoch = legacy). */
export function markToString(pos: StreamPos | null, epoch: string | null): string {
  if (pos === null) return '';
  return `${epoch ?? ''}:${posToStreamId(pos)}`;
}

export function markFromString(s: string | null | undefined): { pos: StreamPos | null; epoch: string | null } {
  if (!s) return { pos: null, epoch: null };
  const i = s.indexOf(':');
  if (i < 0) return { pos: streamIdToPos(s), epoch: null };
  return { pos: streamIdToPos(s.slice(i + 1)), epoch: s.slice(0, i) || null };
}

/** A new stream epoch: 8 base-36 characters of randomness. */
export function newEpoch(): string {
  return Math.floor(Math.random() * 36 ** 8)
    .toString(36)
    .padStart(8, '0');
}

/** One stream's half of a cursor string: `0` (nothing seen) or `<epoch>.<ms>.<seq>` in base 36. */
export function cursorPart(p: StreamPos | null, epoch: string | null): string {
  if (p === null) return '0';
  const pos = `${p.ms.toString(36)}.${p.seq.toString(36)}`;
  return epoch === null ? pos : `${epoch}.${pos}`;
}

const EPOCH_RE = /^[0-9a-z]{1,12}$/;
// `0`, `<ms>.<seq>` (a cursor from before epochs: parsed, then found unplaceable), or `<epoch>.<ms>.<seq>`.
const PART_RE = /^(?:0|(?:[0-9a-z]{1,12}\.)?[0-9a-z]{1,12}\.[0-9a-z]{1,12})$/;

function parsePart(s: string): { pos: StreamPos | null; epoch: string | null } | undefined {
  if (!PART_RE.test(s)) return undefined;
  if (s === '0') return { pos: null, epoch: null };
  const bits = s.split('.');
  const epoch = bits.length === 3 ? bits[0] : null;
  const [ms, seq] = bits.slice(-2);
  const pos = { ms: Number.parseInt(ms, 36), seq: Number.parseInt(seq, 36) };
  if (!Number.isSafeInteger(pos.ms) || !Number.isSafeInteger(pos.seq)) return undefined;
  if (epoch !== null && !EPOCH_RE.test(epoch)) return undefined;
  return { pos, epoch };
}

/** Encodes a cursor: URL-safe, opaque to clients. */
export function encodeCursor(c: Cursor): string {
  return `${cursorPart(c.c, c.ce)}~${cursorPart(c.b, c.be)}`;
}

/** Decodes a cursor string; undefined when it is not one of ours. */
export function decodeCursor(s: string): Cursor | undefined {
  if (typeof s !== 'string' || s.length > 96) return undefined;
  const i = s.indexOf('~');
  if (i < 0) return undefined;
  const c = parsePart(s.slice(0, i));
  const b = parsePart(s.slice(i + 1));
  if (c === undefined || b === undefined) return undefined;
  return { c: c.pos, ce: c.epoch, b: b.pos, be: b.epoch };
}
