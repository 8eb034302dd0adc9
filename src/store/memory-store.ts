import { type Cursor, isAfter, laterCursor, laterMark, maxPos, newEpoch, posToStreamId, type StreamPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import { checkInboxQuery, checkStateChange, parseListingToken } from '../core/inbox.js';
import type {
  AppendResult,
  InboxCounts,
  InboxItemContent,
  InboxPage,
  InboxQuery,
  ItemPatch,
  ItemState,
  PublishInput,
  ReplayQuery,
  ReplayResult,
  StateChange,
  StateResult,
  Store,
  StoredNotification,
  Target,
} from '../core/types.js';
import { applyChange, type Candidate, changeFlags, contentOf, inboxCounts, listedItem, pickPage, visibleTo } from './inbox.js';
import { mergeByPosition, mergeByTime, type Placement, placePending, placeReader, type StreamBounds } from './streams.js';

export interface MemoryStoreOptions {
  /** Notifications kept per stream (inbox events do not count). @default 1000 */
  retentionMessages: number;
  /** @default 86_400_000 */
  retentionMs: number;
  /**
   * Inbox events (state changes, updates, deletes) kept per stream besides the notifications; a
   * device whose cursor is before a dropped event has lost something. @default retentionMessages
   */
  retentionEvents?: number;
}

interface Retention {
  messages: number;
  events: number;
  ms: number;
}

const BROADCAST = '\u0000broadcast';

/** Entries of one kind in position order, dropped from the front. */
class Log {
  items: StoredNotification[] = [];
  start = 0;

  get size(): number {
    return this.items.length - this.start;
  }

  get oldest(): StoredNotification | undefined {
    return this.items[this.start];
  }

  shift(): StoredNotification {
    const item = this.items[this.start];
    this.items[this.start++] = undefined as unknown as StoredNotification;
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
    return item;
  }

  /** Entries after `after`, oldest first (binary search: positions are sorted). */
  after(after: StreamPos | null): StoredNotification[] {
    let lo = this.start;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(this.items[mid].pos, after)) hi = mid;
      else lo = mid + 1;
    }
    return this.items.slice(lo);
  }
}

/**
 * One append-only stream: a client's own, or the broadcast stream. Notifications and inbox events
 * share its positions; retention counts notifications only, events have a count of their own.
 */
class Stream {
  /** This stream's generation: a stream dropped by prune and created again gets a new one. */
  readonly epoch = newEpoch();
  readonly notifications = new Log();
  readonly events = new Log();
  last: StreamPos | null = null;
  /** The newest position dropped by retention: a cursor before it has lost something. */
  trimmedThrough: StreamPos | null = null;
  /** The first position this stream ever handed out: a cursor before it predates this store. */
  first: StreamPos | null = null;
  /** Publisher-given ids (idempotency keys) → their notification, while retained. */
  keyed = new Map<string, StoredNotification>();
  /** Every retained notification by id. */
  byId = new Map<string, StoredNotification>();
  /** Inbox: the client's state of its items (client streams; broadcast states are per client, in ClientInbox). */
  states = new Map<string, ItemState>();
  /** Inbox: content of updated items. */
  content = new Map<string, InboxItemContent>();
  /** Inbox: deleted and replaced items. */
  gone = new Set<string>();
  /** Inbox: collapse key → the item holding it. */
  collapse = new Map<string, string>();

  get bounds(): StreamBounds {
    return { epoch: this.epoch, first: this.first, last: this.last, trimmed: this.trimmedThrough };
  }

  nextPos(now: number): StreamPos {
    const last = this.last;
    const pos = last === null || now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
    this.last = pos;
    this.first ??= pos;
    return pos;
  }

