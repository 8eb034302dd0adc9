/**
 * The JSON frames of a device stream (PROTOCOL.md "Messages server → device" and "device →
 * server"): the WebSocket text frames, the `data:` of SSE events (`event: <type>`), and the
 * events gRPC carries in its `Notification` message. The server builds them and the SDK reads
 * them from these types, so the two cannot drift. Only what a device reads is typed; a reader
 * lets unknown fields pass through untouched.
 */
import type { DisconnectReason } from './close-codes.js';

/** A notification as delivered to one device. */
export interface HeraldNotification {
  type: 'notification';
  /** Server-chosen (UUIDv7) or the publisher's idempotency key: the same id is the same notification. */
  id: string;
  /** Opaque resume position; the SDK keeps the last one and resumes from it. */
  cursor: string;
  clientId: string;
  /** Set when the notification was addressed to this one device. */
  deviceId?: string;
  /** Set on broadcasts. */
  broadcast?: boolean;
  title: string;
  message: string;
  service: string;
  data?: unknown;
  /** Milliseconds since the epoch. */
  ts: number;
  /** The collapse key it was published with (PROTOCOL.md "Inbox"). */
  collapseKey?: string;
  /** The id of the inbox item this one replaces (same collapse key): that item leaves the inbox; no `delete` follows. */
  replaces?: string;
}

/** The first frame of every stream. */
export interface WelcomeFrame {
  type: 'welcome';
  connectionId: string;
  heartbeat: { intervalMs: number; timeoutMs: number };
  /** The cursor was honoured and nothing the device should have received was lost. */
  resumed: boolean;
  /** How many stored notifications follow. */
  pending: number;
  /** Where the device stands once those `pending` notifications have arrived (this server always sends it). */
  cursor?: string;
  /** The device's inbox counts when the stream started (this server always sends them; absent from one without an inbox). */
  unseen?: number;
  unread?: number;
}

/** The application heartbeat: the device answers `pong` (PROTOCOL.md: protocol pings are not enough). */
export interface PingFrame {
  type: 'ping';
  ts: number;
}

/** The server's answer to a device's `ping` (a liveness probe after a wake-up). */
export interface PongFrame {
  type: 'pong';
  ts: number;
}

export interface ShutdownFrame {
  type: 'shutdown';
  /** The node is draining: reconnect after this long (already jittered by the server). */
  reconnectAfterMs: number;
}

export interface TokenExpiredFrame {
  type: 'token-expired';
  /** How long the stream stays open for a reconnect with a fresh token (this server always sends it). */
  graceMs?: number;
}

/** The last event of a stream the server ends (SSE `event: close`, gRPC `close`): the WebSocket close code's twin. */
export interface CloseFrame {
  type: 'close';
  code: number;
  reason: DisconnectReason;
}

// ---- the inbox (PROTOCOL.md "Inbox") ----

/** A device's inbox counts: items not archived (nor deleted, expired, out of retention) that are not seen / not read. */
export interface InboxCounts {
  unseen: number;
  unread: number;
}

/** Per-client state of one inbox item, shared by all of the client's devices: ms since the epoch, or null. */
export interface InboxItemState {
  seenAt: number | null;
  readAt: number | null;
  archivedAt: number | null;
}

/** An inbox item's content: the notification's fields plus its version. */
export interface InboxItemContent {
  id: string;
  /** The listing client (absent in a broadcast's `update` frame: broadcast updates are global). */
  clientId?: string;
  /** Set on an item addressed to one device. */
  deviceId?: string;
  /** Set on broadcasts. */
  broadcast?: true;
  title: string;
  message: string;
  service: string;
  data?: unknown;
  /** When it was published, ms since the epoch. */
  ts: number;
  /** 1, then +1 per update. */
  version: number;
  /** ms since the epoch: `ts` until the first update. */
  updatedAt: number;
  collapseKey?: string;
}

/** An item as `GET /me/notifications` lists it: its content and the client's state of it. */
export interface InboxItem extends InboxItemContent, InboxItemState {}

/** `GET /me/notifications` (and the publisher's `GET /api/v1/clients/<c>/notifications`). */
export interface InboxPage extends InboxCounts {
  /** Newest first. */
  items: InboxItem[];
  /** `before=` for the next (older) page; null: this was the last. */
  next: string | null;
}

/** The flags of a state change: `read: true` also marks seen; `seen: false` also marks unread. */
export interface StateFlags {
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
}

/** `POST /me/notifications/state` answers this. */
export interface StateResult extends InboxCounts {
  /** How many items' state changed (each once). */
  updated: number;
}

/**
 * Item states changed (by one of the client's devices or by the backend). `ids` are the items whose
 * state changed; `all` stands for every item the changing view could list (a device's change does
 * not touch another device's targeted items). The counts are the receiving device's, computed
 * when the frame was sent to it.
 */
export interface StateFrame extends StateFlags, InboxCounts {
  type: 'state';
  cursor: string;
  ids?: string[];
  all?: true;
  /** The device that made the change, or null for the backend. */
  by: string | null;
}

/** An item's content changed: the whole item at its new `version` (its state is in `state` frames). */
export interface UpdateFrame extends InboxItemContent {
  type: 'update';
  /** The receiving client. */
  clientId: string;
  cursor: string;
}

/** An item was deleted: it leaves listings and counts. */
export interface DeleteFrame {
  type: 'delete';
  cursor: string;
  id: string;
}

/** Everything the server sends a device. */
export type ServerFrame =
  | HeraldNotification
  | WelcomeFrame
  | PingFrame
  | PongFrame
  | ShutdownFrame
  | TokenExpiredFrame
  | CloseFrame
  | StateFrame
  | UpdateFrame
  | DeleteFrame;

/** Frame types a device listens for on an SSE stream (`event: <type>`). */
export const SERVER_FRAME_TYPES = [
  'welcome',
  'notification',
  'ping',
  'pong',
  'shutdown',
  'token-expired',
  'close',
  'state',
  'update',
  'delete',
] as const satisfies readonly ServerFrame['type'][];

/**
 * A change of item states a device makes over its WebSocket (the same as `POST
 * /me/notifications/state` without `device`): exactly one of `ids` (at most 1000) and `all: true`,
 * at least one flag. The answer is the `state` frame every device of the client gets; a change
 * that changes nothing sends none.
 */
export type StateRequestFrame = { type: 'state' } & StateFlags & ({ ids: string[]; all?: never } | { all: true; ids?: never });

/**
 * What a device sends on a WebSocket (SSE and gRPC devices answer by `POST /sse/ack` and the
 * `Ack` RPC): `pong` answers a `ping`, `ack` advances the device's stored cursor, `ping` asks
 * the server for a sign of life, `state` changes inbox item states. Anything else closes the
 * stream 4400.
 */
export type DeviceFrame = { type: 'pong' } | { type: 'ack'; cursor: string } | { type: 'ping' } | StateRequestFrame;
