/**
 * Herald's error codes: one table, each code with its HTTP status and gRPC status name.
 * Thrown as {@link HeraldError}; the API layer maps them to responses, the gRPC layer to statuses.
 * `test/core/errors.test.ts` checks that the README documents every code.
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
} as const;

export type HeraldErrorCode = keyof typeof ERROR_CODES;

export class HeraldError extends Error {
  readonly code: HeraldErrorCode;
  readonly statusCode: number;
  /** The field at fault, for HERALD_ERR_INVALID. */
  readonly field?: string;

  constructor(code: HeraldErrorCode, message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldError';
    this.code = code;
    this.statusCode = ERROR_CODES[code].http;
    this.field = options?.field;
  }

  get grpcStatus(): string {
    return ERROR_CODES[this.code].grpc;
  }
}

export function invalid(field: string, message: string): HeraldError {
  return new HeraldError('HERALD_ERR_INVALID', `${field}: ${message}`, { field });
}
