import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseExpositionStrict } from '../support/exposition.js';
import { api, connectDevice, publishTo, until } from '../support/herald.js';
import { type BrowserSubscription, PushServiceStandIn } from './push-service.js';
import { deviceCall, type PushHerald, sleep, startPushHerald, subscribe } from './support.js';

/** Long enough for a push that should not happen to have shown up (sends start within a tick). */
const QUIET_MS = 300;

let service: PushServiceStandIn;
beforeEach(async () => {
  service = await PushServiceStandIn.start();
});
afterEach(async () => {
  await service.close();
});

/** A device that streamed once, subscribed, and whose stream is gone (the tab was frozen/closed). */
async function detachedSubscribedDevice(h: PushHerald, clientId: string, deviceId: string): Promise<BrowserSubscription> {
  const dev = await connectDevice(h, clientId, deviceId);
  const sub = await service.subscription();
  await subscribe(h, clientId, deviceId, sub);
  dev.close();
  await until(() => h.node.hub.device(clientId, deviceId)?.state === 'detached', 5000, 'detached');
  return sub;
}

describe('Web Push fallback: who gets a push', () => {
  it('a client notification reaches its only device, detached, through Web Push: decrypted, exactly once', async () => {
    await using h = await startPushHerald();
    const sub = await detachedSubscribedDevice(h, 'alice', 'phone');
    const r = await publishTo(h, 'alice', { title: 'Hello', message: 'while you slept', service: 'chat', data: { room: 7 } });
    expect(r.status).toBe(202);
    expect(r.body.delivered).toBe(0);
    await until(() => service.for(sub).length > 0, 5000, 'the push');
    await sleep(QUIET_MS);
    expect(service.errors).toEqual([]);
    const got = service.for(sub);
    expect(got).toHaveLength(1);
    const p = got[0];
    expect(p.payload).toEqual({
      id: r.body.id,
      cursor: r.body.cursor,
      title: 'Hello',
      message: 'while you slept',
      service: 'chat',
      data: { room: 7 },
      ts: expect.any(Number),
    });
    expect(Math.abs(p.payload?.ts - Date.now())).toBeLessThan(10_000);
    // VAPID: signed with the key the browser subscribed with, for this push service.
    expect(p.vapidKey).toBe(h.push.publicKey);
    expect(p.claims).toMatchObject({ aud: service.url, sub: h.config.VAPID_SUBJECT });
    // TTL from the default 24 h, no urgency without a priority.
    expect(p.ttl).toBeGreaterThan(86_390);
    expect(p.ttl).toBeLessThanOrEqual(86_400);
    expect(p.urgency).toBeNull();
    expect(h.push.stats).toMatchObject({ enqueued: 1, sent: 1, retries: 0, failed: 0 });
    // Counted in /metrics.
    const metrics = await (await fetch(`${h.url}/metrics`)).text();
    parseExpositionStrict(metrics);
    expect(metrics).toMatch(/^herald_push_total\{[^}]*outcome="sent"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^herald_push_enqueued_total\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^herald_push_subscriptions\{[^}]*\} 1$/m);
    expect(metrics).toMatch(/^herald_push_subscription_changes_total\{[^}]*change="added"[^}]*\} 1$/m);
    expect(metrics).toMatch(/^herald_push_queue\{[^}]*state="queued"[^}]*\} 0$/m);
  });

  it('a subscription alone is a registration: a device that never streamed gets client and device notifications; TTL and Urgency follow ttlMs and priority', async () => {
    await using h = await startPushHerald();
    const sub = await service.subscription();
    await subscribe(h, 'bob', 'tablet', sub);
    expect(h.node.hub.device('bob', 'tablet')).toBeUndefined();
    const toClient = await publishTo(h, 'bob', { title: 'one', message: 'm' });
    const toDevice = await publishTo(h, 'bob', { title: 'two', message: 'm', ttlMs: 60_000, priority: 'high' }, 'tablet');
    const toOther = await publishTo(h, 'bob', { title: 'not for tablet', message: 'm' }, 'phone');
    expect([toClient.status, toDevice.status, toOther.status]).toEqual([202, 202, 202]);
    await until(() => service.for(sub).length >= 2, 5000, 'two pushes');
    await sleep(QUIET_MS);
    expect(service.errors).toEqual([]);
    const got = service.for(sub);
    expect(got.map((p) => p.payload?.title)).toEqual(['one', 'two']);
    expect(got[1].payload?.id).toBe(toDevice.body.id);
    expect(got[1].urgency).toBe('high');
    expect(got[1].ttl).toBeGreaterThanOrEqual(58);
    expect(got[1].ttl).toBeLessThanOrEqual(60);
  });

  it('an attached device gets it live and no push; only its detached sibling is pushed', async () => {
    await using h = await startPushHerald();
    const laptop = await connectDevice(h, 'carol', 'laptop');
    const laptopSub = await service.subscription();
    await subscribe(h, 'carol', 'laptop', laptopSub);
    const phoneSub = await detachedSubscribedDevice(h, 'carol', 'phone');

    const r = await publishTo(h, 'carol', { title: 'both', message: 'm' });
    expect(r.body.delivered).toBe(1);
    const live = await laptop.waitFor((f) => f.type === 'notification');
    expect(live.id).toBe(r.body.id);
    const toLaptop = await publishTo(h, 'carol', { title: 'laptop only', message: 'm' }, 'laptop');
    expect(toLaptop.body.delivered).toBe(1);
    await laptop.waitFor((f) => f.type === 'notification' && f.id === toLaptop.body.id);

    await until(() => service.for(phoneSub).length > 0, 5000, 'the phone push');
    await sleep(QUIET_MS);
    expect(service.for(laptopSub)).toEqual([]);
    expect(service.for(phoneSub).map((p) => p.payload?.id)).toEqual([r.body.id]);
    expect(service.errors).toEqual([]);
    await laptop[Symbol.asyncDispose]();
  });

  it('a device closed as a zombie (frozen tab: pings unanswered) is pushed what comes after', async () => {
    await using h = await startPushHerald({ HEARTBEAT_INTERVAL_MS: 40, HEARTBEAT_TIMEOUT_MS: 40, HEARTBEAT_MAX_MISSED: 2 });
    const frozen = await connectDevice(h, 'zack', 'phone');
    const sub = await service.subscription();
    await subscribe(h, 'zack', 'phone', sub);
    frozen.autoPong = false;
    expect((await frozen.closed).code).toBe(4004);
    expect(h.node.hub.device('zack', 'phone')?.state).toBe('detached');
    const r = await publishTo(h, 'zack', { title: 'after the freeze', message: 'm' });
    await until(() => service.for(sub).length === 1, 5000, 'the push');
    expect(service.for(sub)[0].payload?.id).toBe(r.body.id);
  });

  it('broadcasts are never pushed', async () => {
    await using h = await startPushHerald();
    const sub = await detachedSubscribedDevice(h, 'dave', 'phone');
    expect((await api(h, 'POST', '/api/v1/broadcast', { title: 'all', message: 'm' })).status).toBe(202);
    await sleep(QUIET_MS);
    expect(service.for(sub)).toEqual([]);
    // The same device is pushed a client notification: the check above could have seen one.
    await publishTo(h, 'dave', { title: 'mine', message: 'm' });
    await until(() => service.for(sub).length === 1, 5000, 'the client push');
    expect(h.push.stats.enqueued).toBe(1);
  });

  it("the subscription outlives the stale sweep of the device's detached registration", async () => {
    await using h = await startPushHerald({ DETACHED_TTL_MS: 50, STALE_SWEEP_MS: 50 });
    const sub = await detachedSubscribedDevice(h, 'erin', 'phone');
    await until(() => h.node.hub.device('erin', 'phone') === undefined, 5000, 'the sweep to forget the registration');
    await publishTo(h, 'erin', { title: 'hours later', message: 'm' });
    await until(() => service.for(sub).length === 1, 5000, 'the push');
    expect(service.for(sub)[0].payload?.title).toBe('hours later');
  });

  it('removing the device (DELETE /me/devices/<d>) or unsubscribing removes the subscription: no more pushes', async () => {
    await using h = await startPushHerald();
    const phone = await detachedSubscribedDevice(h, 'frank', 'phone');
    const tablet = await service.subscription();
    await subscribe(h, 'frank', 'tablet', tablet);
    expect((await deviceCall(h, 'DELETE', '/me/devices/phone', 'frank')).status).toBe(204);
    expect((await deviceCall(h, 'DELETE', '/me/devices/tablet/push', 'frank')).status).toBe(204);
    expect(await h.push.store.list('frank')).toEqual([]);
    await publishTo(h, 'frank', { title: 'nobody', message: 'm' });
    await sleep(QUIET_MS);
    expect(service.received).toEqual([]);
    expect(h.push.stats.enqueued).toBe(0);
    void phone;
  });
});