  #dropNotification(): void {
    const item = this.notifications.shift();
    this.trimmedThrough = maxPos(this.trimmedThrough, item.pos);
    if (this.keyed.get(item.id) === item) this.keyed.delete(item.id);
    if (this.byId.get(item.id) === item) {
      this.byId.delete(item.id);
      this.states.delete(item.id);
      this.content.delete(item.id);
      this.gone.delete(item.id);
      if (item.collapseKey !== undefined && this.collapse.get(item.collapseKey) === item.id) this.collapse.delete(item.collapseKey);
    }
  }

  #dropEvent(): void {
    this.trimmedThrough = maxPos(this.trimmedThrough, this.events.shift().pos);
  }

  trim(now: number, r: Retention): void {
    const n = this.notifications;
    while (n.size > r.messages) this.#dropNotification();
    const oldest = now - r.ms;
    while (n.size > 0 && (n.oldest as StoredNotification).ts < oldest) this.#dropNotification();
    // Events: their own count and age, and none before what retention dropped (a reader there is lost anyway).
    const e = this.events;
    while (e.size > r.events) this.#dropEvent();
    while (e.size > 0) {
      const first = e.oldest as StoredNotification;
      if (first.ts >= oldest && (this.trimmedThrough === null || isAfter(first.pos, this.trimmedThrough))) break;
      this.#dropEvent();
    }
  }

  /** Notifications and events after `after`, in position order. */
  after(after: StreamPos | null): StoredNotification[] {
    const a = this.notifications.after(after);
    return this.events.size === 0 ? a : mergeByPosition(a, this.events.after(after));
  }

  /** A retained notification that is an inbox item now: not deleted or replaced, not expired. */
  item(id: string, now: number): StoredNotification | undefined {
    const n = this.byId.get(id);
    return n && !this.gone.has(id) && (n.expiresAt === null || n.expiresAt > now) ? n : undefined;
  }

  /** Appends an inbox event at the next position. */
  appendEvent(
    clientId: string | null,
    deviceId: string | null,
    kind: 'state' | 'update' | 'delete',
    event: StoredNotification['event'],
    now: number,
  ): StoredNotification {
    const prev = this.last;
    const entry: StoredNotification = {
      id: uuidv7(now),
      clientId,
      deviceId,
      title: '',
      message: '',
      service: '',
      data: null,
      ts: now,
      expiresAt: null,
      pos: this.nextPos(now),
      prev,
      epoch: this.epoch,
      kind,
      event,
    };
    this.events.items.push(entry);
    return entry;
  }
}

/** A candidate whose `ref` gives its content now. */
type Item = Candidate<() => InboxItemContent>;

function candidate(n: StoredNotification, src: 'c' | 'b', stream: Stream, state: ItemState | undefined): Item {
  return { id: n.id, deviceId: n.deviceId, pos: n.pos, epoch: n.epoch, src, state, ref: () => stream.content.get(n.id) ?? contentOf(n) };
}

/** What the store keeps per client beside its stream: when it registered, its state of broadcasts. */
interface ClientInbox {
  /** Broadcasts at or after this ms are in the client's inbox. */
  registeredAt: number;
  /** Broadcast position (`ms-seq`) → the client's state of that broadcast. */
  broadcastStates: Map<string, ItemState>;
}

