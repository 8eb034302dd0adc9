import { isUtf8 } from 'node:buffer';
import { create, type DescMessage, type DescMethod, fromBinary, ScalarType, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { invalid } from '../../core/errors.js';
import { Notifications } from '../../gen/herald/v1/notifications_pb.js';

/**
 * `herald.v1.Notifications` for the grpc-js server, from the schemas protoc-gen-es generated
 * (`npm run gen:proto`): requests decode to, and answers encode from, the same messages the
 * gRPC-Web/Connect handlers use, so one set of rules (./rules.ts) serves both. StreamNotifications'
 * messages are written as bytes the transport encoded itself (./encoder.ts), so its serializer
 * passes Buffers through: a broadcast's shared bytes are encoded once, not once per device.
 */
export function notificationsService(): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of Notifications.methods) {
    const streaming = method.methodKind === 'server_streaming';
    def[method.name] = {
      path: `/${Notifications.typeName}/${method.name}`,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: (m) => Buffer.from(toBinary(method.input, create(method.input, m as never))),
      requestDeserialize: requestDecoder(method),
      responseSerialize: streaming ? (bytes) => bytes as Buffer : (m) => Buffer.from(toBinary(method.output, create(method.output, m as never))),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
      originalName: method.localName,
    };
  }
  return def;
}

/**
 * On a request that could not be decoded: the name of its first string field whose bytes on the
 * wire were not valid UTF-8 (a lone surrogate as a JavaScript protobuf writer encodes it, say).
 * The decoder refuses such a message outright, which grpc-js would answer INTERNAL; so the raw
 * message is checked first and the call answered INVALID_ARGUMENT naming the field.
 */
export const MALFORMED_UTF8 = Symbol('herald.malformedUtf8');

function requestDecoder(method: DescMethod): (bytes: Buffer) => unknown {
  const input = method.input;
  const strings = stringFields(input);
  return (bytes) => {
    const field = malformedUtf8Field(bytes, strings);
    if (field === undefined) return fromBinary(input, bytes);
    return Object.assign(create(input), { [MALFORMED_UTF8]: field });
  };
}

/** A message's top-level string fields, repeated ones included: number → proto name. */
export function stringFields(desc: DescMessage): Map<number, string> {
  const strings = desc.fields.filter(
    (f) => (f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar')) && f.scalar === ScalarType.STRING,
  );
  return new Map(strings.map((f) => [f.number, f.name]));
}

/** The request, unless one of its strings was not valid UTF-8 on the wire: HERALD_ERR_INVALID naming it. */
export function wellFormedUtf8<R extends object>(request: R): R {
  const field = (request as { [MALFORMED_UTF8]?: string })[MALFORMED_UTF8];
  if (field) throw invalid(field, 'must be well-formed UTF-8');
  return request;
}

/**
 * The first of `strings` (field number → name) among a message's top-level fields whose bytes are
 * not valid UTF-8. A message that does not parse is left to the decoder to refuse.
 */
export function malformedUtf8Field(bytes: Uint8Array, strings: ReadonlyMap<number, string>): string | undefined {
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
