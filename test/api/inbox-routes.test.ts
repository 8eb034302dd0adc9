import { describe, expect, it } from 'vitest';
import { api, publishTo, startTestHerald } from '../support/herald.js';
import { inboxNodes, listAs, me, sleep, uniq } from '../support/inbox.js';
import { connectVia, type WsDevice } from '../support/transports.js';

/**
 * The inbox routes (PROTOCOL.md "Inbox"): a device can never read or change another client's
 * inbox, every bad input is a 400 naming its field, no token is a 401, an unknown item a 404.
 */
const nodes = inboxNodes();

describe.each(nodes.list)('inbox isolation (%s store)', (store) => {
  it("a device of client A never lists, changes or receives anything of client B (B's ids, all, a forged device)", async () => {
    await using h = await nodes.start(store);
    const [a, b] = [uniq('a'), uniq('b')];
    await using aPhone = (await connectVia('ws', h, a, 'phone')) as WsDevice;
    await using bPhone = await connectVia('sse', h, b, 'b-phone');
    const aItem = (await publishTo(h, a, { title: 'for a', message: 'm' })).body.id;
    const bItem = (await publishTo(h, b, { title: 'for b', message: 'm' })).body.id;
    const bOwn = (await publishTo(h, b, { title: 'for b-phone', message: 'm' }, 'b-phone')).body.id;
    await bPhone.waitForNotifications(2);
    await aPhone.waitForNotifications(1);

    // A lists as B's device: A's own inbox as a device of that name sees it, never B's items.
    const forged = await listAs(h, a, 'b-phone', 'filter=all');
    expect(forged.items.map((i) => i.id)).toEqual([aItem]);
    // B's ids by HTTP and over the WebSocket: nothing changes, nobody gets a frame.
    expect((await me(h, a, 'POST', '/me/notifications/state', { device: 'phone', ids: [bItem, bOwn], read: true })).body).toEqual({
      updated: 0,
      unseen: 1,
      unread: 1,
    });
    aPhone.send({ type: 'state', ids: [bItem], archived: true });
    expect((await me(h, a, 'POST', '/me/notifications/state', { device: 'b-phone', ids: [bOwn], read: true })).body.updated).toBe(0);
    // `all` is A's all.
    expect((await me(h, a, 'POST', '/me/notifications/state', { device: 'phone', all: true, read: true })).body).toEqual({ updated: 1, unseen: 0, unread: 0 });
    await aPhone.waitFor((f) => f.type === 'state');
    await sleep(100);
    expect(bPhone.frames.filter((f) => f.type === 'state')).toEqual([]);
    expect(aPhone.frames.filter((f) => f.type === 'state')).toHaveLength(1);
    const bView = await listAs(h, b, 'b-phone', 'filter=all');
    expect(bView).toMatchObject({ unseen: 2, unread: 2 });
    expect(bView.items.every((i) => i.readAt === null && i.archivedAt === null)).toBe(true);
    // The publisher API does not find B's item under A.
    expect((await api(h, 'PATCH', `/api/v1/clients/${a}/notifications/${bItem}`, { title: 'x' })).status).toBe(404);
    expect((await api(h, 'DELETE', `/api/v1/clients/${a}/notifications/${bItem}`)).status).toBe(404);
    expect((await listAs(h, b, 'b-phone')).items.map((i) => i.id)).toEqual([bOwn, bItem]);
  });
});

