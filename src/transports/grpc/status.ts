import { Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { HeraldError } from '../../core/errors.js';

/**
 * A gRPC status for an error: a HeraldError's own status name (core/errors.ts), with its stable
 * code (and the field at fault) in trailing metadata `herald-error-code` / `herald-error-field`.
 * Anything else is INTERNAL without details, like the HTTP API's 500.
 */
export function toStatus(err: unknown): StatusObject {
  const metadata = new Metadata();
  if (!(err instanceof HeraldError)) return { code: status.INTERNAL, details: 'internal error', metadata };
  metadata.set('herald-error-code', err.code);
  if (err.field) metadata.set('herald-error-field', printableAscii(err.field));
  return { code: status[err.grpcStatus as keyof typeof status], details: err.message, metadata };
}

/**
 * Metadata values must be printable ASCII (grpc-js throws otherwise, and the call never ends). A
 * field path can hold the publisher's own text (a key in `data`), so anything else, and `%`, is
 * percent-encoded as UTF-8, as gRPC does for `grpc-message`.
 */
function printableAscii(value: string): string {
  return value.replace(/[^\x20-\x24\x26-\x7e]+/g, (s) => encodeURIComponent(s.toWellFormed()));
}
