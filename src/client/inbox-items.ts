import type { HeraldNotification, InboxItem, InboxItemContent, StateFlags, UpdateFrame } from '../protocol/frames.js';

/**
 * The item rules the SDK applies to what it holds, the same as the server's (PROTOCOL.md "Inbox"):
 * what a state change does to one item, which items `all` covers, what counts.
 */

/**
 * An item after a change: `read: true` also marks seen, `seen: false` also marks unread, a time
 * already set is kept. Returns null when nothing changes.
 */
export function applyFlags(item: InboxItem, flags: StateFlags, now: number): InboxItem | null {
  let { seenAt, readAt, archivedAt } = item;
  if (flags.seen === true) seenAt ??= now;
  if (flags.seen === false) {
    seenAt = null;
    readAt = null;
  }
  if (flags.read === true) {
    readAt ??= now;
    seenAt ??= now;
  }
  if (flags.read === false) readAt = null;
  if (flags.archived === true) archivedAt ??= now;
  if (flags.archived === false) archivedAt = null;
  if (seenAt === item.seenAt && readAt === item.readAt && archivedAt === item.archivedAt) return null;
  return { ...item, seenAt, readAt, archivedAt };
}

/**
 * Whether a change made in `scope`'s view covers `item`: a device's `all` covers client-wide items,
 * broadcasts and its own targeted items, never another device's; the backend's (null) covers all.
 */
export function inScope(item: InboxItem, scope: string | null): boolean {
  return scope === null || item.deviceId === undefined || item.deviceId === scope;
}

/** What an item adds to the counts: archived items count for nothing. */
export function countsOf(item: InboxItem): { unseen: number; unread: number } {
  if (item.archivedAt !== null) return { unseen: 0, unread: 0 };
  return { unseen: item.seenAt === null ? 1 : 0, unread: item.readAt === null ? 1 : 0 };
}

/** A new notification as an inbox item: version 1, nothing seen, read or archived. */
export function itemOfNotification(n: HeraldNotification): InboxItem {
  const item = { id: n.id, clientId: n.clientId } as InboxItem;
  if (n.deviceId !== undefined) item.deviceId = n.deviceId;
  if (n.broadcast) item.broadcast = true;
  item.title = n.title;
  item.message = n.message;
  item.service = n.service;
  item.data = n.data ?? null;
  item.ts = n.ts;
  item.version = 1;
  item.updatedAt = n.ts;
  if (n.collapseKey !== undefined) item.collapseKey = n.collapseKey;
  item.seenAt = null;
  item.readAt = null;
  item.archivedAt = null;
  return item;
}

/** An `update` frame's content applied to the item held: new content, same state, same listing client. */
export function updatedItem(held: InboxItem, f: UpdateFrame): InboxItem {
  const { type: _type, cursor: _cursor, ...content } = f;
  const c = content as InboxItemContent;
  return { ...held, ...c, clientId: held.clientId ?? c.clientId, data: c.data ?? null };
}
