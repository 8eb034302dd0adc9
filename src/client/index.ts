/**
 * `herald/client`: the device side of Herald for browsers and Node — WebSocket or SSE, pong,
 * batched acks, resume by cursor, dedupe, reconnect with backoff and full jitter, token refresh,
 * and dead-server detection that survives throttled background tabs.
 *
 * In Node 20 pass the constructors the runtime lacks:
 * `connect({ ..., WebSocket })` with `import WebSocket from 'ws'`, and for SSE
 * `connect({ ..., transport: 'sse', EventSource })` with `import { EventSource } from 'eventsource'`.
 *
 * `conn.inbox` is the device's side of the shared inbox: list, mark read/seen, archive, and the
 * items and unseen/unread counts kept current live across all of the client's devices.
 */
export { DISCONNECTS, type DisconnectReason } from '../protocol/close-codes.js';
export type {
  DeleteFrame,
  HeraldNotification,
  InboxCounts,
  InboxItem,
  InboxItemContent,
  InboxItemState,
  InboxPage,
  PingFrame,
  ServerFrame,
  ShutdownFrame,
  StateFlags,
  StateFrame,
  StateResult,
  TokenExpiredFrame,
  UpdateFrame,
  WelcomeFrame,
} from '../protocol/frames.js';
export { BACKOFF_DEFAULTS, type BackoffOptions, backoffCeiling, backoffDelay } from './backoff.js';
export type { Clock } from './clock.js';
export { connect, HeraldConnection } from './connection.js';
export { HeraldRequestError } from './device-http.js';
export type { ClosedInfo, ConnectionState, DisconnectInfo, HeraldEvents, StateChange } from './events.js';
export type { Inbox, InboxEvents, InboxListOptions, InboxTarget } from './inbox.js';
export { type DeadVerdict, type LivenessOptions, LivenessWatch } from './liveness.js';
export type { ConnectOptions, CursorStorage } from './options.js';
export {
  ackPushed,
  base64UrlToBytes,
  type PushedNotification,
  type PushTarget,
  pushHandler,
  registerPush,
  unregisterPush,
} from './push.js';
export { RecentIds } from './recent-ids.js';
export type { EventSourceConstructor, WebSocketConstructor } from './streams.js';
