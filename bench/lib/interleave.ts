/**
 * Measures each server in turn, `rounds` times, the first of each round rotating: A B C, B C A,
 * C A B, … Slow drifts and bursts of other work on a shared machine then fall on every server alike.
 */
export async function interleave<T>(items: T[], rounds: number, fn: (item: T, index: number, round: number) => Promise<void>): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < items.length; j++) {
      const k = (r + j) % items.length;
      await fn(items[k], k, r);
    }
  }
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
