import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/client/index.js';

describe('RecentIds (dedupe by notification id)', () => {
  it('says a repeated id is a duplicate', () => {
    const ids = new RecentIds(10);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('b')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.add('b')).toBe(false);
    expect(ids.size).toBe(2);
  });

  it('is bounded: it forgets the oldest ids first and never grows past its size', () => {
    const ids = new RecentIds(3);
    for (const id of ['1', '2', '3', '4']) expect(ids.add(id)).toBe(true);
    expect(ids.size).toBe(3);
    expect(ids.has('1')).toBe(false);
    expect(ids.add('2')).toBe(false);
    expect(ids.add('1')).toBe(true);
    expect(ids.has('2')).toBe(false);
    const big = new RecentIds(1000);
    for (let i = 0; i < 100_000; i++) big.add(`n${i}`);
    expect(big.size).toBe(1000);
    expect(big.has('n99999')).toBe(true);
    expect(big.has('n98999')).toBe(false);
  });
});
