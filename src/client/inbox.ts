import type {
  DeleteFrame,
  HeraldNotification,
  InboxCounts,
  InboxItem,
  InboxPage,
  StateFlags,
  StateFrame,
  StateResult,
  UpdateFrame,
  WelcomeFrame,
} from '../protocol/frames.js';
import type { DeviceHttp } from './device-http.js';
import { Emitter } from './emitter.js';
import { countsOf, HeldItems, itemOfNotification } from './inbox-items.js';

/** The items a change is for: ids, or `'all'` — every item this device can list, archived or not. */
export type InboxTarget = readonly string[] | 'all';

/** Options of {@link Inbox.list}. */
export interface InboxListOptions {
  /** Page size, 1..100. @default 20 (the server's default) */
  limit?: number;
  /** The `next` of the previous page: the page after it (older items). Absent: from the newest. */
  before?: string | null;
  /** `unread`, `archived` or `all`. @default what is not archived */
  filter?: 'unread' | 'archived' | 'all';
}

/** The events of a {@link Inbox} and what their listeners receive. */
export interface InboxEvents {
  /** Item states changed (on this device, another one, or by the backend); already applied to {@link Inbox.items}. */
  state: StateFrame;
  /** An item's content changed (its new version); already applied when the item is held. */
  update: UpdateFrame;
  /** An item was deleted; already gone from {@link Inbox.items}. */
  delete: DeleteFrame;
  /** The unseen/unread counts changed (for a badge). */
  counts: InboxCounts;
  /** What {@link Inbox.items} holds changed: the new list, newest first (for rendering). */
  items: readonly InboxItem[];
}

/** How a connection feeds its inbox: the frames, in stream order. */
export interface InboxFeed {
  welcome(w: WelcomeFrame): void;
  /** Every notification frame, duplicates included (the replay count needs them). */
  notification(n: HeraldNotification): void;
  frame(f: StateFrame | UpdateFrame | DeleteFrame): void;
}

/** At most this many ids in one `POST /me/notifications/state`; longer lists go in several. */
const MAX_IDS = 1000;
/**
 * A frame's counts are computed when it is sent, so they may already include a notification or a
 * delete that follows it in the stream (docs/protocol.md). A count adjusted this soon after such
 * counts is checked with the server.
 */
const COUNTS_RACE_MS = 250;
/**
 * Asking the server for the counts waits a random part of this: when a node restarts and a
 * broadcast follows the reconnects, its devices do not all ask at once, and a burst of frames
 * costs one request.
 */
const RESYNC_SPREAD_MS = 1000;

/** What the connection gives its inbox. */
export interface InboxParts {
  http: DeviceHttp;
  device: string;
  /** How many items to hold at most. */
  max: number;
  /** Problems worked around (a failed listing or count read after a resume); the connection's `error` event. */
  onError(err: Error): void;
  /** @default Date.now */
  now?: () => number;
  /** How long to wait before reading the counts again. @default random in [0, 1000) */
  resyncDelay?: () => number;
}

/**
 * A device's inbox (PROTOCOL.md "Inbox"): the client's notifications with their state, shared by
 * all of the client's devices — read on the phone is read on the laptop, live. Get it as
 * `conn.inbox`. It holds what it listed and what arrived since, applies every `state`, `update`
 * and `delete` frame to those items, and keeps the unseen/unread counts, so an application can
 * render from {@link items} and {@link counts} and re-render on `items` and `counts`.
 *
 * Changes go by HTTP (`POST /me/notifications/state` with the device's token), not by the
 * WebSocket `state` frame, on either transport: the answer says what changed (`updated`, counts)
 * and a refusal fails that one call — where a bad frame would close the stream (4400) and a frame
 * sent while reconnecting would be lost. The change reaches every device, this one included, as
 * a `state` frame.
 *
 * Counts come from the server: the welcome, every `state` frame, each listing. In between, a new
 * notification adds one to both, and a deleted or replaced item that is held takes off what it
 * counted; one that is not held makes the SDK ask the server again (`GET /me/notifications?limit=1`),
 * and so does an adjustment just after a frame's counts (which may already include it).
 *
 * @example
 * await conn.inbox.list({ limit: 20 });
 * conn.inbox.on('items', (items) => render(items.filter((i) => i.archivedAt === null)));
 * conn.inbox.on('counts', ({ unread }) => badge(unread));
 * await conn.inbox.markRead([id]);
 */
export class Inbox extends Emitter<InboxEvents> {
  readonly #http: DeviceHttp;
  readonly #device: string;
  readonly #onError: (err: Error) => void;
  readonly #now: () => number;
  readonly #resyncDelay: () => number;
  readonly #held: HeldItems;
  #counts: InboxCounts | null = null;
  #countsDirty = false;
  /** When the last counts of the server's arrived in a frame (welcome, state). */
  #countsAt = Number.NEGATIVE_INFINITY;
  /** Bumped by every frame that touches the inbox: an HTTP answer read meanwhile may be older than those frames. */
  #frames = 0;
  /** Replayed frames still to come after a welcome: the welcome's counts already include them. */
  #replayLeft = 0;
  /** The last first-page listing: listed again after a resume that lost frames. */
  #firstPage: InboxListOptions | null = null;
  #resyncing = false;

