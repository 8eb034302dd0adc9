import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import type { DeviceClient } from '../support/device-client.js';
import { connectGrpc } from '../support/grpc.js';
import { api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { connectSse } from '../support/sse.js';
import { connectVia, kindOf, refusalOf, refusedVia, TRANSPORTS, type TransportName, type WsDevice } from '../support/transports.js';

/**
 * One transport contract (issue 6): every scenario runs against WebSocket, SSE, gRPC, and the HTTP
 * port's gRPC-Web (over HTTP/1.1) and Connect (over HTTP/2) with a real client of each protocol
 * (`ws`, `eventsource`, `@grpc/grpc-js` + `@grpc/proto-loader`, `@connectrpc/connect-node`).
 * Frames are compared in the WebSocket JSON shape; each client maps its wire onto it.
 */
const start = (cfg: ConfigInput = {}) => startTestHerald({ GRPC_PORT: 0, ...cfg });
/** Short heartbeats: a ping every 50 ms, answered within 100 ms, a zombie after 2 misses. */
const FAST_HEARTBEATS: ConfigInput = { HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 100, HEARTBEAT_MAX_MISSED: 2 };
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe.each(TRANSPORTS)('transport contract over %s', (t: TransportName) => {
  const connect = (h: Parameters<typeof connectVia>[1], clientId: string, deviceId: string, opts?: Parameters<typeof connectVia>[4]) =>
    connectVia(t, h, clientId, deviceId, opts);

  it('starts with a welcome: connection id, heartbeat settings, resumed, pending', async () => {
    await using h = await start({ HEARTBEAT_INTERVAL_MS: 20_000, HEARTBEAT_TIMEOUT_MS: 7000 });
    await using d = await connect(h, 'alice', 'phone');
    expect(d.frames[0]).toMatchObject({ type: 'welcome', connectionId: 'alice:phone', resumed: false, pending: 0 });
    expect(d.frames[0].heartbeat).toEqual({ intervalMs: 20_000, timeoutMs: 7000 });
    expect(h.node.hub.device('alice', 'phone')).toMatchObject({ state: 'attached', transport: kindOf(t) });
  });

  it('delivers to every device of a client, to one device, and by broadcast; never to another client', async () => {
    await using h = await start();
    await using phone = await connect(h, 'alice', 'phone');
    await using laptop = await connect(h, 'alice', 'laptop');
    await using bob = await connect(h, 'bob', 'phone');

    const r1 = await publishTo(h, 'alice', { title: 'Hi', message: 'to alice', service: 'chat', data: { n: 1, s: 'ü' } });
    expect(r1.body).toMatchObject({ delivered: 2, stored: true });
    for (const d of [phone, laptop]) {
      const n = await d.waitFor((f) => f.id === r1.body.id);
      expect(n).toMatchObject({ type: 'notification', clientId: 'alice', title: 'Hi', message: 'to alice', service: 'chat', data: { n: 1, s: 'ü' } });
      expect(n.deviceId).toBeUndefined();
      expect(typeof n.cursor).toBe('string');
      expect(typeof n.ts).toBe('number');
    }

    const r2 = await publishTo(h, 'alice', { title: 'Only', message: 'laptop' }, 'laptop');
    expect(r2.body.delivered).toBe(1);
    expect(await laptop.waitFor((f) => f.id === r2.body.id)).toMatchObject({ deviceId: 'laptop', clientId: 'alice' });

    const r3 = await api(h, 'POST', '/api/v1/broadcast', { title: 'All', message: 'everyone' });
    expect(r3.body.delivered).toBe(3);
    for (const d of [phone, laptop, bob]) await d.waitFor((f) => f.id === r3.body.id);
    expect((await bob.waitFor((f) => f.id === r3.body.id)).clientId).toBe('bob');

    await settle();
    expect(phone.notifications.map((n) => n.id)).toEqual([r1.body.id, r3.body.id]);
    expect(laptop.notifications.map((n) => n.id)).toEqual([r1.body.id, r2.body.id, r3.body.id]);
    expect(bob.notifications.map((n) => n.id)).toEqual([r3.body.id]);
  });

  it('a publish holding a lone surrogate is a 400 naming the field on every route and in a batch; the device never receives one', async () => {
    await using h = await start();
    await using d = await connect(h, 'alice', 'phone');
    const lone = '\ud83d'; // JSON.stringify sends it as the escape "\ud83d", which parses back to the lone surrogate
    const routes: [string, string][] = [
      ['client', '/api/v1/clients/alice/notifications'],
      ['device', '/api/v1/clients/alice/devices/phone/notifications'],
      ['broadcast', '/api/v1/broadcast'],
    ];
    const bodies: [object, string][] = [
      [{ title: lone, message: 'm' }, 'title'],
      [{ title: 't', message: `a${lone}b` }, 'message'],
      [{ title: 't', message: 'm', service: `s${lone}` }, 'service'],
      [{ title: 't', message: 'm', id: `k${lone}` }, 'id'],
      [{ title: 't', message: 'm', data: { list: [1, { text: `x${lone}` }] } }, 'data.list[1].text'],
      [{ title: 't', message: 'm', data: { [`k${lone}`]: 1 } }, 'data.k\ufffd'],
      [{ title: 't', message: 'm', data: `\udc00` }, 'data'],
    ];
    for (const [route, path] of routes) {
      for (const [body, field] of bodies) {
        const r = await api(h, 'POST', path, body);
        expect(r.status, `${route} ${field}`).toBe(400);
        expect(r.body).toMatchObject({ code: 'HERALD_ERR_INVALID', field });
        expect(r.body.message).toContain(field);
      }
    }
    const batch = await api(h, 'POST', '/api/v1/batch', {
      items: [
        { clientId: 'alice', title: 'ok', message: 'm' },
        { clientId: 'alice', title: lone, message: 'm' },
        { clientId: 'alice', deviceId: 'phone', title: 't', message: 'm', data: { a: [lone] } },
      ],
    });
    expect(batch.body).toMatchObject({ accepted: 1, failed: 2 });
    expect(batch.body.results[1]).toMatchObject({ index: 1, status: 400, field: 'items[1].title' });
    expect(batch.body.results[2]).toMatchObject({ index: 2, status: 400, field: 'items[2].data.a[0]' });
    // Well-formed text beyond the BMP (a surrogate pair) is fine.
    const good = await publishTo(h, 'alice', { title: '\ud83d\ude00', message: 'm', data: { e: '\u{1F600}' } });
    expect(good.status).toBe(202);
    await d.waitFor((f) => f.id === good.body.id);
    await settle();
    expect(d.notifications.map((n) => n.title)).toEqual(['ok', '😀']);
    expect(h.node.hub.stats.published).toBe(2);
    // Nothing any frame carries holds a lone surrogate, or the U+FFFD an encoder would put in its place.
    // (JSON.stringify writes a lone surrogate as an escape, a pair as itself.)
    expect(JSON.stringify(d.frames)).not.toMatch(/\\ud[89a-f][0-9a-f]{2}|\ufffd/i);
  });

  it('keeps publish order within a client', async () => {
    await using h = await start();
    await using d = await connect(h, 'alice', 'phone');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await publishTo(h, 'alice', { title: `t${i}`, message: 'm' })).body.id);
    expect((await d.waitForNotifications(20)).map((n) => n.id)).toEqual(ids);
  });

  it('replacement: the same connection id again closes the older stream with 4002 and the new one gets what follows', async () => {
    await using h = await start();
    await using first = await connect(h, 'alice', 'phone');
    await using second = await connect(h, 'alice', 'phone');
    expect(await first.closedWithin()).toEqual({ code: 4002, reason: 'replaced' });
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    expect(r.body.delivered).toBe(1);
    await second.waitFor((f) => f.id === r.body.id);
    expect(h.node.hub.connectionCount).toBe(1);
  });

  it('removal by the backend closes the stream with 4003 and drops the registration', async () => {
    await using h = await start();
    await using d = await connect(h, 'alice', 'phone');
    expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone')).status).toBe(204);
    expect(await d.closedWithin()).toEqual({ code: 4003, reason: 'removed' });
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body).toMatchObject({ online: false, devices: [] });
  });

  it('a device leaving with DELETE /me/devices/<id> is closed with 4003', async () => {
    await using h = await start();
    await using d = await connect(h, 'alice', 'phone');
    expect((await api(h, 'DELETE', '/me/devices/phone', undefined, await token('alice'))).status).toBe(204);
    expect(await d.closedWithin()).toEqual({ code: 4003, reason: 'removed' });
  });

  it('heartbeats: a device that answers stays; one that stops answering is closed as a zombie (4004)', async () => {
    await using h = await start(FAST_HEARTBEATS);
    await using good = await connect(h, 'alice', 'good');
    await using zombie = await connect(h, 'alice', 'zombie');
    zombie.autoPong = false;
    expect(await zombie.closedWithin(3000)).toEqual({ code: 4004, reason: 'zombie' });
    expect(zombie.frames.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(2);
    // The answering device outlives many intervals and its pongs are counted.
    await settle(400);
    expect(good.isClosed).toBe(false);
    expect(good.frames.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(5);
    expect(h.node.hub.device('alice', 'good')?.rttMs).not.toBeNull();
    expect(h.node.hub.stats.zombies).toBe(1);
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    expect(r.body.delivered).toBe(1);
    await good.waitFor((f) => f.id === r.body.id);
  });

  it('per-client limit with evict-oldest: the oldest device is closed with 4008', async () => {
    await using h = await start({ MAX_DEVICES_PER_CLIENT: 2 });
    await using a = await connect(h, 'alice', 'a');
    await settle(5);
    await using b = await connect(h, 'alice', 'b');
    await using c = await connect(h, 'alice', 'c');
    expect(await a.closedWithin()).toEqual({ code: 4008, reason: 'client-limit' });
    expect(b.isClosed || c.isClosed).toBe(false);
    expect(
      h.node.hub
        .client('alice')
        .devices.filter((d) => d.state === 'attached')
        .map((d) => d.deviceId)
        .sort(),
    ).toEqual(['b', 'c']);
  });

  it('per-client limit with reject: refused before the stream starts; a replacement still goes through', async () => {
    await using h = await start({ MAX_DEVICES_PER_CLIENT: 2, CLIENT_LIMIT_POLICY: 'reject' });
    await using a = await connect(h, 'alice', 'a');
    await using b = await connect(h, 'alice', 'b');
    expect(await refusedVia(t, h, 'alice', 'c')).toBe(refusalOf(t, 429));
    await using a2 = await connect(h, 'alice', 'a');
    expect(await a.closedWithin()).toEqual({ code: 4002, reason: 'replaced' });
    expect(b.isClosed || a2.isClosed).toBe(false);
  });

  it('node connection limit: refused before the stream starts', async () => {
    await using h = await start({ MAX_CONNECTIONS: 1 });
    await using a = await connect(h, 'alice', 'a');
    expect(await refusedVia(t, h, 'bob', 'b')).toBe(refusalOf(t, 503));
    expect(a.isClosed).toBe(false);
  });

  it('refuses a bad token, a bad device id and a bad cursor before the stream starts', async () => {
    await using h = await start();
    expect(await refusedVia(t, h, 'alice', 'phone', { token: 'not.a.jwt' })).toBe(refusalOf(t, 401));
    expect(await refusedVia(t, h, 'alice', 'phone', { token: await token('alice', 3600, 'another-secret') })).toBe(refusalOf(t, 401));
    expect(await refusedVia(t, h, 'alice', 'bad id!')).toBe(refusalOf(t, 400));
    expect(await refusedVia(t, h, 'alice', 'phone', { cursor: 'garbage' })).toBe(refusalOf(t, 400));
    expect(h.node.hub.connectionCount).toBe(0);
  });

  it('slow consumer: a device that stops reading is closed with 4009; the close reaches it once it reads again', async () => {
    // A small send queue; the store keeps little, since these payloads are large.
    await using h = await start({ SEND_QUEUE_BYTES: 256 * 1024, RETENTION_MESSAGES: 5 });
    await using slow = await connect(h, 'alice', 'slow');
    await using fast = await connect(h, 'bob', 'fast');
    slow.stopReading();
    const message = 'x'.repeat(60_000);
    // Until the kernel's and the transport's buffers are full and the send queue overflows.
    for (let i = 0; i < 2000 && !h.node.hub.stats.disconnects['slow-consumer']; i++) await publishTo(h, 'alice', { title: `n${i}`, message });
    expect(h.node.hub.stats.disconnects['slow-consumer']).toBe(1);
    // Other clients are not held up by it.
    const r = await publishTo(h, 'bob', { title: 'still', message: 'flowing' });
    await fast.waitFor((f) => f.id === r.body.id);
    slow.resumeReading();
    expect(await slow.closedWithin(10_000)).toEqual({ code: 4009, reason: 'slow-consumer' });
  });

  it('shutdown: a shutdown frame with a reconnect hint, then close 1012; new devices are refused meanwhile', async () => {
    await using h = await start({ DRAIN_TIMEOUT_MS: 300, FLUSH_TIMEOUT_MS: 100 });
    await using d = await connect(h, 'alice', 'phone');
    const closing = h.close();
    expect(await refusedVia(t, h, 'bob', 'phone')).toBe(refusalOf(t, 503));
    const shutdown = await d.waitFor((f) => f.type === 'shutdown');
    expect(typeof shutdown.reconnectAfterMs).toBe('number');
    expect(await d.closedWithin()).toEqual({ code: 1012, reason: 'restart' });
    expect(d.frames.findIndex((f) => f.type === 'shutdown')).toBeGreaterThan(0);
    await closing;
  });

  it('resume by cursor: a device that comes back with its cursor gets exactly what it missed', async () => {
    await using h = await start();
    const d1 = await connect(h, 'alice', 'phone');
    const r1 = await publishTo(h, 'alice', { title: 'one', message: 'm' });
    const [n1] = await d1.waitForNotifications(1);
    expect(n1.id).toBe(r1.body.id);
    await d1[Symbol.asyncDispose]();
    await until(() => h.node.hub.device('alice', 'phone')?.state === 'detached', 5000, 'detached');
    const r2 = await publishTo(h, 'alice', { title: 'two', message: 'm' });
    const r3 = await api(h, 'POST', '/api/v1/broadcast', { title: 'three', message: 'to all' });
    expect(r2.body.delivered + r3.body.delivered).toBe(0);

    await using d2 = await connect(h, 'alice', 'phone', { cursor: n1.cursor as string });
    expect(d2.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 2 });
    await d2.waitForNotifications(2);
    await settle();
    // No order is promised between a client's stream and the broadcasts: both, once each.
    expect(d2.notifications.map((n) => n.id).sort()).toEqual([r2.body.id, r3.body.id].sort());
  });

  it('an ack advances the stored cursor: a reconnect without a cursor starts after it', async () => {
    await using h = await start();
    const d1 = await connect(h, 'alice', 'phone');
    await publishTo(h, 'alice', { title: 'one', message: 'm' });
    const r2 = await publishTo(h, 'alice', { title: 'two', message: 'm' });
    const [n1] = await d1.waitForNotifications(2);
    await d1.ack(n1.cursor as string);
    await settle(20);
    d1.close();
    await until(() => h.node.hub.device('alice', 'phone')?.state === 'detached', 5000, 'detached');
    const r3 = await publishTo(h, 'alice', { title: 'three', message: 'm' });

    await using d2 = await connect(h, 'alice', 'phone');
    expect(d2.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 2 });
    await d2.waitForNotifications(2);
    await settle();
    expect(d2.notifications.map((n) => n.id)).toEqual([r2.body.id, r3.body.id]);
    await d1[Symbol.asyncDispose]();
  });

  // 4400 needs device → server frames on the stream, which only WebSocket has. SSE and gRPC take
  // device input as separate requests (POST /sse/ack, the Ack RPC): bad input there is refused with
  // 400 / INVALID_ARGUMENT and never touches the stream (sse.test.ts, grpc.test.ts).
  it.skipIf(t !== 'ws')('bad input on the stream closes it with 4400; the other devices are unaffected', async () => {
    await using h = await start();
    await using bad = await connect(h, 'alice', 'bad');
    await using good = await connect(h, 'alice', 'good');
    (bad as WsDevice).send({ type: 'subscribe' });
    expect(await bad.closedWithin()).toEqual({ code: 4400, reason: 'bad-frame' });
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    await good.waitFor((f) => f.id === r.body.id);
  });

  it('token expiry: token-expired, then close 1008 after the grace period', async () => {
    // Heartbeats of 200 ms only to make the timer wheel's tick fine (it follows the heartbeat settings).
    await using h = await start({ JWT_CLOCK_SKEW_MS: 0, TOKEN_GRACE_MS: 100, HEARTBEAT_INTERVAL_MS: 200, HEARTBEAT_TIMEOUT_MS: 200 });
    // `exp` has whole seconds: this token runs out at the next second boundary, at least 300 ms away.
    const toNextSecond = 1000 - (Date.now() % 1000);
    if (toNextSecond < 300) await settle(toNextSecond + 5);
    await using d = await connect(h, 'alice', 'phone', { token: await token('alice', 1) });
    expect(await d.waitFor((f) => f.type === 'token-expired', 3000)).toMatchObject({ graceMs: 100 });
    expect(await d.closedWithin(3000)).toEqual({ code: 1008, reason: 'unauthorized' });
  });
});

