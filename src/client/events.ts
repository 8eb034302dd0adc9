import type { HeraldNotification, ShutdownFrame, TokenExpiredFrame, WelcomeFrame } from '../protocol/frames.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
}

/** A stream ended. */
export interface DisconnectInfo {
  /** The close code (WebSocket close, SSE `close` event); null when the socket just went away. */
  code: number | null;
  /**
   * The close name from the protocol's table (`zombie`, `restart`, `removed`, …), or: `gone` (the
   * socket went away), `timeout` (no data for too long: the server is presumed gone),
   * `token-refresh` (reconnecting with a new token), `refused` (an HTTP refusal).
   */
  reason: string;
  /** The HTTP status of a refused handshake, when the runtime shows it (Node, not browsers). */
  status?: number;
  /** Whether the SDK reconnects on its own. */
  reconnect: boolean;
  /** When reconnecting: in how many ms (the server's `shutdown` hint, or the backoff). */
  delayMs: number | null;
}

/** Why the connection is over for good. */
export interface ClosedInfo {
  /** `client` (you called `close()`), `left`, or a close name: `replaced`, `removed`, `client-limit`, `unauthorized`, `bad-frame`, `normal`, `refused`. */
  reason: string;
  code: number | null;
  status?: number;
}

/** The events of a {@link HeraldConnection} and what their listeners receive. */
export interface HeraldEvents {
  /** A notification, once per id, in delivery order. */
  notification: HeraldNotification;
  /** The connection state changed (for a UI). */
  state: StateChange;
  /** A stream started; `resumed: false` means something was lost: refetch if it matters. */
  welcome: WelcomeFrame;
  /** A stream ended (followed by a reconnect, or by `closed`). */
  disconnected: DisconnectInfo;
  /** The node is draining; the SDK reconnects `reconnectAfterMs` after this (for a UI: "reconnecting soon"). */
  shutdown: ShutdownFrame;
  /** The token is expiring; with `getToken` the SDK reconnects with a fresh one by itself. */
  'token-expired': TokenExpiredFrame;
  /** Something went wrong that the SDK works around (a failing `getToken`, an ack refused, …). */
  error: Error;
  /** The connection is over for good; `state` is `closed`. */
  closed: ClosedInfo;
}
