/**
 * `herald/client`: the device side of Herald for browsers and Node — WebSocket or SSE, pong,
 * batched acks, resume by cursor, dedupe, reconnect with backoff and full jitter, token refresh,
 * and dead-server detection that survives throttled background tabs.
 *
 * In Node 20 pass the constructors the runtime lacks:
 * `connect({ ..., WebSocket })` with `import WebSocket from 'ws'`, and for SSE
 * `connect({ ..., transport: 'sse', EventSource })` with `import { EventSource } from 'eventsource'`.
 */
export { DISCONNECTS, type DisconnectReason } from '../protocol/close-codes.js';
export type { HeraldNotification, PingFrame, ServerFrame, ShutdownFrame, TokenExpiredFrame, WelcomeFrame } from '../protocol/frames.js';
export { BACKOFF_DEFAULTS, type BackoffOptions, backoffCeiling, backoffDelay } from './backoff.js';
export type { Clock } from './clock.js';
export { connect, HeraldConnection } from './connection.js';
export type { ClosedInfo, ConnectionState, DisconnectInfo, HeraldEvents, StateChange } from './events.js';
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