describe('Web Push fallback: push service answers', () => {
  it('410 Gone removes the subscription; the next notification is not pushed', async () => {
    await using h = await startPushHerald();
    const sub = await detachedSubscribedDevice(h, 'gina', 'phone');
    service.respond = () => ({ status: 410 });
    await publishTo(h, 'gina', { title: 'first', message: 'm' });
    await until(() => h.push.stats.gone === 1, 5000, 'the 410 to be handled');
    expect(await h.push.store.get('gina', 'phone')).toBeNull();
    await publishTo(h, 'gina', { title: 'second', message: 'm' });
    await sleep(QUIET_MS);
    expect(service.for(sub)).toHaveLength(1);
    expect(h.push.stats).toMatchObject({ enqueued: 1, gone: 1, sent: 0 });
  });

  it('404 also removes it, but only the endpoint that answered: a newer subscription of the device stays', async () => {
    await using h = await startPushHerald();
    const old = await detachedSubscribedDevice(h, 'hank', 'phone');
    const renewed = await service.subscription();
    service.respond = (p) => (p.sub === old.id ? { status: 404, delayMs: 150 } : { status: 201 });
    await publishTo(h, 'hank', { title: 'to the old one', message: 'm' });
    await until(() => service.for(old).length === 1, 5000, 'the push to the old endpoint');
    // The browser renewed its subscription while the old endpoint's 404 is on its way.
    await subscribe(h, 'hank', 'phone', renewed);
    await until(() => h.push.stats.gone === 1, 5000, 'the 404');
    expect((await h.push.store.get('hank', 'phone'))?.endpoint).toBe(renewed.json.endpoint);
    await publishTo(h, 'hank', { title: 'to the new one', message: 'm' });
    await until(() => service.for(renewed).length === 1, 5000, 'the push to the renewed endpoint');
  });

  it('429 with Retry-After is retried after it, not sooner (and not by the short backoff)', async () => {
    await using h = await startPushHerald({}, { retryBaseMs: 20 });
    const sub = await detachedSubscribedDevice(h, 'ivan', 'phone');
    service.respond = (_p, attempt) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 201 });
    const r = await publishTo(h, 'ivan', { title: 'later', message: 'm' });
    await until(() => service.for(sub).length === 2, 5000, 'the retry');
    const [first, second] = service.for(sub);
    const gap = second.at - first.at;
    expect(gap).toBeGreaterThanOrEqual(990);
    expect(gap).toBeLessThan(2500);
    expect(second.payload?.id).toBe(r.body.id);
    expect(service.errors).toEqual([]);
    await until(() => h.push.stats.sent === 1, 2000, 'sent');
    expect(h.push.stats).toMatchObject({ retries: 1, sent: 1, failed: 0 });
    // The TTL of the retry is what is left of the notification's life.
    expect(second.ttl).toBeLessThanOrEqual(first.ttl as number);
  });

  it('5xx is retried with backoff up to maxAttempts, then counted failed; the subscription stays', async () => {
    await using h = await startPushHerald({}, { retryBaseMs: 20, maxAttempts: 3 });
    const sub = await detachedSubscribedDevice(h, 'judy', 'phone');
    service.respond = () => ({ status: 503 });
    await publishTo(h, 'judy', { title: 'x', message: 'm' });
    await until(() => h.push.stats.failed === 1, 5000, 'give up');
    await sleep(QUIET_MS);
    expect(service.for(sub)).toHaveLength(3);
    expect(h.push.stats).toMatchObject({ retries: 2, failed: 1, sent: 0 });
    expect(await h.push.store.get('judy', 'phone')).not.toBeNull();
  });

  it('pushes to one device go out one at a time, in publish order, even while one is retried', async () => {
    await using h = await startPushHerald({}, { retryBaseMs: 30, concurrency: 4 });
    const sub = await detachedSubscribedDevice(h, 'kim', 'phone');
    service.respond = (_p, attempt) => (attempt === 2 ? { status: 500 } : { status: 201, delayMs: 5 });
    for (let i = 0; i < 5; i++) await publishTo(h, 'kim', { title: `n${i}`, message: 'm' });
    await until(() => h.push.stats.sent === 5, 5000, 'five sent');
    const titles = service.for(sub).map((p) => p.payload?.title);
    // n1 failed once and was retried before n2 went out.
    expect(titles).toEqual(['n0', 'n1', 'n1', 'n2', 'n3', 'n4']);
  });

  it('a notification too large for one push message arrives shortened, marked truncated', async () => {
    await using h = await startPushHerald();
    const sub = await detachedSubscribedDevice(h, 'lena', 'phone');
    await publishTo(h, 'lena', { title: 'big', message: 'ü'.repeat(6000), data: { x: 'y'.repeat(2000) } });
    await until(() => service.for(sub).length === 1, 5000, 'the push');
    const p = service.for(sub)[0];
    expect(service.errors).toEqual([]);
    expect(p.payload?.truncated).toBe(true);
    expect(p.payload?.data).toBeUndefined();
    expect(p.payload?.title).toBe('big');
    expect(p.payload?.message.length).toBeGreaterThan(1000);
    expect(h.push.stats.truncated).toBe(1);
  });
});

