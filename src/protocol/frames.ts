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
  /** The id of the inbox item this notification's collapse key replaced (it left the inbox; no `delete` follows). */
  replaces?: string;
}

/** The client's inbox counts over what this device can list (PROTOCOL.md "Inbox"). */
export interface InboxCountsFields {
  /** Items not seen and not archived. */
  unseen: number;
  /** Items not read and not archived. */
  unread: number;
}

/**
 * Item states changed (on any of the client's devices, or by the backend: `by: null`). `ids` are
 * the items whose state changed; `all` stands for every item the changing view could list (a
 * device's: everything but other devices' targeted items). A flag not given is absent. The counts
 * are this device's, computed when the frame was sent (a replayed frame carries current ones).
 */
export interface StateFrame extends InboxCountsFields {
  type: 'state';
  ids?: string[];
  all?: true;
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
  /** The device that made the change, or null for the backend. */
  by: string | null;
  cursor: string;
}

/** An inbox item's content changed: the whole content at its new `version` (its state is in `state` frames). */
export interface UpdateFrame {
  type: 'update';
  id: string;
  /** The receiving client. */
  clientId: string;
  /** Set on a device-targeted item. */
  deviceId?: string;
  /** Set on a broadcast (its update reaches every client). */
  broadcast?: true;
  title: string;
  message: string;
  service: string;
  data: unknown;
  /** When the notification was published, ms since the epoch. */
  ts: number;
  /** 1, then +1 per update. */
  version: number;
  updatedAt: number;
  collapseKey?: string;
  cursor: string;
}

/** An inbox item was deleted: it leaves listings and counts. */
export interface DeleteFrame {
  type: 'delete';
  id: string;
  cursor: string;
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
  /** The device's inbox counts when the stream started (this server always sends them). */
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

/** Everything the server sends a device. */
export type ServerFrame =
  | HeraldNotification
  | StateFrame
  | UpdateFrame
  | DeleteFrame
  | WelcomeFrame
  | PingFrame
  | PongFrame
  | ShutdownFrame
  | TokenExpiredFrame
  | CloseFrame;

/** Frame types a device listens for on an SSE stream (`event: <type>`). */
export const SERVER_FRAME_TYPES = [
  'welcome',
  'notification',
  'state',
  'update',
  'delete',
  'ping',
  'pong',
  'shutdown',
  'token-expired',
  'close',
] as const satisfies readonly ServerFrame['type'][];

/**
 * A change of item states a device makes over its WebSocket (the same as `POST
 * /me/notifications/state` without `device`): exactly one of `ids` (at most 1000) and `all: true`,
 * at least one flag. The answer is the `state` frame every device of the client gets; a change
 * that changes nothing sends none.
 */
export interface StateRequestFrame {
  type: 'state';
  ids?: string[];
  all?: true;
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
}

/**
 * What a device sends on a WebSocket (SSE and gRPC devices answer by `POST /sse/ack` and the
 * `Ack` RPC): `pong` answers a `ping`, `ack` advances the device's stored cursor, `ping` asks
 * the server for a sign of life, `state` changes inbox item states. Anything else closes the
 * stream 4400.
 */
export type DeviceFrame = { type: 'pong' } | { type: 'ack'; cursor: string } | { type: 'ping' } | StateRequestFrame;
