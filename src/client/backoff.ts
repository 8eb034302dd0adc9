/** Reconnect pacing: exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS). */
export interface BackoffOptions {
  /** The ceiling of the first retry's delay. @default 500 */
  baseMs: number;
  /** No delay is ever longer than this. @default 30000 */
  maxMs: number;
}

export const BACKOFF_DEFAULTS: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * The delay before retry number `attempt` (0 for the first retry): uniformly random in
 * `[0, min(maxMs, baseMs × 2^attempt))`. Full jitter spreads a crowd of devices that lost the
 * same node over the whole window instead of sending them back in waves.
 *
 * @param random a source of uniform numbers in [0, 1) (tests pass their own)
 * @example backoffDelay(3) // somewhere in [0, 4000) ms with the defaults
 */
export function backoffDelay(attempt: number, opts: Partial<BackoffOptions> = {}, random: () => number = Math.random): number {
  const { baseMs, maxMs } = { ...BACKOFF_DEFAULTS, ...opts };
  return Math.floor(random() * backoffCeiling(attempt, { baseMs, maxMs }));
}

/** The upper bound of {@link backoffDelay} for `attempt`: `min(maxMs, baseMs × 2^attempt)`. */
export function backoffCeiling(attempt: number, opts: Partial<BackoffOptions> = {}): number {
  const { baseMs, maxMs } = { ...BACKOFF_DEFAULTS, ...opts };
  const n = Math.max(0, Math.floor(Number.isFinite(attempt) ? attempt : 0));
  // 2^n overflows to Infinity long after it passed maxMs; min() keeps it bounded either way.
  return Math.max(0, Math.min(maxMs, baseMs * 2 ** Math.min(n, 1024)));
}