describe('Web Push fallback: no second delivery after a push', () => {
  it("a service worker's ack of the pushed cursor keeps the reconnecting device from getting it again; without the ack it would", async () => {
    await using h = await startPushHerald();
    const sub = await detachedSubscribedDevice(h, 'mia', 'phone');
    const acked = await publishTo(h, 'mia', { title: 'seen in the notification tray', message: 'm' });
    await until(() => service.for(sub).length === 1, 5000, 'the push');
    const cursor = service.for(sub)[0].payload?.cursor;
    expect(cursor).toBe(acked.body.cursor);
    expect((await deviceCall(h, 'POST', '/me/devices/phone/ack', 'mia', { cursor })).status).toBe(204);

    const back = await connectDevice(h, 'mia', 'phone');
    await sleep(100);
    expect(back.frames.find((f) => f.type === 'welcome')?.pending).toBe(0);
    expect(back.notifications).toEqual([]);
    back.close();
    await until(() => h.node.hub.device('mia', 'phone')?.state === 'detached', 5000, 'detached');

    // The control: pushed but not acked, so the reconnect replays it.
    const notAcked = await publishTo(h, 'mia', { title: 'pushed, not acked', message: 'm' });
    await until(() => service.for(sub).length === 2, 5000, 'the second push');
    const again = await connectDevice(h, 'mia', 'phone');
    const replayed = await again.waitFor((f) => f.type === 'notification');
    expect(replayed.id).toBe(notAcked.body.id);
    expect(again.notifications.map((f) => f.id)).toEqual([notAcked.body.id]);
    await again[Symbol.asyncDispose]();
  });

  it('an ack never reaches past what the store handed out', async () => {
    await using h = await startPushHerald();
    const r = await publishTo(h, 'nina', { title: 'a', message: 'm' });
    // Far past the head, in the stream's own epoch (a cursor of another epoch is not a position at all).
    const far = `${(await h.node.store.heads('nina')).ce}.zzzzzzzz.1~0`;
    expect((await deviceCall(h, 'POST', '/me/devices/phone/ack', 'nina', { cursor: far })).status).toBe(204);
    const stored = await h.node.store.getDeviceCursor('nina', 'phone');
    const head = await h.node.store.heads('nina');
    expect(stored?.c).toEqual(head.c);
    // A notification published after the ack still reaches the device.
    const after = await publishTo(h, 'nina', { title: 'b', message: 'm' });
    const dev = await connectDevice(h, 'nina', 'phone');
    const got = await dev.waitFor((f) => f.type === 'notification');
    expect(got.id).toBe(after.body.id);
    expect(dev.notifications.map((f) => f.id)).not.toContain(r.body.id);
    await dev[Symbol.asyncDispose]();
  });
});