  /** Made by the connection (`conn.inbox`); `attach` receives the frames' way in. */
  constructor(opts: InboxParts, attach: (feed: InboxFeed) => void) {
    super();
    this.#http = opts.http;
    this.#device = opts.device;
    this.#held = new HeldItems(opts.max);
    this.#onError = opts.onError;
    this.#now = opts.now ?? Date.now;
    this.#resyncDelay = opts.resyncDelay ?? (() => Math.random() * RESYNC_SPREAD_MS);
    attach({
      welcome: (w) => this.#onWelcome(w),
      notification: (n) => this.#onNotification(n),
      frame: (f) => this.#onFrame(f),
    });
  }

  /**
   * The items held — listed, or received since — newest first, with their current state. Archived
   * items stay (with `archivedAt` set) until deleted: filter them out to show an inbox. A new
   * array (of new item objects where something changed) after every change.
   */
  get items(): readonly InboxItem[] {
    return this.#held.view;
  }

  /** The device's unseen and unread counts; null until known (the first welcome or listing). */
  get counts(): InboxCounts | null {
    return this.#counts === null ? null : { ...this.#counts };
  }

  /** A held item by id. */
  get(id: string): InboxItem | undefined {
    return this.#held.get(id);
  }

  /**
   * One page of the inbox (`GET /me/notifications`), newest first, with the counts and `next` for
   * the following page. Its items join {@link items}.
   */
  list(options: InboxListOptions = {}): Promise<InboxPage> {
    return this.#list(options, false);
  }

  /** Sets flags on items (`POST /me/notifications/state`); resolves with what changed and the counts after. */
  async setState(target: InboxTarget, flags: StateFlags): Promise<StateResult> {
    if (target === 'all') return this.#post({ all: true, ...flags });
    if (!Array.isArray(target)) throw new TypeError("ids: an array of item ids, or 'all'");
    const ids = [...new Set(target)];
    let updated = 0;
    let last: StateResult | null = null;
    for (let i = 0; i === 0 || i < ids.length; i += MAX_IDS) {
      last = await this.#post({ ids: ids.slice(i, i + MAX_IDS), ...flags });
      updated += last.updated;
    }
    return { ...(last as StateResult), updated };
  }

  /** Marks items read (and seen). */
  markRead(target: InboxTarget): Promise<StateResult> {
    return this.setState(target, { read: true });
  }

  /** Marks items unread (they stay seen). */
  markUnread(target: InboxTarget): Promise<StateResult> {
    return this.setState(target, { read: false });
  }

  /** Marks items seen (e.g. the list was opened), not read. */
  markSeen(target: InboxTarget): Promise<StateResult> {
    return this.setState(target, { seen: true });
  }

  /** Archives items: they leave the default listing and the counts. */
  archive(target: InboxTarget): Promise<StateResult> {
    return this.setState(target, { archived: true });
  }

  unarchive(target: InboxTarget): Promise<StateResult> {
    return this.setState(target, { archived: false });
  }

  // ---- HTTP ----

  async #list(options: InboxListOptions, replace: boolean): Promise<InboxPage> {
    const q: Record<string, string> = { device: this.#device };
    if (options.limit !== undefined) q.limit = String(options.limit);
    if (options.before) q.before = options.before;
    if (options.filter) q.filter = options.filter;
    const first = !options.before;
    const frames = this.#frames;
    const mark = this.#held.listing();
    let page: InboxPage;
    try {
      page = await this.#http.request<InboxPage>('GET', '/me/notifications', q);
    } catch (err) {
      this.#held.listed(mark, null, first, replace);
      throw err;
    }
    if (first) this.#firstPage = { limit: options.limit, filter: options.filter };
    // After a lost resume (`replace`) held items may have missed changes: the listing replaces them.
    this.#held.listed(mark, page.items, first, replace);
    // An older page or the archived filter misses a notification in flight that the counts include.
    const quiet = frames === this.#frames;
    if (this.#counts === null || (quiet && first && options.filter !== 'archived')) this.#setCounts(page);
    this.#flush();
    return page;
  }

  async #post(body: StateFlags & ({ ids: string[] } | { all: true })): Promise<StateResult> {
    const frames = this.#frames;
    const r = await this.#http.request<StateResult>('POST', '/me/notifications/state', {}, { device: this.#device, ...body });
    // Applied at once unless frames arrived meanwhile (one may undo it; this change's own frame is on its way).
    if (frames === this.#frames) {
      this.#frames++;
      this.#held.apply({ target: 'all' in body ? 'all' : body.ids, flags: body, scope: this.#device, now: Date.now() });
      this.#setCounts(r);
      this.#flush();
    }
    return r;
  }

