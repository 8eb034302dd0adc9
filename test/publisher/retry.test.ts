import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createPublisher, HeraldError, type RetryInfo, uuidv7 } from '../../src/publisher/index.js';
import { parseRetryAfter, retryDelay } from '../../src/publisher/retry.js';
import { startFlakyProxy } from '../support/flaky-proxy.js';
import { API_KEY, connectDevice, startTestHerald } from '../support/herald.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Short backoff so retries do not slow the suite; the delays themselves are tested below. */
const FAST = { baseMs: 20, maxMs: 2000 };

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe('retries through a real misbehaving intermediary: the same key, stored and delivered once', () => {
  it('503s from a proxy: retried with the same idempotency key until it passes; the device gets it once', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, [{ status: 503 }, { status: 503, body: '{"oops":1}' }, 'forward']);
    const retries: RetryInfo[] = [];
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST, onRetry: (i) => retries.push(i) });
    const r = await herald.publish('alice', { title: 'once', message: 'm' });
    expect(proxy.seen.map((s) => s.body.id)).toEqual([r.id, r.id, r.id]);
    expect(r.delivered).toBe(1);
    expect(retries.map((i) => [i.retry, i.error.status, i.error.code, i.idempotencyKey])).toEqual([
      [1, 503, 'HERALD_ERR_RESPONSE', r.id],
      [2, 503, 'HERALD_ERR_RESPONSE', r.id],
    ]);
    await phone.waitForNotifications(1);
    await sleep(100);
    expect(phone.notifications.map((n) => n.id)).toEqual([r.id]);
  });

  it('the answer lost after the node stored it (connection dropped): the retry gets the same notification, not a second', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, ['drop-after-forward', 'forward']);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST });
    const r = await herald.publish('alice', { title: 'exactly once', message: 'm' });
    expect(proxy.seen).toHaveLength(2);
    expect(proxy.seen[1].body).toEqual(proxy.seen[0].body);
    // The node had stored and delivered it on the first attempt: the retry is the same notification.
    const delivered = await phone.waitForNotifications(1);
    expect(r).toMatchObject({ id: delivered[0].id, cursor: delivered[0].cursor, delivered: 0, stored: true });
    await sleep(100);
    expect(phone.notifications).toHaveLength(1);
    expect(h.node.hub.stats.published).toBe(1);
  });

  it('an attempt that times out after the node stored it is retried with the same key; broadcasts too', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, ['hold-after-forward', 'forward']);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST, timeoutMs: 300 });
    const r = await herald.broadcast({ title: 'news', message: 'm' });
    expect(proxy.seen.map((s) => s.body.id)).toEqual([r.id, r.id]);
    await phone.waitForNotifications(1);
    await sleep(100);
    expect(phone.notifications.map((n) => n.id)).toEqual([r.id]);
  });

  it('a batch whose answer was lost is sent again with the same keys: every item once', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, ['drop-after-forward', 'forward']);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST });
    const r = await herald.batch([1, 2, 3].map((i) => ({ clientId: 'alice', title: `n${i}`, message: 'm' })));
    expect(r.accepted).toBe(3);
    expect(proxy.seen[1].body).toEqual(proxy.seen[0].body);
    await phone.waitForNotifications(3);
    await sleep(100);
    expect(phone.notifications.map((n) => n.title)).toEqual(['n1', 'n2', 'n3']);
    expect(r.results.map((x) => (x.ok ? x.delivered : -1))).toEqual([0, 0, 0]); // the repeat delivered nothing new
  });

  it('Retry-After is honoured as the least wait; one longer than backoff.maxMs ends the retries', async () => {
    await using h = await startTestHerald();
    await using proxy = await startFlakyProxy(h.url, [{ status: 503, retryAfter: '1' }, 'forward', { status: 503, retryAfter: '120' }]);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: { baseMs: 1, maxMs: 5000 } });
    const t0 = performance.now();
    await herald.publish('alice', { title: 't', message: 'm' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990);
    expect(proxy.seen).toHaveLength(2);
    const err = await herald.publish('alice', { title: 't', message: 'm' }).catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ status: 503, attempts: 1, retryable: true });
    expect(proxy.seen).toHaveLength(3);
  });

  it('a 500 is not retried; a proxy 502 is, and after the last retry it is HERALD_ERR_RESPONSE with the status', async () => {
    await using h = await startTestHerald();
    await using proxy = await startFlakyProxy(h.url, [{ status: 500 }, { status: 502, body: '<html>bad gateway</html>' }, { status: 502 }, { status: 502 }]);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST, retries: 2 });
    await expect(herald.stats()).rejects.toMatchObject({ code: 'HERALD_ERR_RESPONSE', status: 500, attempts: 1, retryable: false });
    const err = await herald.stats().catch((e) => e);
    expect(err).toMatchObject({ code: 'HERALD_ERR_RESPONSE', status: 502, attempts: 3, retryable: true, body: 'upstream unavailable' });
    expect(proxy.seen).toHaveLength(4);
  });

  it('nothing listening: HERALD_ERR_NETWORK after the last retry, the cause kept, the key reported', async () => {
    const port = await closedPort();
    const retries: RetryInfo[] = [];
    const herald = createPublisher({ url: `http://127.0.0.1:${port}`, apiKey: API_KEY, retries: 2, backoff: FAST, onRetry: (i) => retries.push(i) });
    const err = await herald.publish('alice', { title: 't', message: 'm' }).catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'HERALD_ERR_NETWORK', status: null, attempts: 3, retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    expect(String(err.cause?.cause?.code ?? err.cause?.code)).toBe('ECONNREFUSED');
    expect(err.idempotencyKey).toBe(retries[0].idempotencyKey);
    expect(retries.map((i) => i.retry)).toEqual([1, 2]);
  });

  it('a connection reset before anything was forwarded is retried too', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, ['drop', 'forward']);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST });
    const r = await herald.publishToDevice('alice', 'phone', { title: 't', message: 'm' });
    expect(r.delivered).toBe(1);
    expect(proxy.seen).toHaveLength(2);
    await phone.waitForNotifications(1);
  });

  it('a DELETE whose answer was lost: the retry finds it gone (404) and that counts as done', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using proxy = await startFlakyProxy(h.url, ['drop-after-forward', 'forward']);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: FAST });
    await expect(herald.devices.remove('alice', 'phone')).resolves.toBeUndefined();
    expect((await phone.closed).code).toBe(4003);
    expect(proxy.seen.map((s) => s.method)).toEqual(['DELETE', 'DELETE']);
    // Without an earlier attempt that may have done it, a 404 stays a 404.
    await expect(herald.devices.remove('alice', 'phone')).rejects.toMatchObject({ code: 'HERALD_ERR_NOT_FOUND', status: 404 });
  });

  it("the caller's signal stops it, even between retries, with the signal's reason", async () => {
    await using h = await startTestHerald();
    await using proxy = await startFlakyProxy(h.url, [{ status: 503 }, { status: 503 }]);
    const herald = createPublisher({ url: proxy.url, apiKey: API_KEY, backoff: { baseMs: 5000, maxMs: 5000 }, random: () => 0.99 });
    const ac = new AbortController();
    const p = herald.publish('alice', { title: 't', message: 'm' }, { signal: ac.signal });
    await sleep(200);
    ac.abort(new Error('request cancelled'));
    await expect(p).rejects.toThrow('request cancelled');
    await sleep(50);
    expect(proxy.seen).toHaveLength(1);
  });
});

describe('the retry policy', () => {
  const policy = { retries: 3, backoff: { baseMs: 100, maxMs: 1000 }, random: () => 0.999 };

  it('full jitter under an exponential ceiling, bounded attempts', () => {
    expect([0, 1, 2].map((a) => retryDelay(policy, a, null))).toEqual([99, 199, 399]);
    expect(retryDelay({ ...policy, random: () => 0 }, 2, null)).toBe(0);
    expect(retryDelay({ ...policy, retries: 10 }, 8, null)).toBe(999);
    expect(retryDelay(policy, 3, null)).toBeNull();
    expect(retryDelay({ ...policy, retries: 0 }, 0, null)).toBeNull();
  });

  it('Retry-After is a floor, capped by maxMs', () => {
    expect(retryDelay(policy, 0, 500)).toBe(500);
    expect(retryDelay(policy, 2, 50)).toBe(399);
    expect(retryDelay(policy, 0, 1001)).toBeNull();
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:02 GMT', now)).toBe(2000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });

  it('keys are UUIDv7, distinct and in time order', () => {
    const keys = Array.from({ length: 5000 }, () => uuidv7());
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(keys.filter((k) => !v7.test(k))).toEqual([]);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(keys);
  });
});
