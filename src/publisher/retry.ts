import { type BackoffOptions, backoffDelay } from '../client/backoff.js';

/**
 * When a failed request is tried again and after how long. Retried: network failures (refused,
 * reset, DNS, the attempt's timeout) and 502/503/504 — the node could not take the request now
 * (store unavailable, draining, full) or a proxy in front of it could not reach it. Never a 4xx:
 * the same request would be refused again. Publishes are safe to retry because each carries its
 * idempotency key (`id`), reused on every attempt.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` requests at most). */
  retries: number;
  /** Full-jitter exponential backoff: retry `n` waits uniformly in `[0, min(maxMs, baseMs × 2^n))`. */
  backoff: BackoffOptions;
  random: () => number;
}

/**
 * How long to wait before retry number `attempt` (0 = the first retry), or null to stop:
 * - a `Retry-After` is honoured as a minimum (the jittered delay if that is longer);
 * - a `Retry-After` beyond `backoff.maxMs` ends the retries rather than coming back early.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, retryAfterMs: number | null): number | null {
  if (attempt >= policy.retries) return null;
  const jittered = backoffDelay(attempt, policy.backoff, policy.random);
  if (retryAfterMs === null) return jittered;
  if (retryAfterMs > policy.backoff.maxMs) return null;
  return Math.max(retryAfterMs, jittered);
}

/** `Retry-After`: delta seconds or an HTTP date (RFC 9110 §10.2.3); null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Failures where the request cannot have reached the server (nothing was sent). */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** The system error code under a `fetch failed` (undici nests it in `cause`, sometimes twice). */
export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if ((e as { name?: unknown }).name === 'TimeoutError') return 'ETIMEDOUT';
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether a failed attempt may have been received and acted on (a reset or timeout after the
 * request was written). A DELETE that may have arrived and then finds nothing (404) on a retry
 * did its work on the earlier attempt.
 */
export function mayHaveArrived(err: unknown): boolean {
  const code = networkCode(err);
  return code === undefined || !NOT_SENT.has(code);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
