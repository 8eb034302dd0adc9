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
export type ServerFrame = HeraldNotification | WelcomeFrame | PingFrame | PongFrame | ShutdownFrame | TokenExpiredFrame | CloseFrame;

/** Frame types a device listens for on an SSE stream (`event: <type>`). */
export const SERVER_FRAME_TYPES = [
  'welcome',
  'notification',
  'ping',
  'pong',
  'shutdown',
  'token-expired',
  'close',
] as const satisfies readonly ServerFrame['type'][];

/**
 * What a device sends on a WebSocket (SSE and gRPC devices answer by `POST /sse/ack` and the
 * `Ack` RPC): `pong` answers a `ping`, `ack` advances the device's stored cursor, `ping` asks
 * the server for a sign of life. Anything else closes the stream 4400.
 */
export type DeviceFrame = { type: 'pong' } | { type: 'ack'; cursor: string } | { type: 'ping' };
