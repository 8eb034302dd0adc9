import { errorFromResponse, HeraldError, isRetryableStatus } from './errors.js';
import type { Resolved } from './options.js';
import { mayHaveArrived, networkCode, parseRetryAfter, retryDelay, sleep } from './retry.js';

/** One API call, made as many times as the retry policy allows. */
export interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path with its segments already encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** The publish's idempotency key, reported in errors and retries. */
  idempotencyKey?: string;
  /**
   * A DELETE: a 404 on a retry after an attempt that may have arrived (reset, timeout) means that
   * attempt did it, so it counts as done.
   */
  goneIsDone?: boolean;
}

/**
 * Makes `call`, retrying per the policy; resolves with the parsed JSON body (undefined for 204),
 * rejects with a {@link HeraldError} — or the caller's `signal.reason` when it aborts.
 */
export async function send<T>(o: Resolved, call: Call): Promise<T> {
  const url = o.base + call.path + queryString(call.query);
  const headers: Record<string, string> = { authorization: o.authorization, accept: 'application/json' };
  let payload: string | undefined;
  if (call.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(call.body);
  }
  const key = call.idempotencyKey === undefined ? {} : { idempotencyKey: call.idempotencyKey };
  let arrived = false;
  for (let attempt = 0; ; attempt++) {
    const attempts = attempt + 1;
    let error: HeraldError;
    let retryAfterMs: number | null = null;
    try {
      const signal = call.signal ? AbortSignal.any([call.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs);
      const res = await o.fetch(url, { method: call.method, headers, body: payload, signal });
      // Read the whole body under the same deadline: a stalled body is a stalled answer.
      const text = await res.text();
      if (res.ok) return parseSuccess<T>(res.status, text, attempts, key);
      if (res.status === 404 && call.goneIsDone && arrived) return undefined as T;
      error = errorFromResponse(res.status, text, { attempts, ...key });
      if (!isRetryableStatus(res.status)) throw error;
      // A 503 from Herald means not done; a proxy's 502/504 may hide an attempt that arrived.
      if (res.status !== 503) arrived = true;
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    } catch (err) {
      if (err instanceof HeraldError) throw err;
      if (call.signal?.aborted) throw call.signal.reason;
      arrived ||= mayHaveArrived(err);
      const code = networkCode(err);
      const why = code === 'ETIMEDOUT' ? `no answer within ${o.timeoutMs} ms` : (code ?? (err as Error)?.message ?? String(err));
      error = new HeraldError('HERALD_ERR_NETWORK', `${call.method} ${call.path}: ${why} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`, {
        status: null,
        attempts,
        cause: err,
        ...key,
      });
    }
    const delayMs = retryDelay(o.policy, attempt, retryAfterMs);
    if (delayMs === null) throw error;
    try {
      o.onRetry?.({ method: call.method, path: call.path, retry: attempts, delayMs, error, ...key });
    } catch {}
    await sleep(delayMs, call.signal);
  }
}

function parseSuccess<T>(status: number, text: string, attempts: number, key: { idempotencyKey?: string }): T {
  if (status === 204 || text === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new HeraldError('HERALD_ERR_RESPONSE', `HTTP ${status} with a body that is not JSON`, { status, body: text, attempts, cause: err, ...key });
  }
}

function queryString(query: Call['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}
