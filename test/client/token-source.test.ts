import { describe, expect, it } from 'vitest';
import { TokenSource } from '../../src/client/token-source.js';

/** A JWT-shaped token with `exp` (seconds); the SDK reads it without verifying. */
const jwt = (exp?: number) => `h.${Buffer.from(JSON.stringify({ sub: 'alice', exp })).toString('base64url')}.s`;
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('TokenSource', () => {
  it('hands out a static token as it is, and knows when the server would refuse it for its exp', async () => {
    const live = new TokenSource(jwt(inSeconds(60)), null);
    expect(live.refreshable).toBe(false);
    expect(await live.current()).toBe(live.last);
    expect(live.deadForGood(live.last as string)).toBe(false);
    // Within the server's 30 s skew a token past its exp is still accepted.
    expect(live.deadForGood(jwt(inSeconds(-10)))).toBe(false);
    expect(live.deadForGood(jwt(inSeconds(-60)))).toBe(true);
    expect(live.deadForGood('opaque')).toBe(false);
  });

  it('asks getToken for the first token, again after markStale, and again once exp has passed', async () => {
    const tokens = [jwt(inSeconds(3600)), jwt(inSeconds(-1)), jwt(inSeconds(3600))];
    let calls = 0;
    const s = new TokenSource(null, async () => tokens[calls++]);
    expect(s.refreshable).toBe(true);
    expect(s.last).toBeNull();
    expect(await s.current()).toBe(tokens[0]);
    expect(await s.current()).toBe(tokens[0]);
    s.markStale();
    expect(await s.current()).toBe(tokens[1]);
    expect(await s.current()).toBe(tokens[2]);
    expect(calls).toBe(3);
    // A refreshable source never gives up on a token: getToken makes a new one.
    expect(s.deadForGood(tokens[1])).toBe(false);
  });

  it('rejects when getToken gives no token', async () => {
    await expect(new TokenSource(null, async () => '').current()).rejects.toThrow(/no token/);
    await expect(new TokenSource(null, () => Promise.reject(new Error('offline'))).current()).rejects.toThrow('offline');
  });
});
