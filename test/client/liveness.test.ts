import { describe, expect, it } from 'vitest';
import { type Clock, LivenessWatch } from '../../src/client/index.js';

/** A clock whose time moves only when told, and whose timers can be made to fire late. */
class FakeClock implements Clock {
  t = 1_000_000;
  #seq = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Time passes with timers firing on time. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }

  /** Time passes while the page is frozen: no timer runs; they are all overdue afterwards. */
  sleep(ms: number): void {
    this.t += ms;
  }

  /** The page wakes: overdue timers run now (late), in due order. */
  runOverdue(): void {
    for (;;) {
      const next = [...this.#timers.entries()].filter(([, t]) => t.at <= this.t).sort((a, b) => a[1].at - b[1].at)[0];
      if (!next) break;
      this.#timers.delete(next[0]);
      next[1].fn();
    }
  }
}

function watch(limitMs: number) {
  const clock = new FakeClock();
  const dead: string[] = [];
  const w = new LivenessWatch((why) => dead.push(why), clock);
  w.start({ limitMs });
  return { clock, dead, w };
}

describe('LivenessWatch (dead-server detection)', () => {
  it('declares the server gone after limitMs of silence when its timer runs on time', () => {
    const { clock, dead } = watch(1000);
    clock.advance(999);
    expect(dead).toEqual([]);
    clock.advance(2);
    expect(dead).toEqual(['silent']);
  });

  it('counts any received data as liveness', () => {
    const { clock, dead, w } = watch(1000);
    for (let i = 0; i < 20; i++) {
      clock.advance(900);
      w.data();
    }
    expect(dead).toEqual([]);
    clock.advance(1001);
    expect(dead).toEqual(['silent']);
  });

  it('does not misfire when the page slept through its deadline and data is queued behind the timer', () => {
    const { clock, dead, w } = watch(1000);
    clock.sleep(60_000); // frozen for a minute: the timer is 59 s late
    clock.runOverdue(); // the overdue timer runs before the socket's queued messages...
    expect(dead).toEqual([]);
    w.data(); // ...which arrive right after it
    clock.advance(999);
    expect(dead).toEqual([]);
    clock.advance(2);
    expect(dead).toEqual(['silent']); // and silence after that is judged normally again
  });

  it('after a late wake-up with nothing received, decides once the grace period ran on time', () => {
    const { clock, dead } = watch(1000);
    clock.sleep(30_000);
    clock.runOverdue();
    expect(dead).toEqual([]);
    clock.advance(999); // grace = min(limit, 5 s)
    expect(dead).toEqual([]);
    clock.advance(2);
    expect(dead).toEqual(['silent']);
  });

  it('keeps waiting while the timers keep running late (a throttled background tab)', () => {
    const { clock, dead } = watch(1000);
    for (let i = 0; i < 10; i++) {
      clock.sleep(5000); // throttled: every timer runs seconds late
      clock.runOverdue();
    }
    expect(dead).toEqual([]);
  });

  it('a probe asks for proof of life sooner than the silence limit', () => {
    const { clock, dead, w } = watch(10_000);
    clock.advance(3000);
    w.data();
    w.probe(500);
    clock.advance(400);
    w.data(); // the answer
    clock.advance(1000);
    expect(dead).toEqual([]);
    w.probe(500);
    clock.advance(501);
    expect(dead).toEqual(['probe']);
  });

  it('stop() and start() leave no timer behind', () => {
    const { clock, dead, w } = watch(1000);
    w.stop();
    expect(w.watching).toBe(false);
    clock.advance(10_000);
    expect(dead).toEqual([]);
    w.start({ limitMs: 100 });
    w.start({ limitMs: 2000 });
    clock.advance(1999);
    expect(dead).toEqual([]);
    clock.advance(2);
    expect(dead).toEqual(['silent']);
  });
});
