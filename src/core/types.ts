import type { InboxItemState, InboxItemContent as WireItemContent } from '../protocol/frames.js';
import type { DeviceView, PublishBody } from '../protocol/json-shapes.js';
import type { Cursor, StreamPos } from './cursor.js';

/** What a publisher sends (PROTOCOL.md "Publisher API"): the wire's publish body, validated. */
export type PublishInput = PublishBody;

/** Whom a notification is for: every device of a client, one device, or everyone (its own stream). */
export type Target = { kind: 'client'; clientId: string } | { kind: 'device'; clientId: string; deviceId: string } | { kind: 'broadcast' };

/**
 * One entry of a stream as kept by the store and handed to sessions: a notification, or (with
 * `kind`) an inbox event. Events take positions in the same sequence and `prev` chain as
 * notifications, carry the stream's epoch and are replayed in stream order like them, so a cursor
 * covers both (PROTOCOL.md "Inbox", ARCHITECTURE.md "How a state change flows"). An event's `id`
 * is its own (a UUIDv7), its `title`, `message` and `service` are empty, `data` null, `expiresAt`
 * null; what it says is in `event` (read it with `inboxEvent()` in core/inbox.ts).
 */
export interface StoredNotification {
  /** The notification's id, or the event's own id. */
  readonly id: string;
  /** null for a broadcast */
  readonly clientId: string | null;
  /** set for a device-targeted notification */
  readonly deviceId: string | null;
  readonly title: string;
  readonly message: string;
  readonly service: string;
  readonly data: unknown;
  readonly ts: number;
  /** ms since epoch after which it is not replayed; null = retention only */
  readonly expiresAt: number | null;
  readonly priority?: PublishInput['priority'];
  /** Position in its stream (client's own, or broadcast). */
  readonly pos: StreamPos;
  /** The position before it in the same stream (null at the stream's start), to find gaps. */
  readonly prev: StreamPos | null;
  /** The generation of its stream (see cursor.ts): part of every cursor that names it. */
  readonly epoch: string;
  /**
   * Absent: a notification. `state`: item states changed ({@link StateEvent}); `update`: an item's
   * content changed ({@link InboxItemContent} at its new version); `delete`: an item was deleted
   * ({@link DeleteEvent}). An `update` or `delete` of a device-targeted item has that `deviceId`
   * (replayed to that device only); a `state` event is for every device of the client.
   */
  readonly kind?: 'state' | 'update' | 'delete';
  /** The event's payload, by `kind`; absent on notifications. */
  readonly event?: StateEvent | InboxItemContent | DeleteEvent;
  /** A notification's content version: 1 (updates are `update` events with the next one). Absent on events. */
  readonly version?: number;
  /** The notification's collapse key, when it was published with one. */
  readonly collapseKey?: string;
  /** The id of the item this notification's collapse key replaced. */
  readonly replaces?: string;
  /** Devices that never get a frame for this notification (replay leaves it out for them). */
  readonly excludeDevices?: readonly string[];
  /**
   * Transient, never stored: on a `state` event the node routes, the client's counts as each device
   * sees them, read once after the change (see {@link EventCounts}); sessions pick theirs when they
   * send the frame. Absent on what a store hands out: the node adds current counts before sending.
   */
  readonly counts?: EventCounts;
}

/**
 * The inbox counts of every view of one client at one moment, as a `state` event carries them to
 * the nodes holding the client's devices. A device's counts differ from `base` (what a device sees
 * that has no targeted item) only by its own targeted items: `devices` holds the counts of the
 * devices they were read for, so any device it names gets its own, and a device it does not name
 * is one the node has to read for (see HeraldNode.withCounts).
 */
export interface EventCounts {
  /** The counts of a view that no device-targeted item belongs to. */
  base: InboxCounts;
  /** Counts of each device they were read for (its targeted items included). */
  devices: Record<string, InboxCounts>;
}

/** Per-client state of one inbox item, shared by all the client's devices (the wire's shape, protocol/frames.ts). */
export type ItemState = InboxItemState;

/**
 * An inbox item's content (PROTOCOL.md "Inbox"): the wire's shape (protocol/frames.ts), with
 * `data` always present on the server side (null when the publisher gave none). What an `update`
 * event carries.
 */
export interface InboxItemContent extends WireItemContent {
  data: unknown;
}

/** An item as `GET /me/notifications` lists it: its content and the client's state of it. */
export interface InboxItem extends InboxItemContent, ItemState {}

/**
 * The payload of a `state` event: the change as applied. `ids` are the items whose state changed
 * (each once, in the order given); `all` stands for every item `scope` could list at that point
 * of the stream (scope null: every item of the client; a device: client-wide items, broadcasts and
 * that device's targeted items, so another device applies it to everything but its own targeted
 * items). A flag that was not given is absent.
 */
export interface StateEvent {
  ids?: string[];
  all?: true;
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
  /** The device that made the change, or null for the backend. */
  by: string | null;
  /** The view the change applied to: a device, or null for the backend view. */
  scope: string | null;
}

