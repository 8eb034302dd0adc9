import { describe, expect, it } from 'vitest';
import { parseExpositionStrict } from '../support/exposition.js';
import { API_KEY, api, connectDevice, publishTo, startTestHerald } from '../support/herald.js';

describe('publisher API errors', () => {
  it('401 without or with a wrong key, before anything else is looked at', async () => {
    await using h = await startTestHerald();
    const none = await api(h, 'POST', '/api/v1/clients/alice/notifications', { title: 't', message: 'm' }, null);
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('HERALD_ERR_UNAUTHORIZED');
    expect((await api(h, 'POST', '/api/v1/clients/alice/notifications', { nope: 1 }, 'wrong-key')).status).toBe(401);
    expect((await api(h, 'GET', '/api/v1/stats', undefined, `${API_KEY}x`)).status).toBe(401);
    expect(h.node.hub.stats.published).toBe(0);
  });

  it.each([
    [{ message: 'm' }, 'title'],
    [{ title: 't' }, 'message'],
    [{ title: 5, message: 'm' }, 'title'],
    [{ title: 't', message: 'm', ttlMs: -1 }, 'ttlMs'],
    [{ title: 't', message: 'm', ttlMs: 1.5 }, 'ttlMs'],
    [{ title: 't', message: 'm', id: 'has space' }, 'id'],
    [{ title: 't', message: 'm', priority: 'urgent' }, 'priority'],
  ])('400 naming the field for %j', async (body, field) => {
    await using h = await startTestHerald();
    const r = await publishTo(h, 'alice', body);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe(field);
    expect(r.body.message).toContain(field);
    expect(h.node.hub.stats.published).toBe(0);
  });

  it('400 for malformed JSON and bad ids in the path', async () => {
    await using h = await startTestHerald();
    const bad = await api(h, 'POST', '/api/v1/clients/alice/notifications', '{"title":');
    expect(bad.status).toBe(400);
    const badId = await publishTo(h, 'al ice', { title: 't', message: 'm' });
    expect(badId.status).toBe(400);
    expect(badId.body.field).toBe('client');
    const badDevice = await api(h, 'POST', `/api/v1/clients/alice/devices/${'x'.repeat(129)}/notifications`, { title: 't', message: 'm' });
    expect(badDevice.status).toBe(400);
    expect(badDevice.body.field).toBe('device');
  });

  it('413 for a body over MAX_BODY_BYTES', async () => {
    await using h = await startTestHerald({ MAX_BODY_BYTES: 1024 });
    const r = await publishTo(h, 'alice', { title: 't', message: 'x'.repeat(2000) });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('HERALD_ERR_TOO_LARGE');
  });

  it('404 for unknown routes, JSON shaped', async () => {
    await using h = await startTestHerald();
    const r = await api(h, 'GET', '/api/v1/nothing-here');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('HERALD_ERR_NOT_FOUND');
    expect((await api(h, 'GET', '/ws-not')).status).toBe(404);
  });
});

