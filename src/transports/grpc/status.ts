import { Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { toHeraldError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

/**
 * The one gRPC mapping: an error → its status. A HeraldError gets its own status name
 * (core/errors.ts), with its stable code (and the field at fault) in trailing metadata
 * `herald-error-code` / `herald-error-field`. Anything else is logged and answered INTERNAL
 * (HERALD_ERR_INTERNAL) with no details, like the HTTP API's 500.
 */
export function toStatus(err: unknown, log: Pick<Logger, 'error'>): StatusObject {
  const e = toHeraldError(err, log, 'gRPC call');
  const metadata = new Metadata();
  metadata.set('herald-error-code', e.code);
  if (e.field) metadata.set('herald-error-field', printableAscii(e.field));
  return { code: status[e.grpcStatus as keyof typeof status], details: e.message, metadata };
}

/**
 * Metadata values must be printable ASCII (grpc-js throws otherwise, and the call never ends). A
 * field path can hold the publisher's own text (a key in `data`), so anything else, and `%`, is
 * percent-encoded as UTF-8, as gRPC does for `grpc-message`.
 */
export function printableAscii(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]+/g, (s) => encodeURIComponent(s.toWellFormed()));
}
