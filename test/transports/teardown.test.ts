import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeLingerMs, Linger } from '../../src/transports/teardown.js';

/** The teardown every transport shares (ws close frames, ended SSE responses, gRPC shutdown). */
describe('Linger', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('destroys what did not finish within the linger time, in the order it was ended, on one timer', () => {
    const destroyed: string[] = [];
    const linger = new Linger<string>(1000, (s) => destroyed.push(s));
    linger.add('a');
    vi.advanceTimersByTime(300);
    linger.add('b');
    linger.add('c');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(699);
    expect(destroyed).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(destroyed).toEqual(['a']);
    expect(linger.size).toBe(2);
    vi.advanceTimersByTime(300);
    expect(destroyed).toEqual(['a', 'b', 'c']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves alone what finished on its own, and stops its timer when nothing lingers', () => {
    const destroyed: string[] = [];
    const linger = new Linger<string>(1000, (s) => destroyed.push(s));
    linger.add('a');
    linger.add('b');
    linger.finished('a');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(destroyed).toEqual(['b']);
    linger.add('c');
    linger.finished('c');
    linger.finished('never-added');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(destroyed).toEqual(['b']);
  });

  it('destroys everything at once at the end of shutdown', () => {
    const destroyed: string[] = [];
    const linger = new Linger<string>(1000, (s) => {
      destroyed.push(s);
      linger.finished(s); // a destroyed socket reports its close
    });
    linger.add('a');
    linger.add('b');
    linger.destroyAll();
    expect(destroyed).toEqual(['a', 'b']);
    expect(linger.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a second end of the same stream restarts its wait', () => {
    const destroyed: string[] = [];
    const linger = new Linger<string>(1000, (s) => destroyed.push(s));
    linger.add('a');
    vi.advanceTimersByTime(600);
    linger.add('a');
    vi.advanceTimersByTime(600);
    expect(destroyed).toEqual([]);
    vi.advanceTimersByTime(400);
    expect(destroyed).toEqual(['a']);
  });

  it('lingers about one pong timeout, within [1 s, 10 s]', () => {
    expect(closeLingerMs({ HEARTBEAT_TIMEOUT_MS: 200 })).toBe(1000);
    expect(closeLingerMs({ HEARTBEAT_TIMEOUT_MS: 4000 })).toBe(4000);
    expect(closeLingerMs({ HEARTBEAT_TIMEOUT_MS: 60_000 })).toBe(10_000);
  });
});
