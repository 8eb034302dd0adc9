import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, isAfter } from '../../src/core/cursor.js';
import { checkId, parseConnectionId, uuidv7 } from '../../src/core/ids.js';
import { TimerWheel, type WheelEntry } from '../../src/core/wheel.js';

describe('cursors', () => {
  it('round-trip both stream positions and reject what we did not make', () => {
    const c = { c: { ms: 1_700_000_000_123, seq: 7 }, ce: 'k3x9q0ab', b: null, be: null };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    const b = { c: null, ce: null, b: { ms: 5, seq: 0 }, be: '0' };
    expect(decodeCursor(encodeCursor(b))).toEqual(b);
    // A cursor from before stream epochs still parses (its halves then have no epoch: unplaceable).
    expect(decodeCursor('lp0a2bkr.7~0')).toEqual({ c: { ms: Number.parseInt('lp0a2bkr', 36), seq: 7 }, ce: null, b: null, be: null });
    for (const bad of ['', 'x', '1~', '~1', 'a.b.c.d~0', 'A.b.c~0', '0~ZZ.1', 'x'.repeat(100)]) expect(decodeCursor(bad)).toBeUndefined();
    expect(isAfter({ ms: 2, seq: 0 }, { ms: 1, seq: 9 })).toBe(true);
    expect(isAfter({ ms: 1, seq: 9 }, { ms: 1, seq: 9 })).toBe(false);
    expect(isAfter({ ms: 0, seq: 0 }, null)).toBe(true);
  });
});

describe('ids', () => {
  it('validates ids and splits connection ids unambiguously', () => {
    expect(checkId('device', 'phone_1.a@b-c')).toBe('phone_1.a@b-c');
    for (const bad of ['', 'a:b', 'a b', 'x'.repeat(129), 'é']) expect(() => checkId('device', bad)).toThrow(/device/);
    expect(parseConnectionId('alice_x:phone_y')).toEqual({ clientId: 'alice_x', deviceId: 'phone_y' });
    expect(parseConnectionId('nocolon')).toBeNull();
  });

  it('UUIDv7s sort by creation, even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0][14]).toBe('7');
  });
});

describe('timer wheel', () => {
  const entry = (log: number[], id: number): WheelEntry => ({ _due: 0, _slot: null, onDue: () => log.push(id) });

  it('runs entries when due, across laps, and cancels', () => {
    const clock = { t: 10_000 };
    const w = new TimerWheel({ tickMs: 10, slots: 8, now: () => clock.t });
    const log: number[] = [];
    const a = entry(log, 1);
    const b = entry(log, 2);
    const c = entry(log, 3);
    w.schedule(a, clock.t + 25);
    w.schedule(b, clock.t + 500); // several laps away
    w.schedule(c, clock.t + 30);
    w.cancel(c);
    expect(w.size).toBe(2);
    for (let i = 0; i < 3; i++) {
      clock.t += 10;
      w.advance();
    }
    expect(log).toEqual([1]);
    for (let i = 0; i < 50; i++) {
      clock.t += 10;
      w.advance();
    }
    expect(log).toEqual([1, 2]);
    expect(w.size).toBe(0);
    w.clear();
  });

  it('catches up after a stall without losing entries', () => {
    const clock = { t: 0 };
    const w = new TimerWheel({ tickMs: 10, slots: 4, now: () => clock.t });
    const log: number[] = [];
    for (let i = 0; i < 20; i++) w.schedule(entry(log, i), clock.t + 10 * (i + 1));
    clock.t += 10_000;
    w.advance();
    expect(log.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    w.clear();
  });
});