/** The payload of a `delete` event. */
export interface DeleteEvent {
  id: string;
}

/** `filter` of a listing: default (absent) = not archived; `unread` = not read and not archived. */
export type InboxFilter = 'unread' | 'archived' | 'all';

export interface InboxQuery {
  clientId: string;
  /** Whose view: a device (client-wide items, broadcasts, its own targeted items), or null = the backend view (every device's targeted items too). */
  deviceId: string | null;
  /** Page size, 1..100. */
  limit: number;
  /** The `next` of the previous page; null = from the newest item. */
  before: string | null;
  filter?: InboxFilter;
}

export interface InboxCounts {
  /** Items not seen, not archived. */
  unseen: number;
  /** Items not read, not archived. */
  unread: number;
}

export interface InboxPage extends InboxCounts {
  /** Newest first. */
  items: InboxItem[];
  /** Opaque token for the next (older) page, or null: this was the last. */
  next: string | null;
}

/** A change of item states (PROTOCOL.md `POST /me/notifications/state`). Exactly one of `ids` and `all`; at least one flag. */
export interface StateChange {
  /** ≤ 1000 item ids; unknown ones, and ones `scope` cannot list, are ignored. */
  ids?: readonly string[];
  /** Every item `scope` can list, archived or not. */
  all?: true;
  /** true: seen (the first time sets seenAt); false: not seen (and not read). */
  seen?: boolean;
  /** true: read and seen; false: not read (seen stays). */
  read?: boolean;
  archived?: boolean;
  /** The view the change applies to: the device's, or null for the backend's (every item). */
  scope: string | null;
  /** Who makes it: the device id, or null for the backend. Recorded in the event. */
  by: string | null;
}

export interface StateResult extends InboxCounts {
  /** Items whose state changed (each once). */
  updated: number;
  /** The `state` event appended to the client's stream, or null when nothing changed. Counts are `scope`'s view. */
  event: StoredNotification | null;
}

/** `PATCH .../notifications/<id>`: the fields given replace the item's. */
export interface ItemPatch {
  title?: string;
  message?: string;
  data?: unknown;
}

/** What {@link Store.append} did with one publish. */
export interface AppendResult {
  notification: StoredNotification;
  /** The idempotency key matched an earlier notification: nothing new was stored or delivered. */
  duplicate: boolean;
  /** false when ttlMs was 0 (live only). */
  stored: boolean;
  /**
   * Set when the store published the new entry itself as asked by a {@link Publication} (not for a
   * duplicate): the attached target devices cluster-wide, excluded ones not counted (0 for a
   * broadcast, whose `delivered` is the accepting node's own count).
   */
  reached?: number;
  /** With `Publication.pushSubscriptions`: how many the client has (0: no Web Push read needed). */
  pushSubscriptions?: number;
}

/**
 * How a store that shares the cluster's Redis publishes a new entry in the append's own round trip
 * (issue 17: one command per publish), instead of the broker publishing it after. Given by the
 * broker (`Broker.publication`); a store that cannot honour it ignores it and leaves
 * `AppendResult.reached` unset, and the broker then publishes on its own.
 */
export interface Publication {
  /** `PUBLISH` or `SPUBLISH` (sharded pub/sub: Redis ≥ 7, in the stream's own slot). */
  command: 'PUBLISH' | 'SPUBLISH';
  /** The stream's channel (a client's, or the broadcast stream's), in the stream's hash slot. */
  channel: string;
  /** The client's registry hash (same slot), whose attached entries are counted; null for a broadcast. */
  registry: string | null;
  /**
   * The message is a stream-entry message (cluster/wire.ts): `head`, then what the store knows of
   * the new entry (position, previous position, epoch, body, other fields, replaced id), then `tail`.
   */
  head: string;
  tail: string;
  /**
   * The client's Web Push subscription hash when it lives on the same Redis (same slot): its size
   * comes back as `AppendResult.pushSubscriptions`, so a publish to a client without any costs no
   * further read.
   */
  pushSubscriptions?: string;
}

/** What a device missed: asked when a stream starts. */
export interface ReplayQuery {
  clientId: string;
  deviceId: string;
  /**
   * What the device has: its cursor on resume (`broadcasts: true`). For a device without one
   * (`broadcasts: false`), `c`/`ce` is the client's newest acknowledged position and the pending
   * client notifications after it are read (see placePending in store/streams.ts).
   */
  after: Cursor;
  /** Resume: replay the broadcast stream too. Otherwise a pending read, broadcasts skipped. */
  broadcasts: boolean;
  /**
   * A device of the client is connecting: the first time a client is registered this way, its
   * inbox starts taking broadcasts (those whose position is at or after `now`; earlier ones stay
   * out of it, PROTOCOL.md "Inbox"). Later registrations change nothing. @default false
   */
  register?: boolean;
}

