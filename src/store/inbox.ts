import type { StreamPos } from '../core/cursor.js';
import { compareListingKeys, type FilterKind, type ListingKey, listingToken } from '../core/inbox.js';
import type { InboxCounts, InboxItem, InboxItemContent, ItemState, StateChange, StoredNotification } from '../core/types.js';

/**
 * The inbox rules both stores share (PROTOCOL.md "Inbox"): which items a view sees, counts,
 * filters, paging, and how a state change applies to one item. The stores decide what is an item
 * at all (retained, not expired, not deleted or replaced, broadcasts since registration) and hand
 * those over as candidates; the Redis store applies the same rules in Lua where it mutates.
 */

/** One item of a client's inbox as a store hands it over; `ref` is the store's own handle (to fetch its content for a page). */
export interface Candidate<R = unknown> {
  readonly id: string;
  /** Set on a device-targeted item. */
  readonly deviceId: string | null;
  /** Its position in its stream. */
  readonly pos: StreamPos;
  /** Its stream's epoch. */
  readonly epoch: string;
  /** Its stream: the client's (`c`) or the broadcast stream (`b`). */
  readonly src: 'c' | 'b';
  /** The client's state of it; undefined = never seen, read or archived. */
  readonly state?: ItemState;
  readonly ref: R;
}

export const NO_STATE: ItemState = Object.freeze({ seenAt: null, readAt: null, archivedAt: null });

/** A notification's content as published: version 1, updated when published. */
export function contentOf(n: StoredNotification): InboxItemContent {
  const c = { id: n.id } as InboxItemContent;
  if (n.clientId !== null) c.clientId = n.clientId;
  if (n.deviceId !== null) c.deviceId = n.deviceId;
  if (n.clientId === null) c.broadcast = true;
  c.title = n.title;
  c.message = n.message;
  c.service = n.service;
  c.data = n.data;
  c.ts = n.ts;
  c.version = 1;
  c.updatedAt = n.ts;
  if (n.collapseKey !== undefined) c.collapseKey = n.collapseKey;
  return c;
}

/** A device sees client-wide items, broadcasts and its own targeted items; the backend view (null) sees all. */
export function visibleTo(item: { deviceId: string | null }, deviceId: string | null): boolean {
  return item.deviceId === null || deviceId === null || item.deviceId === deviceId;
}

function matches(s: ItemState, filter: FilterKind): boolean {
  switch (filter) {
    case 'default':
      return s.archivedAt === null;
    case 'unread':
      return s.readAt === null && s.archivedAt === null;
    case 'archived':
      return s.archivedAt !== null;
    case 'all':
      return true;
  }
}

function keyOf(c: Candidate<unknown>): ListingKey {
  return { src: c.src, pos: c.pos };
}

/** The listing item: content, the listing client's id, then state; field order as on the wire. */
export function listedItem(content: InboxItemContent, clientId: string, state: ItemState | undefined): InboxItem {
  const s = state ?? NO_STATE;
  const item: InboxItem = { id: content.id, clientId } as InboxItem;
  if (content.deviceId !== undefined) item.deviceId = content.deviceId;
  if (content.broadcast) item.broadcast = true;
  item.title = content.title;
  item.message = content.message;
  item.service = content.service;
  item.data = content.data;
  item.ts = content.ts;
  item.version = content.version;
  item.updatedAt = content.updatedAt;
  if (content.collapseKey !== undefined) item.collapseKey = content.collapseKey;
  item.seenAt = s.seenAt;
  item.readAt = s.readAt;
  item.archivedAt = s.archivedAt;
  return item;
}

/** A page as {@link pickPage} chooses it: the candidates (the store adds their content), counts, the next token. */
export interface PickedPage<R> {
  page: Candidate<R>[];
  unseen: number;
  unread: number;
  next: string | null;
}

/**
 * One page of an inbox and its counts. `own` and `broadcasts` are the candidates of each stream in
 * position order (oldest first); the page merges them newest first (see compareListingKeys).
 */
