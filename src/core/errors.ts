import type { Logger } from './logger.js';

/**
 * Herald's error codes: one table, each code with its HTTP status and gRPC status name.
 * Thrown as {@link HeraldError}; each protocol maps them in one place (HTTP: `api/http.ts`,
 * handshake refusals: `transports/handshake.ts`, gRPC: `transports/grpc/status.ts`), and anything
 * that is not a HeraldError becomes HERALD_ERR_INTERNAL there, through {@link toHeraldError}.
 * `test/core/docs.test.ts` checks that the README documents every code (`npm run docs`).
 */
export const ERROR_CODES = {
  HERALD_ERR_CONFIG: { http: 500, grpc: 'FAILED_PRECONDITION', doc: 'Invalid configuration at start-up.' },
  HERALD_ERR_INVALID: { http: 400, grpc: 'INVALID_ARGUMENT', doc: 'A field is missing or malformed; the message names it.' },
  HERALD_ERR_UNAUTHORIZED: { http: 401, grpc: 'UNAUTHENTICATED', doc: 'Missing or wrong API key or device token.' },
  HERALD_ERR_FORBIDDEN: { http: 403, grpc: 'PERMISSION_DENIED', doc: 'Origin not allowed, or a token acting for another client.' },
  HERALD_ERR_NOT_FOUND: { http: 404, grpc: 'NOT_FOUND', doc: 'Unknown route, connection or device.' },
  HERALD_ERR_TOO_LARGE: { http: 413, grpc: 'INVALID_ARGUMENT', doc: 'Body or frame over the configured limit.' },
  HERALD_ERR_CLIENT_LIMIT: { http: 429, grpc: 'RESOURCE_EXHAUSTED', doc: 'Per-client device limit reached with policy `reject`.' },
  HERALD_ERR_FULL: { http: 503, grpc: 'UNAVAILABLE', doc: 'Node at its connection limit.' },
  HERALD_ERR_DRAINING: { http: 503, grpc: 'UNAVAILABLE', doc: 'Node is shutting down.' },
  HERALD_ERR_STORE_UNAVAILABLE: { http: 503, grpc: 'UNAVAILABLE', doc: 'The message store cannot keep the notification now; nothing was published.' },
  HERALD_ERR_INTERNAL: {
    http: 500,
    grpc: 'INTERNAL',
    doc: "An unexpected fault in the server, not the caller's; logged with its stack, answered without details on every protocol.",
  },
} as const;

export type HeraldErrorCode = keyof typeof ERROR_CODES;

export interface HeraldErrorOptions {
  cause?: unknown;
  /** The field at fault, for HERALD_ERR_INVALID. */
  field?: string;
  /**
   * An HTTP status other than the code's own: only for client errors the HTTP framework raised
   * with a status of its own (414 for an over-long URL), so the answer keeps it.
   */
  statusCode?: number;
}

/** An error with a stable code (see {@link ERROR_CODES}); `cause` keeps what it came from. */
export class HeraldError extends Error {
  readonly code: HeraldErrorCode;
  readonly statusCode: number;
  /** The field at fault, for HERALD_ERR_INVALID. */
  readonly field?: string;

  constructor(code: HeraldErrorCode, message: string, options?: HeraldErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.statusCode = options?.statusCode ?? ERROR_CODES[code].http;
    this.field = options?.field;
  }

  get grpcStatus(): string {
    return ERROR_CODES[this.code].grpc;
  }
}

/** HERALD_ERR_INVALID naming `field`, with the field's name in front of the message. */
export function invalid(field: string, message: string): HeraldError {
  return new HeraldError('HERALD_ERR_INVALID', `${field}: ${message}`, { field });
}

/**
 * The one rule for errors that are not HeraldErrors, whichever door they came through (an HTTP
 * route, a batch item, a handshake, a gRPC call): they are faults of ours, not the caller's, so
 * they are logged here as an object (stack and cause kept) and answered HERALD_ERR_INTERNAL with
 * no details. A HeraldError is returned as it is.
 */
export function toHeraldError(err: unknown, log: Pick<Logger, 'error'>, what: string): HeraldError {
  if (err instanceof HeraldError) return err;
  log.error({ err }, `${what}: unexpected error`);
  return new HeraldError('HERALD_ERR_INTERNAL', 'internal error', { cause: err });
}

/** The JSON body of an HTTP error answer and of a refused device handshake. */
export interface ErrorBody {
  statusCode: number;
  code: HeraldErrorCode;
  error: string;
  message: string;
  field?: string;
}

/** {@link ErrorBody} of an error: the same shape on every HTTP route and every handshake. */
export function errorBody(e: HeraldError): ErrorBody {
  const body: ErrorBody = { statusCode: e.statusCode, code: e.code, error: e.message, message: e.message };
  if (e.field) body.field = e.field;
  return body;
}
