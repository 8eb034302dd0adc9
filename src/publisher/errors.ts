import type { HeraldErrorCode } from '../core/errors.js';

/**
 * Codes only the SDK produces (the server's are `HERALD_ERR_*` of the README's error table):
 * - `HERALD_ERR_NETWORK`: no answer after the last attempt — connection refused or reset, DNS
 *   failure, or `timeoutMs` passed. `cause` is the last underlying error.
 * - `HERALD_ERR_RESPONSE`: an answer that is not Herald's — an error status without a Herald error
 *   body (e.g. a proxy's 502 page), or a success whose body is not the JSON expected.
 */
export type PublisherOnlyErrorCode = 'HERALD_ERR_NETWORK' | 'HERALD_ERR_RESPONSE';

/**
 * Every code a {@link HeraldError} can carry. `string & {}` keeps codes a newer server may add
 * assignable without losing the completion of the known ones.
 */
export type PublisherErrorCode = HeraldErrorCode | PublisherOnlyErrorCode | (string & {});

/** Statuses a retry may cure: the node or a proxy in front of it could not take the request now. */
const RETRYABLE_STATUS = new Set([502, 503, 504]);

export interface HeraldErrorInit {
  /** HTTP status of the answer; null when there was none (network, or an argument checked locally). */
  status: number | null;
  field?: string;
  /** The answer's body: the parsed JSON error, or the raw text when it was not JSON. */
  body?: unknown;
  /** Requests made, retries included (0 when an argument was refused before any request). */
  attempts?: number;
  /** The idempotency key the publish was sent with: publish again with it and it is stored at most once. */
  idempotencyKey?: string;
  cause?: unknown;
}

/**
 * What every method of `herald/publisher` rejects with: the API's error (`code`, `status`,
 * `field`, `body`), a network failure after the last retry (`HERALD_ERR_NETWORK`), an answer that
 * is not Herald's (`HERALD_ERR_RESPONSE`), or an argument refused before any request
 * (`HERALD_ERR_INVALID` with `status: null` and the `field`).
 *
 * A class of its own, not the server's `HeraldError` of `herald`: the SDK does not load the server.
 *
 * @example
 * try { await herald.publish('alice', { title, message }) }
 * catch (e) { if (e instanceof HeraldError && e.code === 'HERALD_ERR_INVALID') log.warn(e.field) }
 */
export class HeraldError extends Error {
  override readonly name = 'HeraldError';
  readonly code: PublisherErrorCode;
  readonly status: number | null;
  /** The field at fault, for `HERALD_ERR_INVALID` (e.g. `title`, `items[2].clientId`, `data.list[1]`). */
  readonly field?: string;
  readonly body?: unknown;
  readonly attempts: number;
  readonly idempotencyKey?: string;

  constructor(code: PublisherErrorCode, message: string, init: HeraldErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status;
    if (init.field !== undefined) this.field = init.field;
    if (init.body !== undefined) this.body = init.body;
    this.attempts = init.attempts ?? 0;
    if (init.idempotencyKey !== undefined) this.idempotencyKey = init.idempotencyKey;
  }

  /**
   * Whether the failure is of a kind the SDK retries (network, 502, 503, 504): after the retries
   * ran out, the caller may try again later (a publish with {@link idempotencyKey} as its `id`).
   */
  get retryable(): boolean {
    return this.code === 'HERALD_ERR_NETWORK' || (this.status !== null && RETRYABLE_STATUS.has(this.status));
  }
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** An argument refused before any request, in the server's words (`<field>: <why>`). */
export function invalidArgument(field: string, why: string): HeraldError {
  return new HeraldError('HERALD_ERR_INVALID', `${field}: ${why}`, { status: null, field, attempts: 0 });
}

/**
 * The error of a non-2xx answer: Herald's `{statusCode, code, error, message, field?}`, or
 * `HERALD_ERR_RESPONSE` for a body that is not one (a proxy's page, an empty 502).
 */
export function errorFromResponse(status: number, text: string, extra: { attempts: number; idempotencyKey?: string }): HeraldError {
  let body: unknown = text === '' ? undefined : text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {}
  if (typeof body === 'object' && body !== null) {
    const b = body as { code?: unknown; message?: unknown; error?: unknown; field?: unknown };
    if (typeof b.code === 'string' && b.code.startsWith('HERALD_ERR_')) {
      const message = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : `HTTP ${status}`;
      return new HeraldError(b.code, message, { status, body, ...(typeof b.field === 'string' ? { field: b.field } : {}), ...extra });
    }
  }
  return new HeraldError('HERALD_ERR_RESPONSE', `HTTP ${status} without a Herald error body`, { status, body, ...extra });
}
