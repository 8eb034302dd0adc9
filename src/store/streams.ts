import { isAfter, type StreamPos } from '../core/cursor.js';
import type { StoredNotification } from '../core/types.js';

/** What both stores know about one stream, enough to tell whether a reader missed something. */
export interface StreamBounds {
  first: StreamPos | null;
  last: StreamPos | null;
  trimmed: StreamPos | null;
}

/**
 * Whether a reader at `after` has missed something the stream no longer holds: dropped by
 * retention, from before this stream began (a restarted memory store, expired Redis keys, another
 * Redis), or a position the stream never reached. The same rule for every store.
 */
export function lostSince(s: StreamBounds | undefined, after: StreamPos | null): boolean {
  if (after === null) return s?.trimmed != null;
  if (!s || s.first === null || s.last === null) return true;
  return isAfter(s.first, after) || isAfter(after, s.last) || (s.trimmed !== null && isAfter(s.trimmed, after));
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
