import { describe, expect, it } from 'vitest';
import { afterEnd, ReconnectPolicy } from '../../src/client/reconnect.js';

describe('afterEnd: which lost streams are worth another attempt', () => {
  it.each([
    [{ code: 4002, reason: 'replaced' }, true, { kind: 'finish', info: { reason: 'replaced', code: 4002 } }],
    [{ code: 4003, reason: '' }, true, { kind: 'finish', info: { reason: 'removed', code: 4003 } }],
    [{ code: 4400, reason: '' }, false, { kind: 'finish', info: { reason: 'bad-frame', code: 4400 } }],
    [{ code: 1012, reason: '' }, false, { kind: 'retry', info: { code: 1012, reason: 'restart', status: undefined }, refreshToken: false }],
    [{ code: 4004, reason: '' }, false, { kind: 'retry', info: { code: 4004, reason: 'zombie', status: undefined }, refreshToken: false }],
    [{ code: null, reason: '' }, false, { kind: 'retry', info: { code: null, reason: 'gone', status: undefined }, refreshToken: false }],
    [{ code: null, reason: 'timeout' }, false, { kind: 'retry', info: { code: null, reason: 'timeout', status: undefined }, refreshToken: false }],
    [{ code: 3999, reason: '' }, false, { kind: 'retry', info: { code: 3999, reason: 'code-3999', status: undefined }, refreshToken: false }],
    [{ code: null, reason: '', status: 503 }, false, { kind: 'retry', info: { code: null, reason: 'refused', status: 503 }, refreshToken: false }],
    [{ code: null, reason: '', status: 400 }, true, { kind: 'finish', info: { reason: 'refused', code: null, status: 400 } }],
    [{ code: null, reason: '', status: 403 }, true, { kind: 'finish', info: { reason: 'refused', code: null, status: 403 } }],
    [{ code: null, reason: '', status: 404 }, true, { kind: 'finish', info: { reason: 'refused', code: null, status: 404 } }],
    [{ code: 1008, reason: '' }, false, { kind: 'finish', info: { reason: 'unauthorized', code: 1008, status: undefined } }],
    [{ code: null, reason: '', status: 401 }, false, { kind: 'finish', info: { reason: 'unauthorized', code: 1008, status: 401 } }],
    [{ code: 1008, reason: '' }, true, { kind: 'retry', info: { code: 1008, reason: 'unauthorized', status: undefined }, refreshToken: true }],
    [{ code: null, reason: '', status: 401 }, true, { kind: 'retry', info: { code: null, reason: 'unauthorized', status: 401 }, refreshToken: true }],
  ])('%j (token refreshable: %s)', (end, refreshable, verdict) => {
    expect(afterEnd(end, refreshable)).toEqual(verdict);
  });
});

describe('ReconnectPolicy', () => {
  const top = () => 1 - Number.EPSILON;
  const policy = () => new ReconnectPolicy({ baseMs: 100, maxMs: 1000 }, top);

  it('backs off exponentially with jitter up to maxMs, and starts over once a stream opens', () => {
    const p = policy();
    expect([1, 2, 3, 4, 5].map(() => p.next(undefined, 0).delayMs)).toEqual([99, 199, 399, 799, 999]);
    p.opened();
    expect(p.next(undefined, 0)).toEqual({ delayMs: 99, hinted: false });
  });

  it("waits for a draining node's hint, counted from when it was given, once", () => {
    const p = policy();
    p.hint(3000, 1000);
    expect(p.next(undefined, 2500)).toEqual({ delayMs: 1500, hinted: true });
    expect(p.next(undefined, 2500)).toEqual({ delayMs: 99, hinted: false });
    p.hint(-5, 0);
    expect(p.next(undefined, 0)).toEqual({ delayMs: 0, hinted: true });
  });

  it('retries at once right after a wake-up, for the first attempt only', () => {
    const p = policy();
    p.woke(10_000);
    expect(p.next(undefined, 12_000)).toEqual({ delayMs: 0, hinted: false });
    expect(p.next(undefined, 12_000).delayMs).toBe(199);
    p.opened();
    expect(p.next(undefined, 16_000).delayMs).toBe(99);
  });

  it('takes a delay given by the caller over everything, and forgets the hint', () => {
    const p = policy();
    p.hint(5000, 0);
    expect(p.next(0, 0)).toEqual({ delayMs: 0, hinted: false });
    expect(p.next(undefined, 0)).toEqual({ delayMs: 99, hinted: false });
  });
});
