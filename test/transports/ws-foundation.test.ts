import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, connectDevice, publishTo, refusedHandshake, startTestHerald, TestDevice, token, until, wsUrl } from '../support/herald.js';

describe('WebSocket delivery', () => {
  it('reaches every device of a client, one device, and every client by broadcast; never another client', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using laptop = await connectDevice(h, 'alice', 'laptop');
    await using bob = await connectDevice(h, 'bob', 'phone');

    const welcome = phone.frames[0];
    expect(welcome).toMatchObject({ type: 'welcome', connectionId: 'alice:phone', resumed: false, pending: 0 });
    expect(welcome.heartbeat).toEqual({ intervalMs: 30_000, timeoutMs: 10_000 });

    const r1 = await publishTo(h, 'alice', { title: 'Hi', message: 'to alice', data: { n: 1 } });
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ delivered: 2, stored: true });
    expect(r1.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [p1] = await phone.waitForNotifications(1);
    const [l1] = await laptop.waitForNotifications(1);
    for (const n of [p1, l1]) {
      expect(n).toMatchObject({
        type: 'notification',
        id: r1.body.id,
        clientId: 'alice',
        title: 'Hi',
        message: 'to alice',
        service: 'default',
        data: { n: 1 },
      });
      expect(typeof n.cursor).toBe('string');
      expect(typeof n.ts).toBe('number');
    }

    const r2 = await publishTo(h, 'alice', { title: 'Only', message: 'laptop' }, 'laptop');
    expect(r2.body.delivered).toBe(1);
    const l2 = await laptop.waitFor((f) => f.id === r2.body.id);
    expect(l2.deviceId).toBe('laptop');

    const r3 = await api(h, 'POST', '/api/v1/broadcast', { title: 'All', message: 'everyone' });
    expect(r3.status).toBe(202);
    expect(r3.body.delivered).toBe(3);
    for (const d of [phone, laptop, bob]) await d.waitFor((f) => f.id === r3.body.id);

    // Let anything misrouted arrive before checking it did not.
    await new Promise((r) => setTimeout(r, 50));
    expect(phone.notifications.map((n) => n.id)).toEqual([r1.body.id, r3.body.id]);
    expect(bob.notifications.map((n) => n.id)).toEqual([r3.body.id]);
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body).toMatchObject({ clientId: 'alice', online: true });
  });

  it.each([10, 200, 70_000, 150_000])('frames a %i-character message correctly (all three header lengths)', async (size) => {
    await using h = await startTestHerald({ MAX_BODY_BYTES: 256 * 1024 });
    await using d = await connectDevice(h, 'alice', 'phone');
    const message = 'é'.repeat(Math.floor(size / 2)) + 'x'.repeat(size % 2);
    const r = await publishTo(h, 'alice', { title: 't', message });
    const n = await d.waitFor((f) => f.id === r.body.id);
    expect(n.message).toBe(message);
  });

  it("a token for alice cannot receive bob's notifications", async () => {
    await using h = await startTestHerald();
    // alice's token, asking for a device id that bob uses: the token decides the client.
    await using intruder = await connectDevice(h, 'bob', 'phone', { token: await token('alice') });
    expect(intruder.frames[0].connectionId).toBe('alice:phone');
    await using bob = await connectDevice(h, 'bob', 'laptop');
    const r = await publishTo(h, 'bob', { title: 'secret', message: 'for bob' });
    await bob.waitFor((f) => f.id === r.body.id);
    await new Promise((r) => setTimeout(r, 50));
    expect(intruder.notifications).toHaveLength(0);
  });

  it('refuses bad handshakes with HTTP statuses before the upgrade', async () => {
    await using h = await startTestHerald({ ALLOWED_ORIGINS: 'https://app.example' });
    const t = await token('alice');
    expect((await refusedHandshake(wsUrl(h, { device: 'bad id!', token: t }))).status).toBe(400);
    const noDevice = await refusedHandshake(wsUrl(h, { token: t }));
    expect(noDevice.status).toBe(400);
    expect(noDevice.body.field).toBe('device');
    expect((await refusedHandshake(wsUrl(h, { device: 'p' }))).status).toBe(401);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: 'not.a.jwt' }))).status).toBe(401);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: await token('alice', 3600, 'other-secret') }))).status).toBe(401);
    const expired = await token('alice', -120);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: expired }))).status).toBe(401);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: t }), { origin: 'https://evil.example' })).status).toBe(403);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: t, cursor: 'garbage' }), { origin: 'https://app.example' })).status).toBe(400);
    const ok = await connectDevice(h, 'alice', 'p', { headers: { origin: 'https://app.example' } });
    await ok[Symbol.asyncDispose]();
  });
});