/** The notifications a stream starts with, and where the device stands in both streams. */
export interface ReplayResult {
  /** In order within each stream; the two streams merged by time. */
  items: StoredNotification[];
  /** Current heads of both streams (with their epochs), after the items. */
  head: Cursor;
  /**
   * Where the device starts in each stream: `after` where it could be placed, the head where it
   * could not (PROTOCOL.md "A cursor the store cannot place"), or the broadcast head for a pending
   * read. The items follow it.
   */
  from: Cursor;
  /** Something the device should have had is no longer held, or its cursor could not be placed. */
  lost: boolean;
}

/**
 * The message store: append, replay after a cursor, device cursors, idempotency, and the inbox
 * (item states, updates, deletes, collapse keys) whose changes are events in the same streams.
 * Memory (embedded default), Redis and PostgreSQL implement it; the contract suites (test/store/contract.test.ts,
 * test/store/inbox-contract.test.ts) run against every store. PROTOCOL.md is the source of the rules.
 * Every method rejects when the store cannot answer (the caller turns that into 503); the inbox
 * methods throw HERALD_ERR_INVALID naming the field for input they refuse.
 */
export interface Store {
  readonly kind: 'memory' | 'redis' | 'postgres';
  /**
   * Stores a notification (unless `ttlMs` is 0: live only, it takes a position but is no inbox item)
   * at the next position of its stream. A stored one with a `collapseKey` replaces the stream's
   * previous item with that key that is still listed (it leaves listings and counts; the new entry's
   * `replaces` names it; no event). `excludeDevices` is kept on the entry.
   */
  append(target: Target, input: PublishInput, now: number, publication?: Publication): Promise<AppendResult>;
  /**
   * Everything after the device's cursor, notifications and inbox events alike, in stream order:
   * entries for this device (not targeted at another device, not excluding it), not expired.
   * With `register`, also registers the client for broadcasts (no extra round trip).
   */
  replay(q: ReplayQuery, now: number): Promise<ReplayResult>;
  /** Heads of the client's and the broadcast stream. */
  heads(clientId: string): Promise<Cursor>;
  /** Entries (notifications and events) after `after` (exclusive) up to and including `upTo`, of one stream: repairs gaps. */
  range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]>;
  /** The device's acknowledged cursor, if any. */
  getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null>;
  /** The newest client-stream position any device of the client acknowledged, with its epoch. */
  getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null>;
  /**
   * Saves a device's acknowledged cursor and the client's newest ack. Never moves backwards within
   * one stream epoch; a cursor of another epoch replaces the saved one.
   */
  saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void>;
  /** Forgets a removed device's cursor. */
  forgetDevice(clientId: string, deviceId: string): Promise<void>;
  /** Registrations the store keeps beyond a restart (PostgreSQL's devices table), for the operator API. */
  devices?(clientId: string): Promise<DeviceView[]>;
  /** Registrations purged after DEVICE_RETENTION_MS (PostgreSQL's devices table), for `/health/stale`. */
  readonly purgedDevices?: number;
  /**
   * One page of the client's inbox, newest first, and its counts (PROTOCOL.md "Inbox"): the client's
   * notifications and the broadcasts since it registered ({@link ReplayQuery.register}), without
   * expired, deleted or replaced items, as `q.deviceId` sees them. Counts ignore the filter and the
   * page. Invalid `limit` (not an integer 1..100), `filter` or `before`: HERALD_ERR_INVALID.
   */
  listInbox(q: InboxQuery, now: number): Promise<InboxPage>;
  /** The counts of several views of one client at once (null = the backend view), in the order asked. */
  inboxCounts(clientId: string, deviceIds: readonly (string | null)[], now: number): Promise<InboxCounts[]>;
  /**
   * Applies a state change atomically and, when at least one item changed, appends one `state`
   * event to the client's stream. Ids are looked up in the client's own stream and its broadcasts
   * only, so a client never touches another's items. Invalid input (neither or both of `ids` and
   * `all`, more than 1000 ids, no flag, `seen: false` with `read: true`): HERALD_ERR_INVALID.
   */
  setState(clientId: string, change: StateChange, now: number): Promise<StateResult>;
  /**
   * Replaces the given fields of a listed item (a client's; null = a broadcast, changed for every
   * client), bumps its version, and appends an `update` event to its stream. null when the item is
   * not listed (unknown, deleted, replaced, expired or gone from retention): a 404 upstream.
   */
  updateItem(clientId: string | null, id: string, patch: ItemPatch, now: number): Promise<{ item: InboxItemContent; event: StoredNotification } | null>;
  /** Deletes a listed item (null client = a broadcast, for everyone) and appends a `delete` event; null as for updateItem. */
  deleteItem(clientId: string | null, id: string, now: number): Promise<{ event: StoredNotification } | null>;
  close(): Promise<void>;
}

/** A device and a client as the operator API shows them (PROTOCOL.md "JSON shapes"). */
export type { ClientView, DeviceView } from '../protocol/json-shapes.js';
