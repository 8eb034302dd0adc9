/**
 * The publisher API's bodies and answers (PROTOCOL.md "Publisher API", "Inbox" → "Publisher side",
 * "JSON shapes"), as the SDK sends and reads them. Fields a newer server adds pass through untouched.
 */
import type { HeraldNotification } from '../protocol/frames.js';
import type { ClientView, DeviceView, PublishBody, PublishResult } from '../protocol/json-shapes.js';
import type { HeraldError } from './errors.js';

/** The body of a publish, and its `202` answer. */
export type { PublishBody, PublishResult } from '../protocol/json-shapes.js';

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

/**
 * An inbox item: the notification as devices get it (its frame's fields but `type`), plus its
 * state, shared by all of the client's devices.
 */
export interface InboxItem extends Omit<HeraldNotification, 'type' | 'clientId'> {
  /** null for a broadcast. */
  clientId: string | null;
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
export interface DeviceInfo extends DeviceView {
  /** Subscribed to Web Push. */
  push?: boolean;
}

/** `GET /api/v1/clients/<c>`: a client with no devices is `online: false, devices: []`. */
export type ClientInfo = ClientView<DeviceInfo>;

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