export function pickPage<R>(
  own: readonly Candidate<R>[],
  broadcasts: readonly Candidate<R>[],
  q: { deviceId: string | null; limit: number; before: ListingKey | null; filter: FilterKind },
): PickedPage<R> {
  const page: Candidate<R>[] = [];
  let more = false;
  let unseen = 0;
  let unread = 0;
  let i = own.length - 1;
  let j = broadcasts.length - 1;
  while (i >= 0 || j >= 0) {
    const c = j < 0 || (i >= 0 && compareListingKeys(keyOf(own[i]), keyOf(broadcasts[j])) > 0) ? own[i--] : broadcasts[j--];
    if (!visibleTo(c, q.deviceId)) continue;
    const s = c.state ?? NO_STATE;
    if (s.archivedAt === null) {
      if (s.seenAt === null) unseen++;
      if (s.readAt === null) unread++;
    }
    if (more || !matches(s, q.filter)) continue;
    if (q.before !== null && compareListingKeys(keyOf(c), q.before) >= 0) continue;
    if (page.length === q.limit) more = true;
    else page.push(c);
  }
  const last = page.at(-1);
  return { page, unseen, unread, next: more && last ? listingToken(keyOf(last), last.epoch) : null };
}

/** Counts of several views at once (null = the backend view), in the order asked. */
export function inboxCounts(candidates: Iterable<Candidate<unknown>>, deviceIds: readonly (string | null)[]): InboxCounts[] {
  const shared = { unseen: 0, unread: 0 };
  const all = { unseen: 0, unread: 0 };
  const byDevice = new Map<string, InboxCounts>();
  for (const c of candidates) {
    const s = c.state ?? NO_STATE;
    if (s.archivedAt !== null || (s.seenAt !== null && s.readAt !== null)) continue;
    const dseen = s.seenAt === null ? 1 : 0;
    const dread = s.readAt === null ? 1 : 0;
    all.unseen += dseen;
    all.unread += dread;
    const d = c.deviceId;
    const into = d === null ? shared : (byDevice.get(d) ?? byDevice.set(d, { unseen: 0, unread: 0 }).get(d));
    if (!into) continue;
    into.unseen += dseen;
    into.unread += dread;
  }
  return deviceIds.map((d) => {
    if (d === null) return { ...all };
    const own = byDevice.get(d);
    return { unseen: shared.unseen + (own?.unseen ?? 0), unread: shared.unread + (own?.unread ?? 0) };
  });
}

/**
 * An item's state after a change (PROTOCOL.md: `read: true` also marks seen; `read: false` keeps
 * seen; `seen: false` clears read too, since read implies seen). A time already set is kept, so
 * marking twice changes nothing. Returns undefined when the state does not change.
 */
export function applyChange(s: ItemState | undefined, change: Pick<StateChange, 'seen' | 'read' | 'archived'>, now: number): ItemState | undefined {
  const old = s ?? NO_STATE;
  let { seenAt, readAt, archivedAt } = old;
  if (change.seen === true) seenAt ??= now;
  if (change.seen === false) {
    seenAt = null;
    readAt = null;
  }
  if (change.read === true) {
    readAt ??= now;
    seenAt ??= now;
  }
  if (change.read === false) readAt = null;
  if (change.archived === true) archivedAt ??= now;
  if (change.archived === false) archivedAt = null;
  if (seenAt === old.seenAt && readAt === old.readAt && archivedAt === old.archivedAt) return undefined;
  return { seenAt, readAt, archivedAt };
}

/** The state event's flags, as given. */
export function changeFlags(change: StateChange): { seen?: boolean; read?: boolean; archived?: boolean } {
  const f: { seen?: boolean; read?: boolean; archived?: boolean } = {};
  if (change.seen !== undefined) f.seen = change.seen;
  if (change.read !== undefined) f.read = change.read;
  if (change.archived !== undefined) f.archived = change.archived;
  return f;
}