describe('inbox routes: answers and refusals', () => {
  it('device side: 401 without a token, ?token= accepted, 400 naming each bad field, a bad WebSocket frame closes 4400', async () => {
    await using h = await startTestHerald();
    const alice = uniq('alice');
    await publishTo(h, alice, { title: 'x', message: 'm' });
    expect((await me(h, null, 'GET', '/me/notifications?device=phone')).status).toBe(401);
    expect((await me(h, null, 'POST', '/me/notifications/state', { device: 'phone', all: true, read: true })).status).toBe(401);
    expect((await me(h, null, 'POST', '/me/notifications/state', 'not json')).status).toBe(401);
    const viaQuery = await me(h, alice, 'GET', '/me/notifications?device=phone', undefined, { asQuery: true });
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.body).toMatchObject({ unseen: 1, unread: 1, next: null });

    const listField = async (q: string) => (await me(h, alice, 'GET', `/me/notifications?${q}`)).body.field;
    expect(await listField('')).toBe('device');
    expect(await listField('device=a%20b')).toBe('device');
    expect(await listField('device=p&limit=0')).toBe('limit');
    expect(await listField('device=p&limit=101')).toBe('limit');
    expect(await listField('device=p&limit=ten')).toBe('limit');
    expect(await listField('device=p&filter=bogus')).toBe('filter');
    expect(await listField('device=p&before=garbage')).toBe('before');

    const stateField = async (body: unknown) => {
      const r = await me(h, alice, 'POST', '/me/notifications/state', body);
      expect(r.status).toBe(400);
      return r.body.field;
    };
    expect(await stateField({ ids: ['x'], read: true })).toBe('device');
    expect(await stateField({ device: 'p p', ids: ['x'], read: true })).toBe('device');
    expect(await stateField({ device: 'p', ids: ['x'], all: true, read: true })).toBe('all');
    expect(await stateField({ device: 'p', read: true })).toBe('ids');
    expect(await stateField({ device: 'p', all: false, read: true })).toBe('all');
    expect(await stateField({ device: 'p', ids: 'x', read: true })).toBe('ids');
    expect(await stateField({ device: 'p', ids: Array.from({ length: 1001 }, (_, i) => `n${i}`), read: true })).toBe('ids');
    expect(await stateField({ device: 'p', ids: ['a', 'b', 'c', 'no spaces'], read: true })).toBe('ids[3]');
    expect(await stateField({ device: 'p', ids: ['x'], read: 'yes' })).toBe('read');
    expect(await stateField({ device: 'p', ids: ['x'], archived: 1 })).toBe('archived');
    expect(await stateField({ device: 'p', ids: ['x'] })).toBe('seen');
    expect(await stateField({ device: 'p', ids: ['x'], seen: false, read: true })).toBe('seen');
    expect(await stateField('[1,2]')).toBe('body');
    expect(await stateField('{oops')).toBe('body');

    for (const frame of [
      { type: 'state', read: true },
      { type: 'state', ids: ['x'], read: 'yes' },
      { type: 'state', ids: ['x'] },
    ]) {
      const d = (await connectVia('ws', h, alice, 'phone')) as WsDevice;
      d.send(frame);
      expect((await d.closedWithin()).code).toBe(4400);
    }
  });

  it('device side follows ALLOWED_ORIGINS: CORS headers for an allowed origin, 403 for another', async () => {
    await using h = await startTestHerald({ ALLOWED_ORIGINS: 'https://app.example' });
    const alice = uniq('alice');
    const headers = async (origin: string) => {
      const { token } = await import('../support/herald.js');
      return fetch(`${h.url}/me/notifications?device=phone`, { headers: { origin, authorization: `Bearer ${await token(alice)}` } });
    };
    const ok = await headers('https://app.example');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect((await headers('https://evil.example')).status).toBe(403);
    const preflight = await fetch(`${h.url}/me/notifications/state`, { method: 'OPTIONS', headers: { origin: 'https://app.example' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('publisher side: listing with and without device, backend changes by: null, PATCH/DELETE, 404s, 400s, 401', async () => {
    await using h = await startTestHerald();
    const alice = uniq('alice');
    await using phone = await connectVia('ws', h, alice, 'phone');
    const shared = (await publishTo(h, alice, { title: 'shared', message: 'm', data: { k: 1 } })).body.id;
    const own = (await publishTo(h, alice, { title: 'laptop only', message: 'm' }, 'laptop')).body.id;
    const all = await api(h, 'GET', `/api/v1/clients/${alice}/notifications`);
    expect(all.body.items.map((i: any) => [i.id, i.deviceId])).toEqual([
      [own, 'laptop'],
      [shared, undefined],
    ]);
    expect(all.body).toMatchObject({ unseen: 2, unread: 2, next: null });
    expect((await api(h, 'GET', `/api/v1/clients/${alice}/notifications?device=phone`)).body).toMatchObject({ unseen: 1, unread: 1 });
    expect((await api(h, 'GET', `/api/v1/clients/${alice}/notifications?limit=1`)).body.next).toEqual(expect.any(String));

    expect((await api(h, 'POST', `/api/v1/clients/${alice}/notifications/state`, { device: 'phone', all: true, seen: true })).body).toEqual({
      updated: 1,
      unseen: 0,
      unread: 1,
    });
    expect(await phone.waitFor((f) => f.type === 'state')).toMatchObject({ all: true, seen: true, by: null, unseen: 0, unread: 1 });

    const patched = await api(h, 'PATCH', `/api/v1/clients/${alice}/notifications/${shared}`, { message: 'edited' });
    expect(patched).toEqual({ status: 200, body: { id: shared, version: 2, cursor: expect.any(String) } });
    expect(await phone.waitFor((f) => f.type === 'update')).toMatchObject({ id: shared, message: 'edited', title: 'shared', data: { k: 1 }, version: 2 });
    expect((await api(h, 'PATCH', `/api/v1/clients/${alice}/notifications/${shared}`, { title: 'again' })).body.version).toBe(3);
    expect((await api(h, 'DELETE', `/api/v1/clients/${alice}/notifications/${shared}`)).status).toBe(204);
    expect(await phone.waitFor((f) => f.type === 'delete')).toMatchObject({ id: shared });
    expect((await api(h, 'DELETE', `/api/v1/clients/${alice}/notifications/${shared}`)).status).toBe(404);
    expect((await api(h, 'PATCH', `/api/v1/clients/${alice}/notifications/no-such`, { title: 'x' })).body).toMatchObject({ code: 'HERALD_ERR_NOT_FOUND' });
    expect((await api(h, 'PATCH', '/api/v1/broadcast/no-such', { title: 'x' })).status).toBe(404);
    expect((await api(h, 'DELETE', '/api/v1/broadcast/no-such')).status).toBe(404);

    const field = async (method: string, path: string, body?: unknown) => {
      const r = await api(h, method, path, body);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      return r.body.field;
    };
    expect(await field('PATCH', `/api/v1/clients/${alice}/notifications/${own}`, {})).toBe('body');
    expect(await field('PATCH', `/api/v1/clients/${alice}/notifications/${own}`, { title: 7 })).toBe('title');
    expect(await field('PATCH', `/api/v1/clients/${alice}/notifications/${own}`, { title: 'x'.repeat(1025) })).toBe('title');
    expect(await field('PATCH', `/api/v1/clients/${alice}/notifications/${own}`, { data: { s: '\ud800' } })).toBe('data.s');
    expect(await field('PATCH', `/api/v1/clients/${alice}/notifications/a%20b`, { title: 'x' })).toBe('id');
    expect(await field('GET', '/api/v1/clients/a%20b/notifications')).toBe('client');
    expect(await field('GET', `/api/v1/clients/${alice}/notifications?device=a%20b`)).toBe('device');
    expect(await field('POST', `/api/v1/clients/${alice}/notifications/state`, { ids: ['x'] })).toBe('seen');
    expect(await field('POST', `/api/v1/clients/${alice}/notifications`, { title: 't', message: 'm', collapseKey: 'no spaces' })).toBe('collapseKey');
    expect(await field('POST', `/api/v1/clients/${alice}/notifications`, { title: 't', message: 'm', excludeDevices: 'phone' })).toBe('excludeDevices');
    expect(await field('POST', '/api/v1/broadcast', { title: 't', message: 'm', excludeDevices: ['phone'] })).toBe('excludeDevices');
    const batch = await api(h, 'POST', '/api/v1/batch', {
      items: [
        { clientId: alice, title: 't', message: 'm', excludeDevices: ['ok', 'not ok'] },
        { clientId: alice, title: 't', message: 'm', collapseKey: '' },
      ],
    });
    expect(batch.body.results.map((r: any) => r.field)).toEqual(['items[0].excludeDevices[1]', 'items[1].collapseKey']);

    for (const [method, path] of [
      ['GET', `/api/v1/clients/${alice}/notifications`],
      ['POST', `/api/v1/clients/${alice}/notifications/state`],
      ['PATCH', `/api/v1/clients/${alice}/notifications/${own}`],
      ['DELETE', `/api/v1/clients/${alice}/notifications/${own}`],
      ['PATCH', `/api/v1/broadcast/${own}`],
      ['DELETE', `/api/v1/broadcast/${own}`],
    ]) {
      expect((await api(h, method, path, method === 'GET' || method === 'DELETE' ? undefined : {}, null)).status, `${method} ${path}`).toBe(401);
    }
  });
});
