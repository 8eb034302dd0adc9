import { DISCONNECTS, reasonOfCode } from '../protocol/close-codes.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import type { ClosedInfo } from './events.js';

/** A stream that ends this soon after the page woke up is retried without a backoff delay. */
const WAKE_WINDOW_MS = 5000;

/** How a stream ended, as the transport saw it (streams.ts `end`). */
export interface StreamEnd {
  code: number | null;
  reason: string;
  status?: number;
}

/** What to do after a stream ended: stop for good, or try again (with a fresh token first). */
export type EndVerdict = { kind: 'finish'; info: ClosedInfo } | { kind: 'retry'; info: StreamEnd; refreshToken: boolean };

/**
 * Whether a lost stream is worth another attempt (the close-code table's `reconnect`, PROTOCOL.md):
 * an unauthorized end is retried with a fresh token when one can be had, refusals that no retry
 * fixes (bad id, origin, no such endpoint) and closes that say "do not come back" are final, and
 * everything else (network, restart, zombie, …) is retried.
 */
export function afterEnd(end: StreamEnd, canRefreshToken: boolean): EndVerdict {
  const { code, status } = end;
  const known = code === null ? undefined : reasonOfCode(code);
  if (code === 1008 || status === 401) {
    if (!canRefreshToken) return { kind: 'finish', info: { reason: 'unauthorized', code: 1008, status } };
    return { kind: 'retry', info: { code, reason: 'unauthorized', status }, refreshToken: true };
  }
  if (known && !DISCONNECTS[known].reconnect) return { kind: 'finish', info: { reason: known, code } };
  if (status === 400 || status === 403 || status === 404) return { kind: 'finish', info: { reason: 'refused', code, status } };
  const reason = known ?? (status !== undefined ? 'refused' : end.reason || (code === null ? 'gone' : `code-${code}`));
  return { kind: 'retry', info: { code, reason, status }, refreshToken: false };
}

/**
 * When to try again: a draining node's `shutdown` hint if it gave one, at once if the page just
 * woke up (the user is looking now), else exponential backoff with full jitter, starting over
 * once a stream opens.
 */
export class ReconnectPolicy {
  readonly #backoff: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;
  /** A draining node's hint, as the wall time before which not to reconnect. */
  #hintAt: number | null = null;
  /** When the page last woke up (resume, visible, online, pageshow). */
  #wokeAt = Number.NEGATIVE_INFINITY;

  constructor(backoff: BackoffOptions, random: () => number) {
    this.#backoff = backoff;
    this.#random = random;
  }

  /** A stream opened (welcome): the next loss starts the backoff from scratch. */
  opened(): void {
    this.#attempt = 0;
    this.#hintAt = null;
  }

  /**
   * The node is draining and said when to come back. The hint counts from now; the reconnect goes
   * no earlier than this even if the stream ends sooner.
   */
  hint(reconnectAfterMs: number, now = Date.now()): void {
    this.#hintAt = now + Math.max(0, Number(reconnectAfterMs) || 0);
  }

  /** The page woke up: a stream lost within the next few seconds is retried without delay. */
  woke(now = Date.now()): void {
    this.#wokeAt = now;
  }

  /**
   * The delay before the next attempt (`delayMs` when the caller decides it), and whether it
   * waits for the server's hint (a wake-up must not cut that short).
   */
  next(delayMs?: number, now = Date.now()): { delayMs: number; hinted: boolean } {
    const hinted = delayMs === undefined && this.#hintAt !== null;
    let delay: number;
    if (delayMs !== undefined) delay = delayMs;
    else if (this.#hintAt !== null) delay = Math.max(0, this.#hintAt - now);
    else if (now - this.#wokeAt < WAKE_WINDOW_MS && this.#attempt === 0) {
      delay = 0;
      this.#attempt++;
    } else delay = backoffDelay(this.#attempt++, this.#backoff, this.#random);
    this.#hintAt = null;
    return { delayMs: delay, hinted };
  }
}