describe('devices of one client across transports', () => {
  it('alice with a phone on gRPC and a laptop on SSE gets one notification on both; after the phone leaves, only the laptop (seeds Test 5)', async () => {
    await using h = await start();
    const phone = await connectGrpc(h, 'alice', 'phone');
    await using laptop = await connectSse(h, 'alice', 'laptop');
    const r1 = await publishTo(h, 'alice', { title: 'both', message: 'm' });
    expect(r1.body.delivered).toBe(2);
    await phone.waitFor((f) => f.id === r1.body.id);
    await laptop.waitFor((f) => f.id === r1.body.id);
    await settle();
    expect(phone.notifications).toHaveLength(1);
    expect(laptop.notifications).toHaveLength(1);
    // The same cursor names the same place whichever transport carried it.
    expect(phone.notifications[0].cursor).toBe(laptop.notifications[0].cursor);

    await phone[Symbol.asyncDispose]();
    await until(() => h.node.hub.device('alice', 'phone')?.state === 'detached', 5000, 'phone detached');
    const r2 = await publishTo(h, 'alice', { title: 'laptop only', message: 'm' });
    expect(r2.body.delivered).toBe(1);
    await laptop.waitFor((f) => f.id === r2.body.id);
    expect(phone.notifications).toHaveLength(1);
  });

  it.each([
    ['ws', 'sse'],
    ['sse', 'grpc'],
    ['grpc', 'ws'],
    ['ws', 'grpc-web'],
    ['grpc-web', 'grpc'],
    ['connect', 'sse'],
  ] as const)('a device moving from %s to %s replaces its old stream (4002): never two live streams', async (from, to) => {
    await using h = await start();
    await using old = await connectVia(from, h, 'alice', 'phone');
    await using moved = await connectVia(to, h, 'alice', 'phone');
    expect(await old.closedWithin()).toEqual({ code: 4002, reason: 'replaced' });
    expect(h.node.hub.device('alice', 'phone')?.transport).toBe(kindOf(to));
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    expect(r.body.delivered).toBe(1);
    await moved.waitFor((f) => f.id === r.body.id);
  });

  it('one broadcast reaches devices on every transport', async () => {
    await using h = await start();
    const devices: DeviceClient[] = [];
    for (const t of TRANSPORTS) for (let i = 0; i < 3; i++) devices.push(await connectVia(t, h, `c${i}`, t));
    try {
      const r = await api(h, 'POST', '/api/v1/broadcast', { title: 'all', message: 'of you' });
      expect(r.body.delivered).toBe(TRANSPORTS.length * 3);
      for (const d of devices) expect(await d.waitFor((f) => f.id === r.body.id)).toMatchObject({ title: 'all', message: 'of you' });
    } finally {
      for (const d of devices) await d[Symbol.asyncDispose]();
    }
  });
});