  /** Asks the server for the counts when a frame changed them by an amount the SDK cannot know. */
  #resync(): void {
    if (this.#counts === null || this.#resyncing) return;
    this.#resyncing = true;
    const delay = this.#resyncDelay();
    if (delay > 0) setTimeout(() => void this.#readCounts(), delay);
    else void this.#readCounts();
  }

  async #readCounts(): Promise<void> {
    try {
      // Frames that arrive meanwhile make the answer ambiguous: ask again, a few times at most.
      for (let i = 0; i < 3; i++) {
        const frames = this.#frames;
        const page = await this.#http.request<InboxPage>('GET', '/me/notifications', { device: this.#device, limit: '1' });
        if (frames !== this.#frames) continue;
        this.#setCounts(page);
        this.#flush();
        return;
      }
    } catch (err) {
      this.#onError(new Error('the inbox counts could not be read again', { cause: err }));
    } finally {
      this.#resyncing = false;
    }
  }

  // ---- frames ----

  #onWelcome(w: WelcomeFrame): void {
    this.#frames++;
    this.#replayLeft = Math.max(0, Math.floor(Number(w.pending) || 0));
    if (typeof w.unseen === 'number' && typeof w.unread === 'number') this.#serverCounts({ unseen: w.unseen, unread: w.unread });
    this.#flush();
    if (!w.resumed && this.#firstPage)
      this.#list(this.#firstPage, true).catch((err) => this.#onError(new Error('the inbox could not be listed again', { cause: err })));
  }

  #onNotification(n: HeraldNotification): void {
    const replayed = this.#replayed();
    if (typeof n.replaces === 'string') this.#drop(n.replaces, replayed);
    if (typeof n.id === 'string' && !this.#held.has(n.id)) {
      this.#held.add(itemOfNotification(n));
      if (!replayed) this.#adjust({ unseen: 1, unread: 1 });
    }
    this.#flush();
  }

  #onFrame(f: StateFrame | UpdateFrame | DeleteFrame): void {
    const replayed = this.#replayed();
    switch (f.type) {
      case 'state': {
        // A device's change covers its own view (`scope`, or `by` when the server does not say).
        const scope = (f as { scope?: string | null }).scope;
        const ts = (f as { ts?: number }).ts;
        const target = f.all ? 'all' : (f.ids ?? []);
        this.#held.apply({ target, flags: f, scope: scope !== undefined ? scope : f.by, now: typeof ts === 'number' ? ts : Date.now() });
        break;
      }
      case 'update':
        this.#held.update(f);
        break;
      case 'delete':
        this.#drop(f.id, replayed);
        break;
    }
    // Counts in a frame are the server's, as of sending it.
    const c = f as Partial<InboxCounts>;
    if (typeof c.unseen === 'number' && typeof c.unread === 'number') this.#serverCounts({ unseen: c.unseen, unread: c.unread });
    if (f.type === 'state') this.emit('state', f);
    else if (f.type === 'update') this.emit('update', f);
    else this.emit('delete', f);
    this.#flush();
  }

  /** Counts one frame of a stream: true while it is one of the welcome's `pending` (replayed) ones. */
  #replayed(): boolean {
    this.#frames++;
    if (this.#replayLeft === 0) return false;
    this.#replayLeft--;
    return true;
  }

  // ---- counts ----

  /** An item left (deleted, replaced): what it counted goes, unless the welcome's counts already knew. */
  #drop(id: string, replayed: boolean): void {
    const item = this.#held.remove(id);
    if (replayed) return;
    if (!item) {
      this.#resync();
      return;
    }
    const c = countsOf(item);
    this.#adjust({ unseen: -c.unseen, unread: -c.unread });
  }

  #setCounts(c: InboxCounts): void {
    const now = { unseen: c.unseen, unread: c.unread };
    if (this.#counts?.unseen === now.unseen && this.#counts.unread === now.unread) return;
    this.#counts = now;
    this.#countsDirty = true;
  }

  /** Counts a frame brought. */
  #serverCounts(c: InboxCounts): void {
    this.#countsAt = this.#now();
    this.#setCounts(c);
  }

  /** A live notification or a held item's delete, counted here; checked with the server when the last frame's counts may have counted it. */
  #adjust(d: InboxCounts): void {
    if (this.#counts === null || (d.unseen === 0 && d.unread === 0)) return;
    this.#setCounts({ unseen: Math.max(0, this.#counts.unseen + d.unseen), unread: Math.max(0, this.#counts.unread + d.unread) });
    if (this.#now() - this.#countsAt < COUNTS_RACE_MS) this.#resync();
  }

  /** Rebuilds the view (newest first, at most `max`) and tells the listeners: counts, then items. */
  #flush(): void {
    const items = this.#held.takeView();
    if (this.#countsDirty) {
      this.#countsDirty = false;
      this.emit('counts', { ...(this.#counts as InboxCounts) });
    }
    if (items) this.emit('items', items);
  }
}
