/**
 * The publisher API's bodies and answers (PROTOCOL.md "Publisher API", "Inbox" → "Publisher side",
 * "JSON shapes"), as the SDK sends and reads them. Fields a newer server adds pass through untouched.
 */
import type { HeraldError } from './errors.js';

/** The body of a publish: to a client, one of its devices, or everyone. */
export interface PublishBody {
  title: string;
  message: string;
  /** The publishing service's name, shown to devices. @default 'default' (server side) */
  service?: string;
  /** Any JSON. */
  data?: unknown;
  /**
   * The idempotency key (1–128 of `A-Z a-z 0-9 . _ : - @`): the same key within retention is the
   * same notification, never a second one. @default a UUIDv7 the SDK generates per call
   */
  id?: string;
  /** Delivered live as usual, but not replayed once older than this; 0 = live only. */
  ttlMs?: number;
  /** Web Push `Urgency` for devices reached by push. */
  priority?: 'very-low' | 'low' | 'normal' | 'high';
  /** Replaces the client's previous inbox item with this key (1–128 of `A-Z a-z 0-9 . _ - @`). */
  collapseKey?: string;
  /** Devices that get no frame and no push for it (it is still in their inbox listing). */
  excludeDevices?: string[];
}

/** The answer to a publish: `202 {id, cursor, delivered, stored}`. */
export interface PublishResult {
  /** The notification's id: the idempotency key it was published with. */
  id: string;
  /** Everything up to this notification in its stream. */
  cursor: string;
  /** Devices it was handed to at once (0 for a repeat of a key already published). */
  delivered: number;
  /** Whether it was kept for replay (false for `ttlMs: 0`). */
  stored: boolean;
}

/** One publish of a batch: to `clientId`, or to its `deviceId` only. */
export interface BatchItem extends PublishBody {
  clientId: string;
  deviceId?: string;
}

/** A batch item's outcome, at the item's `index` in the request. */
export type BatchItemResult =
  | ({ index: number; ok: true; status: 202 } & PublishResult)
  | {
      index: number;
      ok: false;
      /** The item's status; null when the batch's own request failed on a later round (network). */
      status: number | null;
      /** The idempotency key it was sent with: a later batch with it stores it at most once. */
      id?: string;
      /** The item's error (`code`, `field` such as `items[3].title`, `status`). */
      error: HeraldError;
    };

export interface BatchResult {
  accepted: number;
  failed: number;
  /** One per item, in the order of the items given. */
  results: BatchItemResult[];
}

/** An inbox item: the notification plus its state, shared by all of the client's devices. */
export interface InboxItem {
  id: string;
  cursor: string;
  /** null for a broadcast. */
  clientId: string | null;
  /** Set when the notification was addressed to one device. */
  deviceId?: string;
  broadcast?: boolean;
  title: string;
  message: string;
  service: string;
  data?: unknown;
  /** Milliseconds since the epoch. */
  ts: number;
  /** 1, then +1 per update. */
  version: number;
  updatedAt: number;
  collapseKey?: string;
  seenAt: number | null;
  readAt: number | null;
  archivedAt: number | null;
}

export interface ListOptions {
  /** List as this device sees it (its targeted items only); without it, every device's. */
  device?: string;
  /** 1–100. @default 20 */
  limit?: number;
  /** The `next` of the previous page. */
  before?: string;
  /** @default what is not archived */
  filter?: 'unread' | 'archived' | 'all';
}

/** A page of the inbox, newest first. */
export interface InboxPage {
  items: InboxItem[];
  unseen: number;
  unread: number;
  /** Pass as `before` for the next page; null on the last. */
  next: string | null;
}

/** A state change: some items (`ids`, at most 1000) or all of them, at least one flag. */
export type StateChange = ({ ids: string[]; all?: never } | { all: true; ids?: never }) & {
  /** As this device (its listing) — `all` then covers what this device can list. */
  device?: string;
  seen?: boolean;
  /** `read: true` also marks seen. */
  read?: boolean;
  archived?: boolean;
};

export interface StateResult {
  /** Items whose state changed. */
  updated: number;
  unseen: number;
  unread: number;
}

/** What an update may change; devices get an `update` frame with the whole item. */
export interface NotificationPatch {
  title?: string;
  message?: string;
  data?: unknown;
}

export interface UpdateResult {
  id: string;
  version: number;
  cursor: string;
}

/** A device of `GET /api/v1/clients/<c>`. */
export interface DeviceInfo {
  deviceId: string;
  connectionId: string;
  transport: 'ws' | 'sse' | 'grpc' | (string & {});
  state: 'attached' | 'detached';
  node: string;
  connectedAt: number;
  lastHeartbeatAt: number | null;
  lastNotificationAt: number | null;
  notificationCount: number;
  rttMs?: number | null;
  /** Subscribed to Web Push. */
  push?: boolean;
}

/** `GET /api/v1/clients/<c>`: a client with no devices is `online: false, devices: []`. */
export interface ClientInfo {
  clientId: string;
  online: boolean;
  /** Per client, increasing: the same epoch as the presence webhooks'. */
  epoch: number;
  devices: DeviceInfo[];
}

/** `GET /api/v1/stats` of the node that answered. */
export interface Stats {
  node: string;
  state: string;
  /** Attached connections. */
  total: number;
  /** Clients online. */
  clients: number;
  byTransport: { ws: number; sse: number; grpc: number };
  /** Registered devices, attached and detached. */
  devices: number;
  sent: number;
  answered: number;
  missed: number;
  zombies: number;
  stale: number;
  cleaned: number;
  detached: number;
  connects: Record<string, number>;
  disconnects: Record<string, number>;
  notifications: { published: number; delivered: number; dropped: number };
  deliveredByTransport: Record<string, number>;
}

/** Per call: cancel it (the promise rejects with the signal's reason, retries stop). */
export interface CallOptions {
  signal?: AbortSignal;
}