describe('batch and idempotency', () => {
  it('publishes up to 1000 items in order; a bad item fails alone with its index', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    const items = [
      { clientId: 'alice', title: 'one', message: 'm' },
      { clientId: 'alice', message: 'no title' },
      { clientId: 'bad id', title: 't', message: 'm' },
      { clientId: 'alice', deviceId: 'phone', title: 'three', message: 'm' },
    ];
    const r = await api(h, 'POST', '/api/v1/batch', { items });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(2);
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([202, 400, 400, 202]);
    expect(r.body.results[1]).toMatchObject({ index: 1, field: 'items[1].title' });
    expect(r.body.results[2]).toMatchObject({ index: 2, field: 'items[2].clientId' });
    const got = await d.waitForNotifications(2);
    expect(got.map((n) => n.title)).toEqual(['one', 'three']);
    const tooMany = await api(h, 'POST', '/api/v1/batch', { items: Array.from({ length: 1001 }, () => items[0]) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('items');
  });

  it('the same idempotency key is the same notification: same id and cursor, delivered once', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    const a = await publishTo(h, 'alice', { title: 't', message: 'm', id: 'order-42' });
    const b = await publishTo(h, 'alice', { title: 't', message: 'm', id: 'order-42' });
    expect(a.status).toBe(202);
    expect(b.body).toMatchObject({ id: 'order-42', cursor: a.body.cursor, delivered: 0 });
    await d.waitForNotifications(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(d.notifications).toHaveLength(1);
  });
});

describe('client view, stats, health and metrics', () => {
  it('answers the JSON shapes of the contract', async () => {
    await using h = await startTestHerald();
    expect((await api(h, 'GET', '/api/v1/clients/nobody')).body).toEqual({ clientId: 'nobody', online: false, epoch: 0, devices: [] });
    await using d = await connectDevice(h, 'alice', 'phone');
    await publishTo(h, 'alice', { title: 't', message: 'm' });
    await d.waitForNotifications(1);
    const c = (await api(h, 'GET', '/api/v1/clients/alice')).body;
    expect(c).toMatchObject({ clientId: 'alice', online: true });
    expect(c.epoch).toBeGreaterThan(0);
    expect(c.devices[0]).toMatchObject({ deviceId: 'phone', connectionId: 'alice:phone', transport: 'ws', state: 'attached', notificationCount: 1 });
    for (const k of ['node', 'connectedAt', 'lastHeartbeatAt', 'lastNotificationAt']) expect(c.devices[0]).toHaveProperty(k);
    expect((await api(h, 'GET', '/health', undefined, null)).body).toEqual({ status: 'ok' });
    expect((await api(h, 'GET', '/health/ready', undefined, null)).body).toEqual({ ready: true });
    expect((await api(h, 'GET', '/health/connections', undefined, null)).body).toEqual({
      total: 1,
      clients: 1,
      byTransport: { ws: 1, sse: 0, grpc: 0, 'grpc-web': 0 },
    });
    expect((await api(h, 'GET', '/health/heartbeats', undefined, null)).body).toMatchObject({
      sent: expect.any(Number),
      answered: expect.any(Number),
      missed: 0,
      zombies: 0,
    });
    expect((await api(h, 'GET', '/health/stale', undefined, null)).body).toMatchObject({ stale: 0, cleaned: 0 });
    const stats = (await api(h, 'GET', '/api/v1/stats')).body;
    expect(stats).toMatchObject({ total: 1, clients: 1, notifications: { published: 1, delivered: 1, dropped: 0 }, node: h.config.NODE_ID, zombies: 0 });
  });

  it('/metrics parses as Prometheus text with the contract metrics', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    await publishTo(h, 'alice', { title: 't', message: 'm' });
    await d.waitForNotifications(1);
    d.close();
    await d.closed;
    const res = await fetch(`${h.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const families = parseExpositionStrict(await res.text());
    const byName = new Map(families.map((f) => [f.name, f]));
    for (const name of [
      'herald_connections',
      'herald_connects_total',
      'herald_disconnects_total',
      'herald_notifications_published_total',
      'herald_notifications_delivered_total',
      'herald_zombies_total',
      'herald_heartbeat_rtt_seconds',
      'herald_send_queue_bytes',
      'herald_event_loop_lag_seconds',
    ]) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(byName.get('herald_heartbeat_rtt_seconds')?.type).toBe('histogram');
    expect(byName.get('herald_notifications_published_total')?.samples[0].value).toBe(1);
    const delivered = byName.get('herald_notifications_delivered_total')?.samples.find((m) => m.labels.transport === 'ws');
    expect(delivered?.value).toBe(1);
    const disc = byName.get('herald_disconnects_total')?.samples.find((m) => m.labels.reason === 'normal');
    expect(disc?.value).toBe(1);
  });
});
