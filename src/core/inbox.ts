import { cursorPart, decodeCursor, type StreamPos } from './cursor.js';
import { invalid } from './errors.js';
import type { DeleteEvent, InboxFilter, InboxItemContent, InboxQuery, StateChange, StateEvent, StoredNotification } from './types.js';

/** A stream entry's inbox event, typed by its kind; null for a notification. */
export type InboxEvent = { kind: 'state'; event: StateEvent } | { kind: 'update'; event: InboxItemContent } | { kind: 'delete'; event: DeleteEvent };

/** The event a stream entry carries (see {@link StoredNotification.kind}), or null for a notification. */
export function inboxEvent(n: StoredNotification): InboxEvent | null {
  if (n.kind === undefined || n.event === undefined) return null;
  return { kind: n.kind, event: n.event } as InboxEvent;
}

/** At most this many ids in one state change (PROTOCOL.md `POST /me/notifications/state`). */
export const MAX_STATE_IDS = 1000;
/** Listing page sizes. */
export const MAX_PAGE = 100;

const FILTERS = new Set<string>(['unread', 'archived', 'all']);

/** Throws HERALD_ERR_INVALID naming the field of a listing query the stores refuse. */
export function checkInboxQuery(q: InboxQuery): void {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_PAGE) throw invalid('limit', `must be an integer 1..${MAX_PAGE}`);
  if (q.filter !== undefined && !FILTERS.has(q.filter)) throw invalid('filter', 'must be one of unread, archived, all');
}

/**
 * Throws HERALD_ERR_INVALID naming the field of a state change the stores refuse: neither or both
 * of `ids` and `all`, more than {@link MAX_STATE_IDS} ids or a non-string one, no flag, a flag that
 * is not a boolean, or `seen: false` with `read: true` (read implies seen).
 */
export function checkStateChange(c: StateChange): void {
  if (c.ids !== undefined && c.all !== undefined) throw invalid('ids', 'give ids or all, not both');
  if (c.ids === undefined && c.all !== true) throw invalid('ids', 'give ids or all: true');
  if (c.ids !== undefined) {
    if (!Array.isArray(c.ids)) throw invalid('ids', 'must be an array of ids');
    if (c.ids.length > MAX_STATE_IDS) throw invalid('ids', `at most ${MAX_STATE_IDS} ids`);
    if (c.ids.some((id) => typeof id !== 'string')) throw invalid('ids', 'must be an array of ids');
  }
  for (const f of ['seen', 'read', 'archived'] as const) {
    if (c[f] !== undefined && typeof c[f] !== 'boolean') throw invalid(f, 'must be a boolean');
  }
  if (c.seen === undefined && c.read === undefined && c.archived === undefined) throw invalid('seen', 'give at least one of seen, read, archived');
  if (c.seen === false && c.read === true) throw invalid('seen', 'cannot be false when read is true (read implies seen)');
}

/** The filter as the stores apply it: absent = not archived. */
export type FilterKind = InboxFilter | 'default';

/**
 * A place in a listing, newest first: items are ordered by position time, then broadcasts before
 * client items of the same millisecond, then sequence. `src` says which stream the position is in.
 */
export interface ListingKey {
  src: 'c' | 'b';
  pos: StreamPos;
}

/** Compares two listing keys: negative when `a` is older than `b`. */
export function compareListingKeys(a: ListingKey, b: ListingKey): number {
  return a.pos.ms - b.pos.ms || (a.src === b.src ? 0 : a.src === 'b' ? -1 : 1) || a.pos.seq - b.pos.seq;
}

/**
 * The `next` token of a listing page: the last item's position written like a cursor with one
 * half (`<epoch>.<ms>.<seq>~0` for a client item, `0~<epoch>.<ms>.<seq>` for a broadcast), so the
 * API's `before=<cursor>` parses it as a cursor. Opaque to clients.
 */
export function listingToken(key: ListingKey, epoch: string): string {
  const part = cursorPart(key.pos, epoch);
  return key.src === 'c' ? `${part}~0` : `0~${part}`;
}

/** Reads a `before` token; null for none; HERALD_ERR_INVALID naming `before` when it is not one. */
export function parseListingToken(s: string | null): ListingKey | null {
  if (s === null) return null;
  const c = typeof s === 'string' ? decodeCursor(s) : undefined;
  if (c === undefined || (c.c === null) === (c.b === null)) throw invalid('before', 'not a listing position this server handed out');
  return c.c !== null ? { src: 'c', pos: c.c } : { src: 'b', pos: c.b as StreamPos };
}
