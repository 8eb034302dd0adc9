/**
 * What the server sends a device (PROTOCOL.md "Messages server → device"), as the SDK sees it.
 * Only what a device reads is typed; unknown fields pass through untouched.
 */

/** A notification as delivered to this device. */
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
  /** Where the device stands once those `pending` notifications have arrived. */
  cursor?: string;
}

export interface PingFrame {
  type: 'ping';
  ts: number;
}

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
  graceMs?: number;
}

/** SSE only: the last event of a stream the server ends (the WebSocket close code's twin). */
export interface CloseFrame {
  type: 'close';
  code: number;
  reason: string;
}

export type ServerFrame = HeraldNotification | WelcomeFrame | PingFrame | PongFrame | ShutdownFrame | TokenExpiredFrame | CloseFrame;

/** Frame types the SDK listens for on an SSE stream (`event: <type>`). */
export const SERVER_FRAME_TYPES = ['welcome', 'notification', 'ping', 'pong', 'shutdown', 'token-expired', 'close'] as const;
