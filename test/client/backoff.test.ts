import { describe, expect, it } from 'vitest';
import { BACKOFF_DEFAULTS, backoffCeiling, backoffDelay } from '../../src/client/index.js';

describe('backoffDelay (exponential, full jitter)', () => {
  it('doubles its ceiling per attempt from baseMs and never passes maxMs', () => {
    const opts = { baseMs: 500, maxMs: 30_000 };
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffCeiling(a, opts))).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffCeiling(0)).toBe(BACKOFF_DEFAULTS.baseMs);
  });

  it('stays in [0, ceiling) at the extremes of the random source, for any attempt', () => {
    const opts = { baseMs: 100, maxMs: 5000 };
    for (const attempt of [0, 1, 5, 10, 50, 1100, 1e9, Number.MAX_SAFE_INTEGER, Number.POSITIVE_INFINITY, Number.NaN, -3]) {
      const ceiling = backoffCeiling(attempt, opts);
      expect(ceiling).toBeGreaterThan(0);
      expect(ceiling).toBeLessThanOrEqual(5000);
      expect(backoffDelay(attempt, opts, () => 0)).toBe(0);
      const top = backoffDelay(attempt, opts, () => 1 - Number.EPSILON);
      expect(top).toBeLessThan(ceiling);
      expect(top).toBeGreaterThanOrEqual(ceiling - 1);
    }
    // Nonsense attempts count as the first one, not as an unbounded or NaN delay.
    expect(backoffCeiling(Number.NaN, opts)).toBe(100);
    expect(backoffCeiling(-3, opts)).toBe(100);
    expect(backoffCeiling(Number.POSITIVE_INFINITY, opts)).toBe(100);
  });

  it('is spread uniformly over the whole window (full jitter, not "ceiling ± a bit")', () => {
    const opts = { baseMs: 1000, maxMs: 1000 };
    // A seeded uniform source (mulberry32): the statistics below are then a fact, not a 1-in-1000
    // chance of failing, and still catch a delay that does not use the whole window.
    let seed = 0x9e3779b9;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const n = 40_000;
    const buckets = new Array(10).fill(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = backoffDelay(3, opts, random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
      buckets[Math.floor(d / 100)]++;
      sum += d;
    }
    // Mean of U[0, 1000) is 499.5; its standard error here is ~1.4 ms.
    expect(Math.abs(sum / n - 499.5)).toBeLessThan(10);
    // Chi-square with 9 degrees of freedom: the 99.9th percentile is 27.9.
    const expected = n / 10;
    const chi2 = buckets.reduce((acc, b) => acc + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9);
    // Some retries go almost at once and some wait almost the whole ceiling.
    expect(buckets[0]).toBeGreaterThan(0);
    expect(buckets[9]).toBeGreaterThan(0);
  });

  it('devices that lost the same node spread over the window instead of coming back together', () => {
    const delays = Array.from({ length: 1000 }, () => backoffDelay(0, { baseMs: 1000 }));
    const sameMs = new Map<number, number>();
    for (const d of delays) sameMs.set(d, (sameMs.get(d) ?? 0) + 1);
    expect(Math.max(...sameMs.values())).toBeLessThan(10);
    expect(Math.min(...delays)).toBeLessThan(100);
    expect(Math.max(...delays)).toBeGreaterThan(900);
  });
});
