import { Code, ConnectError } from '@connectrpc/connect';
import { toHeraldError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { printableAscii } from '../grpc/status.js';

/**
 * The gRPC-Web/Connect twin of ../grpc/status.ts: an error → the same status code (Connect's
 * codes are gRPC's), with the stable code and the field at fault in `herald-error-code` /
 * `herald-error-field` (trailers on gRPC-Web, error metadata on Connect). Anything that is not a
 * HeraldError is logged and answered INTERNAL without details.
 */
export function toConnectError(err: unknown, log: Pick<Logger, 'error'>): ConnectError {
  const e = toHeraldError(err, log, 'gRPC-Web/Connect call');
  const metadata = new Headers({ 'herald-error-code': e.code });
  if (e.field) metadata.set('herald-error-field', printableAscii(e.field));
  return new ConnectError(e.message, CODE_OF_STATUS[e.grpcStatus] ?? Code.Internal, metadata);
}

/** `INVALID_ARGUMENT` → Code.InvalidArgument, for every code. */
const CODE_OF_STATUS: Record<string, Code> = Object.fromEntries(
  Object.entries(Code)
    .filter((e): e is [string, Code] => typeof e[1] === 'number')
    .map(([name, code]) => [name.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c : `_${c}`)).toUpperCase(), code]),
);
