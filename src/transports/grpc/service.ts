import { isUtf8 } from 'node:buffer';
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
    // The free-text publish fields; ids and cursors fail their own patterns when decoding replaced bytes.
    SendNotification: checkingUtf8(service.SendNotification),
    Broadcast: checkingUtf8(service.Broadcast),
  } as grpc.ServiceDefinition;
}

/**
 * On a decoded request: the name of its first string field whose bytes on the wire were not valid
 * UTF-8 (a lone surrogate as a JavaScript protobuf writer encodes it, say). protobufjs decodes such
 * bytes to U+FFFD without a word, so the raw message is checked before it is decoded.
 */
export const MALFORMED_UTF8 = Symbol('herald.malformedUtf8');

type Method = { requestDeserialize: (bytes: Buffer) => unknown; requestType: { type: unknown } };

function checkingUtf8<M extends Method>(method: M): M {
  const fields = (method.requestType.type as { field: { name: string; number: number; type: string }[] }).field;
  const strings = new Map(fields.filter((f) => f.type === 'TYPE_STRING').map((f) => [f.number, f.name]));
  const decode = method.requestDeserialize;
  return {
    ...method,
    requestDeserialize: (bytes: Buffer) => {
      const message = decode(bytes) as Record<symbol, string>;
      const field = malformedUtf8Field(bytes, strings);
      if (field) message[MALFORMED_UTF8] = field;
      return message;
    },
  };
}

/**
 * The first of `strings` (field number → name) among a message's top-level fields whose bytes are
 * not valid UTF-8. A message that does not parse is left to protobufjs to refuse.
 */
export function malformedUtf8Field(bytes: Buffer, strings: ReadonlyMap<number, string>): string | undefined {
  let pos = 0;
  /** A varint, or -1 past the end. */
  const varint = (): number => {
    let n = 0;
    for (let mul = 1; pos < bytes.length; mul *= 0x80) {
      const b = bytes[pos++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
    }
    return -1;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag < 0) return undefined;
    switch (tag & 7) {
      case 0:
        if (varint() < 0) return undefined;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const len = varint();
        if (len < 0 || pos + len > bytes.length) return undefined;
        const name = strings.get(Math.floor(tag / 8));
        if (name !== undefined && !isUtf8(bytes.subarray(pos, pos + len))) return name;
        pos += len;
        break;
      }
      default:
        return undefined;
    }
  }
  return undefined;
}