describe('replacement and limits', () => {
  it('50 simultaneous handshakes for one connection id leave exactly one live stream; the rest get 4002', async () => {
    await using h = await startTestHerald({ MAX_DEVICES_PER_CLIENT: 100 });
    const t = await token('alice');
    const devices = Array.from({ length: 50 }, () => new TestDevice(new WebSocket(wsUrl(h, { device: 'phone', token: t }))));
    await until(() => h.node.hub.stats.connects.ws === 50, 10_000, 'all 50 handshakes');
    // Settled: every socket open or closed, one open. (One open socket alone can be a loser whose
    // close has not arrived while a later handshake's 101 is still on its way: the test then waited
    // on the winner's close.)
    await until(
      () =>
        devices.every((d) => d.ws.readyState === WebSocket.OPEN || d.ws.readyState === WebSocket.CLOSED) &&
        devices.filter((d) => d.ws.readyState === WebSocket.OPEN).length === 1,
      5000,
      'one open socket, the others closed',
    );
    const codes = await Promise.all(devices.filter((d) => d.ws.readyState !== WebSocket.OPEN).map((d) => d.closed));
    expect(codes).toHaveLength(49);
    for (const c of codes) expect(c).toEqual({ code: 4002, reason: 'replaced' });
    expect(h.node.hub.connectionCount).toBe(1);
    const winner = devices.find((d) => d.ws.readyState === WebSocket.OPEN) as TestDevice;
    await winner.waitFor((f) => f.type === 'welcome');
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    expect(r.body.delivered).toBe(1);
    await winner.waitFor((f) => f.id === r.body.id);
    for (const d of devices) d.ws.terminate();
  });

  it('evict-oldest closes the oldest device with 4008', async () => {
    await using h = await startTestHerald({ MAX_DEVICES_PER_CLIENT: 2 });
    await using a = await connectDevice(h, 'alice', 'a');
    await new Promise((r) => setTimeout(r, 5));
    await using b = await connectDevice(h, 'alice', 'b');
    await using c = await connectDevice(h, 'alice', 'c');
    expect(await a.closed).toEqual({ code: 4008, reason: 'client-limit' });
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    const client = (await api(h, 'GET', '/api/v1/clients/alice')).body;
    expect(
      client.devices
        .filter((d: { state: string }) => d.state === 'attached')
        .map((d: { deviceId: string }) => d.deviceId)
        .sort(),
    ).toEqual(['b', 'c']);
  });

  it('reject refuses the device over the limit with HTTP 429, and a replacement still goes through', async () => {
    await using h = await startTestHerald({ MAX_DEVICES_PER_CLIENT: 2, CLIENT_LIMIT_POLICY: 'reject' });
    await using a = await connectDevice(h, 'alice', 'a');
    await using b = await connectDevice(h, 'alice', 'b');
    const refused = await refusedHandshake(wsUrl(h, { device: 'c', token: await token('alice') }));
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('HERALD_ERR_CLIENT_LIMIT');
    await using a2 = await connectDevice(h, 'alice', 'a');
    expect(await a.closed).toEqual({ code: 4002, reason: 'replaced' });
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect(a2.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('the node connection limit answers 503 before the upgrade', async () => {
    await using h = await startTestHerald({ MAX_CONNECTIONS: 2 });
    await using a = await connectDevice(h, 'alice', 'a');
    await using b = await connectDevice(h, 'bob', 'b');
    const refused = await refusedHandshake(wsUrl(h, { device: 'c', token: await token('carol') }));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('HERALD_ERR_FULL');
    expect(a.ws.readyState + b.ws.readyState).toBe(2 * WebSocket.OPEN);
  });
});

describe('removal', () => {
  it('DELETE by the backend closes the stream with 4003 and drops the registration', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    const res = await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone');
    expect(res.status).toBe(204);
    expect(await d.closed).toEqual({ code: 4003, reason: 'removed' });
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body).toMatchObject({ online: false, devices: [] });
    expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone')).status).toBe(404);
  });

  it('DELETE /me/devices/<id> with the device token leaves', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    const t = await token('alice');
    expect((await api(h, 'DELETE', '/me/devices/phone', undefined, null)).status).toBe(401);
    expect((await api(h, 'DELETE', '/me/devices/phone', undefined, t)).status).toBe(204);
    expect(await d.closed).toEqual({ code: 4003, reason: 'removed' });
  });
});

describe('bad frames', () => {
  const cases: [string, (d: TestDevice) => void][] = [
    ['malformed JSON', (d) => d.send('{"type":')],
    ['an unknown type', (d) => d.send({ type: 'subscribe', channel: 'x' })],
    ['a JSON non-object', (d) => d.send('42')],
    ['an ack without a valid cursor', (d) => d.send({ type: 'ack', cursor: 'nope' })],
    ['a binary frame', (d) => d.ws.send(Buffer.from([1, 2, 3]))],
    ['an oversize frame', (d) => d.send({ type: 'pong', pad: 'x'.repeat(2048) })],
  ];
  it.each(cases)('%s closes that connection with 4400; others are unaffected', async (_name, act) => {
    await using h = await startTestHerald({ MAX_FRAME_BYTES: 1024 });
    await using bad = await connectDevice(h, 'alice', 'bad');
    await using good = await connectDevice(h, 'alice', 'good');
    act(bad);
    expect(await bad.closed).toEqual({ code: 4400, reason: 'bad-frame' });
    const r = await publishTo(h, 'alice', { title: 't', message: 'still here' });
    expect(r.body.delivered).toBe(1);
    await good.waitFor((f) => f.id === r.body.id);
    expect(h.node.hub.stats.disconnects['bad-frame']).toBe(1);
  });

  it('answers a client ping with pong', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    d.send({ type: 'ping' });
    await d.waitFor((f) => f.type === 'pong');
  });
});
