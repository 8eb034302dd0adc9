/** Herald's public API for embedding a node and for tools. The client SDK is `herald/client`. */
export { startHerald, type Herald, type StartOptions } from './server.js';
export { resolveConfig, configTableMarkdown, CONFIG_SPEC, type HeraldConfig, type ConfigInput } from './core/config.js';
export { HeraldError, ERROR_CODES, type HeraldErrorCode } from './core/errors.js';
export { DISCONNECTS, type DisconnectReason } from './core/disconnect.js';
export { signDeviceToken } from './api/auth.js';
export type { PublishInput, Store, StoredNotification, Target } from './core/types.js';
export type { Broker } from './core/broker.js';
export type { PresenceEvent } from './core/presence.js';
export { HeraldNode, type PublishResult } from './core/node.js';
