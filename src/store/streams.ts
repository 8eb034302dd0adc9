import { isAfter, type StreamPos } from '../core/cursor.js';
import type { StoredNotification } from '../core/types.js';

/** What every store knows about one stream, enough to place a reader in it. */
export interface StreamBounds {
  /** The stream's generation (null: the stream does not exist). */
  epoch: string | null;
  first: StreamPos | null;
  last: StreamPos | null;
  trimmed: StreamPos | null;
}

/** Where a reader starts in one stream. */
export interface Placement {
  /** Replay what comes after this position (null: from the stream's start). */
  from: StreamPos | null;
  /** The epoch `from` belongs to. */
  epoch: string | null;
  /** Something the reader should have had is no longer held, or its position could not be placed. */
  lost: boolean;
  /** false: the reader's position could not be placed; it starts at the head and replays nothing. */
  replay: boolean;
}

/**
 * Places a reader that has everything up to `after` (of generation `epoch`) in stream `s`
 * (PROTOCOL.md "A cursor the store cannot place"). The same rule for every store:
 * - no position: from the start; lost when retention already dropped something;
 * - a position of another generation (a legacy cursor without one included), of a stream that
 *   no longer exists, or ahead of the stream's head (a clock step, a store that lost data):
 *   unplaceable — lost, start at the head, replay nothing;
 * - otherwise from there; lost when retention dropped something after it.
 */
export function placeReader(s: StreamBounds | undefined, after: StreamPos | null, epoch: string | null): Placement {
  const head = s?.last ?? null;
  const streamEpoch = s?.epoch ?? null;
  if (after === null) return { from: null, epoch: streamEpoch, lost: s?.trimmed != null, replay: true };
  if (!s || s.last === null || epoch === null || epoch !== s.epoch || isAfter(after, s.last)) {
    return { from: head, epoch: streamEpoch, lost: true, replay: false };
  }
  const lost = (s.first !== null && isAfter(s.first, after)) || (s.trimmed !== null && isAfter(s.trimmed, after));
  return { from: after, epoch, lost, replay: true };
}

/**
 * Places the pending read of a device that has no cursor: the client notifications after the
 * newest position any of its devices acknowledged (PROTOCOL.md "Stored cursor"). An acknowledged
 * position of another generation (or of none) says nothing about this one: everything retained
 * is pending. Otherwise the position is placed like a cursor.
 */
export function placePending(s: StreamBounds | undefined, acked: StreamPos | null, epoch: string | null): Placement {
  if (acked !== null && s !== undefined && s.last !== null && (epoch === null || epoch !== s.epoch)) {
    return { from: null, epoch: s.epoch, lost: s.trimmed !== null, replay: true };
  }
  return placeReader(s, acked, epoch);
}

/** Both streams in one list by time; within a stream, position order is kept. */
export function mergeByTime(a: StoredNotification[], b: StoredNotification[]): StoredNotification[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: StoredNotification[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i].ts <= b[j].ts ? a[i++] : b[j++]);
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}

/** Notifications and events of one stream in one list by position. */
export function mergeByPosition(a: StoredNotification[], b: StoredNotification[]): StoredNotification[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: StoredNotification[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(isAfter(b[j].pos, a[i].pos) ? a[i++] : b[j++]);
  while (i < a.length) out.push(a[i++]);
  while (j < b.length) out.push(b[j++]);
  return out;
}
