/** Herald's public API for embedding a node and for tools. The client SDK is `herald/client`. */

export { signDeviceToken } from './auth/auth.js';
export type { Broker } from './core/broker.js';
export { CONFIG_SPEC, type ConfigInput, configTableMarkdown, type HeraldConfig, resolveConfig } from './core/config.js';
export { DISCONNECTS, type DisconnectReason } from './core/disconnect.js';
export { ERROR_CODES, HeraldError, type HeraldErrorCode } from './core/errors.js';
export { type InboxEvent, inboxEvent } from './core/inbox.js';
export { HeraldNode, type PublishResult } from './core/node.js';
export type { PresenceEvent } from './core/presence.js';
export type {
  DeleteEvent,
  InboxCounts,
  InboxFilter,
  InboxItem,
  InboxItemContent,
  InboxPage,
  InboxQuery,
  ItemPatch,
  ItemState,
  PublishInput,
  StateChange,
  StateEvent,
  StateResult,
  Store,
  StoredNotification,
  Target,
} from './core/types.js';
export { type Herald, type StartOptions, startHerald } from './server.js';
