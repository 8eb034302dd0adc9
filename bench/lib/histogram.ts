/**
 * A latency histogram in microseconds, mergeable across processes: exact below 128 µs, then 64
 * sub-buckets per power of two (values within 1.6 %). Millions of samples cost a few hundred
 * buckets, so load workers can keep every delivery and ship the histogram over IPC.
 */
export interface HistogramData {
  /** [bucket index, count] pairs. */
  buckets: [number, number][];
  count: number;
  sumUs: number;
  maxUs: number;
  minUs: number;
}

const LINEAR = 128;
const SUB = 64;
const MAX_US = 2 ** 31 - 1;

function indexOf(us: number): number {
  const v = Math.min(MAX_US, Math.max(0, Math.floor(us)));
  if (v < LINEAR) return v;
  const msb = 31 - Math.clz32(v);
  const shift = msb - 6;
  return LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

/** The middle of a bucket's range, in µs. */
function bucketValue(index: number): number {
  if (index < LINEAR) return index;
  const shift = Math.floor((index - LINEAR) / SUB) + 1;
  const mantissa = ((index - LINEAR) % SUB) + SUB;
  return (mantissa << shift) + (1 << (shift - 1));
}

export class Histogram {
  #buckets = new Map<number, number>();
  count = 0;
  sumUs = 0;
  maxUs = 0;
  minUs = Number.POSITIVE_INFINITY;

  /** Records one value in milliseconds (negative clock noise counts as 0). */
  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  recordUs(us: number): void {
    const v = Math.max(us, 0);
    const i = indexOf(v);
    this.#buckets.set(i, (this.#buckets.get(i) ?? 0) + 1);
    this.count++;
    this.sumUs += v;
    if (v > this.maxUs) this.maxUs = v;
    if (v < this.minUs) this.minUs = v;
  }

  merge(d: HistogramData): void {
    for (const [i, n] of d.buckets) this.#buckets.set(i, (this.#buckets.get(i) ?? 0) + n);
    this.count += d.count;
    this.sumUs += d.sumUs;
    if (d.maxUs > this.maxUs) this.maxUs = d.maxUs;
    if (d.minUs < this.minUs) this.minUs = d.minUs;
  }

  reset(): void {
    this.#buckets.clear();
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
    this.minUs = Number.POSITIVE_INFINITY;
  }

  toJSON(): HistogramData {
    return { buckets: [...this.#buckets], count: this.count, sumUs: this.sumUs, maxUs: this.maxUs, minUs: this.minUs };
  }

  static from(parts: HistogramData[]): Histogram {
    const h = new Histogram();
    for (const p of parts) h.merge(p);
    return h;
  }

  /** The p-th percentile (0–100) in milliseconds; null when empty. The max is exact. */
  percentileMs(p: number): number | null {
    if (this.count === 0) return null;
    if (p >= 100) return this.maxUs / 1000;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    const sorted = [...this.#buckets].sort((a, b) => a[0] - b[0]);
    let seen = 0;
    for (const [i, n] of sorted) {
      seen += n;
      if (seen >= rank) return Math.min(bucketValue(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  get meanMs(): number | null {
    return this.count === 0 ? null : this.sumUs / this.count / 1000;
  }

  /** p50 / p99 / max in ms, the shape every scenario reports. */
  summary(): { p50: number | null; p99: number | null; max: number | null; count: number } {
    return { p50: this.percentileMs(50), p99: this.percentileMs(99), max: this.count ? this.maxUs / 1000 : null, count: this.count };
  }
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
