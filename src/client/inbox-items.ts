import type { HeraldNotification, InboxItem, InboxItemContent, StateFlags, UpdateFrame } from '../protocol/frames.js';

/**
 * What an inbox holds (HeldItems), and the item rules it applies, the same as the server's
 * (PROTOCOL.md "Inbox"): what a state change does to one item, which items `all` covers, what
 * counts.
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

/** A state change as applied: to these ids, or to all in `scope`'s view; times set to `now`. */
export interface StateChange {
  target: readonly string[] | 'all';
  flags: StateFlags;
  scope: string | null;
  now: number;
}

/** A change seen while a listing was out: a state change, or an item that left. */
type Change = StateChange | { gone: string };

/** Where things stood when a listing went out. */
export interface ListingMark {
  /** How many changes had been logged. */
  logged: number;
  /** The newest rank then: items ranked above arrived while the listing was out. */
  newest: number;
}

interface Held {
  item: InboxItem;
  /** Order among items of the same `ts`: higher is newer. */
  rank: number;
}

/**
 * The items an inbox holds, by id, and their view newest first (`ts`, then arrival), at most `max`.
 * While listings are out it logs the changes it applies, so that each page can catch up on them.
 */
export class HeldItems {
  readonly #held = new Map<string, Held>();
  readonly #max: number;
  #newest = 0;
  #oldest = 0;
  #dirty = false;
  #view: readonly InboxItem[] = Object.freeze([]);
  #listings = 0;
  #log: Change[] = [];
  /** The number of changes logged before `#log[0]`. */
  #logBase = 0;

  constructor(max: number) {
    this.#max = Math.max(1, Math.floor(max));
  }

  get(id: string): InboxItem | undefined {
    return this.#held.get(id)?.item;
  }

  has(id: string): boolean {
    return this.#held.has(id);
  }

  /** The items newest first, as of the last {@link takeView}. */
  get view(): readonly InboxItem[] {
    return this.#view;
  }

  /** The new view when something changed since the last call (the oldest beyond `max` let go), else null. */
  takeView(): readonly InboxItem[] | null {
    if (!this.#dirty) return null;
    this.#dirty = false;
    const sorted = [...this.#held.values()].sort((a, b) => b.item.ts - a.item.ts || b.rank - a.rank);
    for (const h of sorted.splice(this.#max)) this.#held.delete(h.item.id);
    this.#view = Object.freeze(sorted.map((h) => h.item));
    return this.#view;
  }

  /** A new item, newer than all held. */
  add(item: InboxItem): void {
    this.#held.set(item.id, { item, rank: ++this.#newest });
    this.#dirty = true;
  }

  apply(c: StateChange): void {
    if (this.#listings > 0) this.#log.push(c);
    const hs = c.target === 'all' ? [...this.#held.values()].filter((h) => inScope(h.item, c.scope)) : c.target.map((id) => this.#held.get(id));
    for (const h of hs) {
      const next = h && applyFlags(h.item, c.flags, c.now);
      if (!h || !next) continue;
      h.item = next;
      this.#dirty = true;
    }
  }

  /** An `update` frame: applied when its version is newer than the held item's. */
  update(f: UpdateFrame): void {
    const h = this.#held.get(f.id);
    if (!h || f.version <= h.item.version) return;
    h.item = updatedItem(h.item, f);
    this.#dirty = true;
  }

  /** An item left (deleted, replaced); returns it if it was held. */
  remove(id: string): InboxItem | undefined {
    if (this.#listings > 0) this.#log.push({ gone: id });
    const h = this.#held.get(id);
    if (!h) return undefined;
    this.#held.delete(id);
    this.#dirty = true;
    return h.item;
  }

  /** A listing goes out: changes are logged until it is back ({@link listed}). */
  listing(): ListingMark {
    this.#listings++;
    return { logged: this.#logBase + this.#log.length, newest: this.#newest };
  }

  /**
   * A listing is back (or failed: `page` null). Its items join what is held, with the listing's
   * state: the listing may have been read before or after the changes that arrived while it was
   * out, so those are applied to it again, in order — each sets flags to fixed values, so the
   * result is right either way — and an item that left meanwhile stays gone. `first`: a first
   * page (ranked above what is held; an older page ranks below). `replace`: the held items the
   * page does not list, except those that arrived meanwhile, are let go.
   */
  listed(mark: ListingMark, page: readonly InboxItem[] | null, first: boolean, replace: boolean): void {
    this.#listings--;
    const since = this.#log.slice(mark.logged - this.#logBase);
    if (this.#listings === 0) {
      this.#logBase += this.#log.length;
      this.#log = [];
    }
    if (page === null) return;
    if (replace) {
      const ids = new Set(page.map((i) => i.id));
      for (const [id, h] of this.#held) if (h.rank <= mark.newest && !ids.has(id)) this.#held.delete(id);
      this.#dirty = true;
    }
    const gone = new Set(since.flatMap((c) => ('gone' in c ? [c.gone] : [])));
    const ordered = first ? [...page].reverse() : page;
    for (const listed of ordered) {
      if (gone.has(listed.id)) continue;
      const h = this.#held.get(listed.id);
      let item = h && h.item.version > listed.version ? { ...h.item, seenAt: listed.seenAt, readAt: listed.readAt, archivedAt: listed.archivedAt } : listed;
      for (const c of since) {
        if ('gone' in c || !(c.target === 'all' ? inScope(item, c.scope) : c.target.includes(item.id))) continue;
        item = applyFlags(item, c.flags, c.now) ?? item;
      }
      if (h) h.item = item;
      else this.#held.set(item.id, { item, rank: first ? ++this.#newest : --this.#oldest });
      this.#dirty = true;
    }
  }
}
