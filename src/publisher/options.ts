import type { BackoffOptions } from '../client/backoff.js';
import type { HeraldError } from './errors.js';
import type { RetryPolicy } from './retry.js';

/** What {@link PublisherOptions.onRetry} is told before each retry. */
export interface RetryInfo {
  method: string;
  /** The path, e.g. `/api/v1/clients/alice/notifications`. */
  path: string;
  /** The retry about to be made: 1 for the first. */
  retry: number;
  delayMs: number;
  /** Why: the answer's error (503, …) or the network failure (`HERALD_ERR_NETWORK`, `cause` kept). */
  error: HeraldError;
  /** The publish's idempotency key, the same on every attempt. */
  idempotencyKey?: string;
}

/** Options of {@link createPublisher}. */
export interface PublisherOptions {
  /** Herald's base URL, e.g. `https://herald.internal:8080` (a path prefix is kept). */
  url: string | URL;
  /** The API key (`HERALD_API_KEY`), sent as `Authorization: Bearer`. */
  apiKey: string;
  /** How long one attempt may take, answer body included, before it counts as a network failure. @default 10000 */
  timeoutMs?: number;
  /** Retries after the first attempt, on network failures and 502/503/504; 0 turns retrying off. @default 3 */
  retries?: number;
  /** Full-jitter exponential backoff between retries. @default { baseMs: 250, maxMs: 10000 } */
  backoff?: Partial<BackoffOptions>;
  /** The `fetch` to use (a proxy agent, a test double). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Called before each retry (logs, metrics). Exceptions it throws are ignored. */
  onRetry?: (info: RetryInfo) => void;
  /** Uniform numbers in [0, 1) for the backoff jitter. @default Math.random */
  random?: () => number;
}

export const DEFAULTS = {
  timeoutMs: 10_000,
  retries: 3,
  backoff: { baseMs: 250, maxMs: 10_000 } satisfies BackoffOptions,
} as const;

/** Options after defaults and checks. */
export interface Resolved {
  /** The base URL without a trailing slash. */
  base: string;
  authorization: string;
  timeoutMs: number;
  policy: RetryPolicy;
  fetch: typeof fetch;
  onRetry: ((info: RetryInfo) => void) | null;
}

/** Checks the options once; a bad one is a TypeError naming it (a programming error, not a runtime one). */
export function resolveOptions(o: PublisherOptions): Resolved {
  if (typeof o !== 'object' || o === null) throw new TypeError('createPublisher(options): options are required');
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new TypeError(`url: not a URL: ${String(o.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`url: expected http: or https:, got ${url.protocol}`);
  if (typeof o.apiKey !== 'string' || o.apiKey === '') throw new TypeError('apiKey: required');
  // What fetch would refuse in a header on every attempt: better said once, here.
  if ([...o.apiKey].some((c) => c === '\r' || c === '\n' || c === '\0' || (c.codePointAt(0) ?? 0) > 0xff))
    throw new TypeError('apiKey: cannot be sent in a header (line break, NUL or a character beyond Latin-1)');
  const timeoutMs = o.timeoutMs ?? DEFAULTS.timeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new TypeError(`timeoutMs: a positive number, got ${String(o.timeoutMs)}`);
  const retries = o.retries ?? DEFAULTS.retries;
  if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`retries: an integer >= 0, got ${String(o.retries)}`);
  const backoff = { ...DEFAULTS.backoff, ...o.backoff };
  if (!(backoff.baseMs >= 0) || !(backoff.maxMs >= 0)) throw new TypeError('backoff: baseMs and maxMs must be numbers >= 0');
  const f = o.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new TypeError('fetch: none in this runtime; pass { fetch }');
  url.search = '';
  url.hash = '';
  return {
    base: url.toString().replace(/\/+$/, ''),
    authorization: `Bearer ${o.apiKey}`,
    timeoutMs,
    policy: { retries, backoff, random: o.random ?? Math.random },
    // Called unbound: some runtimes' fetch must not be called as a method of another object.
    fetch: (input, init) => f(input, init),
    onRetry: o.onRetry ?? null,
  };
}