/**
 * The embedded store: everything in this process's memory, bounded by retention. Lost on restart;
 * use the Redis store where that matters.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #streams = new Map<string, Stream>();
  readonly #deviceCursors = new Map<string, Cursor>();
  readonly #clientAcked = new Map<string, { pos: StreamPos; epoch: string | null }>();
  readonly #clients = new Map<string, ClientInbox>();
  readonly #retention: Retention;

  constructor(opts: MemoryStoreOptions) {
    this.#retention = { messages: opts.retentionMessages, events: opts.retentionEvents ?? opts.retentionMessages, ms: opts.retentionMs };
  }

  #stream(key: string, create: true): Stream;
  #stream(key: string, create: false): Stream | undefined;
  #stream(key: string, create: boolean): Stream | undefined {
    let s = this.#streams.get(key);
    if (!s && create) {
      s = new Stream();
      this.#streams.set(key, s);
    }
    return s;
  }

  /** The stream, retention applied. */
  #trimmed(key: string, now: number): Stream | undefined {
    const s = this.#stream(key, false);
    s?.trim(now, this.#retention);
    return s;
  }

  async append(target: Target, input: PublishInput, now: number): Promise<AppendResult> {
    const key = target.kind === 'broadcast' ? BROADCAST : target.clientId;
    const stream = this.#stream(key, true);
    stream.trim(now, this.#retention);
    if (input.id !== undefined) {
      const existing = stream.keyed.get(input.id);
      if (existing) return { notification: existing, duplicate: true, stored: true };
    }
    const prev = stream.last;
    const ttl = input.ttlMs;
    const stored = ttl !== 0;
    const id = input.id ?? uuidv7(now);
    // Only a stored notification is an inbox item, so only it takes part in collapsing.
    const replaces = stored && input.collapseKey !== undefined ? stream.collapse.get(input.collapseKey) : undefined;
    const n: { -readonly [K in keyof StoredNotification]: StoredNotification[K] } = {
      id,
      clientId: target.kind === 'broadcast' ? null : target.clientId,
      deviceId: target.kind === 'device' ? target.deviceId : null,
      title: input.title,
      message: input.message,
      service: input.service ?? 'default',
      data: input.data ?? null,
      ts: now,
      expiresAt: ttl === undefined ? null : now + ttl,
      priority: input.priority,
      pos: stream.nextPos(now),
      prev,
      epoch: stream.epoch,
      version: 1,
    };
    if (input.collapseKey !== undefined) n.collapseKey = input.collapseKey;
    if (replaces !== undefined) n.replaces = replaces;
    if (input.excludeDevices !== undefined && input.excludeDevices.length > 0) n.excludeDevices = [...input.excludeDevices];
    const notification: StoredNotification = n;
    if (stored) {
      stream.notifications.items.push(notification);
      stream.byId.set(id, notification);
      if (input.id !== undefined) stream.keyed.set(input.id, notification);
      if (input.collapseKey !== undefined) {
        if (replaces !== undefined) stream.gone.add(replaces);
        stream.collapse.set(input.collapseKey, id);
      }
      stream.trim(now, this.#retention);
    }
    return { notification, duplicate: false, stored };
  }

  async replay(q: ReplayQuery, now: number): Promise<ReplayResult> {
    if (q.register && !this.#clients.has(q.clientId)) this.#clients.set(q.clientId, { registeredAt: now, broadcastStates: new Map() });
    const own = this.#trimmed(q.clientId, now);
    const bc = this.#trimmed(BROADCAST, now);
    const forDevice = (n: StoredNotification) =>
      (n.expiresAt === null || n.expiresAt > now) && (n.deviceId === null || n.deviceId === q.deviceId) && !n.excludeDevices?.includes(q.deviceId);
    const pc = q.broadcasts ? placeReader(own?.bounds, q.after.c, q.after.ce) : placePending(own?.bounds, q.after.c, q.after.ce);
    const pb: Placement = q.broadcasts
      ? placeReader(bc?.bounds, q.after.b, q.after.be)
      : { from: bc?.last ?? null, epoch: bc?.epoch ?? null, lost: false, replay: false };
    const mine = pc.replay ? (own?.after(pc.from) ?? []).filter(forDevice) : [];
    const all = pb.replay ? (bc?.after(pb.from) ?? []).filter(forDevice) : [];
    return {
      items: mergeByTime(mine, all),
      head: { c: own?.last ?? null, ce: own?.epoch ?? null, b: bc?.last ?? null, be: bc?.epoch ?? null },
      from: { c: pc.from, ce: pc.epoch, b: pb.from, be: pb.epoch },
      lost: pc.lost || pb.lost,
    };
  }

  async heads(clientId: string): Promise<Cursor> {
    const own = this.#stream(clientId, false);
    const bc = this.#stream(BROADCAST, false);
    return { c: own?.last ?? null, ce: own?.epoch ?? null, b: bc?.last ?? null, be: bc?.epoch ?? null };
  }

  async range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]> {
    const s = this.#stream(clientId ?? BROADCAST, false);
    if (!s) return [];
    return s.after(after).filter((n) => !isAfter(n.pos, upTo) && (n.expiresAt === null || n.expiresAt > now));
  }

  async getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null> {
    return this.#deviceCursors.get(`${clientId}:${deviceId}`) ?? null;
  }

  async getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null> {
    return this.#clientAcked.get(clientId) ?? null;
  }

  async saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void> {
    const key = `${clientId}:${deviceId}`;
    const old = this.#deviceCursors.get(key);
    this.#deviceCursors.set(key, old ? laterCursor(old, cursor) : cursor);
    if (cursor.c === null) return;
    const acked = this.#clientAcked.get(clientId);
    const next = laterMark(acked ?? { pos: null, epoch: null }, { pos: cursor.c, epoch: cursor.ce });
    if (next.pos !== null) this.#clientAcked.set(clientId, { pos: next.pos, epoch: next.epoch });
  }

  async forgetDevice(clientId: string, deviceId: string): Promise<void> {
    this.#deviceCursors.delete(`${clientId}:${deviceId}`);
  }

  /** The client's inbox items of each stream in position order (what listings, counts and changes work on). */
  #candidates(clientId: string, now: number): { own: Item[]; broadcasts: Item[]; stream: Stream | undefined } {
    const stream = this.#trimmed(clientId, now);
    const own: Item[] = [];
    if (stream) {
      for (const n of stream.notifications.after(null)) {
        if (stream.item(n.id, now) !== n) continue;
        own.push(candidate(n, 'c', stream, stream.states.get(n.id)));
      }
    }
    const broadcasts: Item[] = [];
    const client = this.#clients.get(clientId);
    const bc = this.#trimmed(BROADCAST, now);
    if (client && bc) {
      for (const n of bc.notifications.after({ ms: client.registeredAt - 1, seq: Number.MAX_SAFE_INTEGER })) {
        if (bc.item(n.id, now) !== n) continue;
        broadcasts.push(candidate(n, 'b', bc, client.broadcastStates.get(posToStreamId(n.pos))));
      }
    }
    return { own, broadcasts, stream };
  }

  async listInbox(q: InboxQuery, now: number): Promise<InboxPage> {
    checkInboxQuery(q);
    const before = parseListingToken(q.before);
    const { own, broadcasts } = this.#candidates(q.clientId, now);
    const { page, ...rest } = pickPage(own, broadcasts, { deviceId: q.deviceId, limit: q.limit, before, filter: q.filter ?? 'default' });
    return { items: page.map((c) => listedItem(c.ref(), q.clientId, c.state)), ...rest };
  }

  async inboxCounts(clientId: string, deviceIds: readonly (string | null)[], now: number): Promise<InboxCounts[]> {
    const { own, broadcasts } = this.#candidates(clientId, now);
    return inboxCounts([...own, ...broadcasts], deviceIds);
  }

  async setState(clientId: string, change: StateChange, now: number): Promise<StateResult> {
    checkStateChange(change);
    const { own, broadcasts, stream } = this.#candidates(clientId, now);
    const inScope = [...own, ...broadcasts].filter((c) => visibleTo(c, change.scope));
    let targets: Item[] = inScope;
    if (change.ids !== undefined) {
      const byId = new Map<string, Item[]>();
      for (const c of inScope) byId.get(c.id)?.push(c) ?? byId.set(c.id, [c]);
      targets = [...new Set(change.ids)].flatMap((id) => byId.get(id) ?? []);
    }
    const client = this.#clients.get(clientId);
    const changed = new Set<string>();
    const after = new Map<Item, ItemState>();
    for (const c of targets) {
      const next = applyChange(c.state, change, now);
      if (!next) continue;
      after.set(c, next);
      changed.add(c.id);
      const empty = next.seenAt === null && next.readAt === null && next.archivedAt === null;
      const states = c.src === 'c' ? stream?.states : client?.broadcastStates;
      const key = c.src === 'c' ? c.id : posToStreamId(c.pos);
      if (empty) states?.delete(key);
      else states?.set(key, next);
    }
    const counts = inboxCounts(
      inScope.map((c) => (after.has(c) ? { ...c, state: after.get(c) } : c)),
      [change.scope],
    )[0];
    if (after.size === 0) return { updated: 0, ...counts, event: null };
    const target = stream ?? this.#stream(clientId, true);
    const event =
      change.ids !== undefined
        ? { ids: [...changed], ...changeFlags(change), by: change.by, scope: change.scope }
        : { all: true as const, ...changeFlags(change), by: change.by, scope: change.scope };
    const entry = target.appendEvent(clientId, null, 'state', event, now);
    target.trim(now, this.#retention);
    return { updated: after.size, ...counts, event: entry };
  }

  async updateItem(clientId: string | null, id: string, patch: ItemPatch, now: number): Promise<{ item: InboxItemContent; event: StoredNotification } | null> {
    const stream = this.#trimmed(clientId ?? BROADCAST, now);
    const n = stream?.item(id, now);
    if (!stream || !n) return null;
    const old = stream.content.get(id) ?? contentOf(n);
    const item: InboxItemContent = { ...old, version: old.version + 1, updatedAt: now };
    if (patch.title !== undefined) item.title = patch.title;
    if (patch.message !== undefined) item.message = patch.message;
    if (patch.data !== undefined) item.data = patch.data;
    stream.content.set(id, item);
    const event = stream.appendEvent(clientId, n.deviceId, 'update', item, now);
    stream.trim(now, this.#retention);
    return { item, event };
  }

  async deleteItem(clientId: string | null, id: string, now: number): Promise<{ event: StoredNotification } | null> {
    const stream = this.#trimmed(clientId ?? BROADCAST, now);
    const n = stream?.item(id, now);
    if (!stream || !n) return null;
    stream.gone.add(id);
    stream.content.delete(id);
    stream.states.delete(id);
    if (n.collapseKey !== undefined && stream.collapse.get(n.collapseKey) === id) stream.collapse.delete(n.collapseKey);
    const event = stream.appendEvent(clientId, n.deviceId, 'delete', { id }, now);
    stream.trim(now, this.#retention);
    return { event };
  }

  /** Drops streams that retention emptied, and clients' states of broadcasts no longer held, so memory follows live clients (called by the sweep). */
  prune(now: number): void {
    for (const [key, s] of this.#streams) {
      s.trim(now, this.#retention);
      const idle = s.last === null || now - s.last.ms > this.#retention.ms;
      if (s.notifications.size === 0 && s.events.size === 0 && key !== BROADCAST && idle) this.#streams.delete(key);
    }
    const bc = this.#streams.get(BROADCAST);
    const held = new Set((bc?.notifications.after(null) ?? []).map((n) => posToStreamId(n.pos)));
    for (const client of this.#clients.values()) {
      for (const pos of client.broadcastStates.keys()) if (!held.has(pos)) client.broadcastStates.delete(pos);
    }
  }

  async close(): Promise<void> {}
}
