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
  if (err.field) metadata.set('herald-error-field', err.field);
  return { code: status[err.grpcStatus as keyof typeof status], details: err.message, metadata };
}
