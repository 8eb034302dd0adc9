import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { NotificationsDefinition } from './gen/herald/v1/Notifications.js';

/** `proto/herald/v1/notifications.proto` (same depth under src/ and dist/). */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/herald/v1/notifications.proto', import.meta.url));

/** Must match the flags of `npm run gen:proto` (scripts/gen-proto.mjs), or the generated types lie. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, defaults: true, oneofs: true };

/**
 * `herald.v1.Notifications` for the server. StreamNotifications' messages are written as bytes
 * the transport encoded itself (see ./connection.ts), so its serializer passes Buffers through:
 * a broadcast's shared bytes are encoded once, not once per device by protobufjs.
 */
export function notificationsService(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  const service = def['herald.v1.Notifications'] as unknown as NotificationsDefinition;
  return {
    ...service,
    StreamNotifications: { ...service.StreamNotifications, responseSerialize: (bytes: Buffer) => bytes },
  } as grpc.ServiceDefinition;
}
