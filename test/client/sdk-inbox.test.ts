import { describe, expect, it } from 'vitest';
import type { InboxCounts, StateFrame } from '../../src/client/index.js';
import { api, publishTo, startTestHerald, until } from '../support/herald.js';
import { type Recorded, sdk, TRANSPORTS, untilCount } from './helpers.js';

/** `conn.inbox` in Node against a real node: the state of one client's items, shared live by its devices. */

const FAST = { HEARTBEAT_INTERVAL_MS: 200, HEARTBEAT_TIMEOUT_MS: 1000 };

/** What the server says this device's inbox is (the backend's view of it). */
async function serverCounts(h: { url: string }, client: string, device: string): Promise<InboxCounts> {
  const r = await api(h, 'GET', `/api/v1/clients/${client}/notifications?device=${device}`);
  expect(r.status).toBe(200);
  return { unseen: r.body.unseen, unread: r.body.unread };
}

function states(r: Recorded): StateFrame[] {
  const out: StateFrame[] = [];
  r.conn.inbox.on('state', (f) => out.push(f));
  return out;
}

describe.each(TRANSPORTS)('conn.inbox over %s', (transport) => {
  it("lists, and a change made on one device reaches the other's state event, items and counts", async () => {
    await using h = await startTestHerald(FAST);
    using laptop = await sdk(h, 'alice', 'laptop', transport);
    using phone = await sdk(h, 'alice', 'phone', transport);
    await Promise.all([laptop.conn.whenOpen(), phone.conn.whenOpen()]);
    const ids: string[] = [];
    for (const t of ['n1', 'n2', 'n3']) ids.push((await publishTo(h, 'alice', { title: t, message: 'm' })).body.id);
    await publishTo(h, 'alice', { title: 'for the phone', message: 'm' }, 'phone');
    await untilCount(laptop, 3);
    await untilCount(phone, 4);
    const page = await laptop.conn.inbox.list({ limit: 2 });
    expect(page.items.map((i) => i.title)).toEqual(['n3', 'n2']);
    expect(page).toMatchObject({ unseen: 3, unread: 3, next: expect.any(String) });
    const rest = await laptop.conn.inbox.list({ before: page.next });
    expect(rest.items.map((i) => i.title)).toEqual(['n1']);
    expect(laptop.conn.inbox.items.map((i) => i.title)).toEqual(['n3', 'n2', 'n1']);
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 3, unread: 3 });
    expect(phone.conn.inbox.counts).toEqual({ unseen: 4, unread: 4 });

    const seen = states(phone);
    const counts: InboxCounts[] = [];
    phone.conn.inbox.on('counts', (c) => counts.push(c));
    expect(await laptop.conn.inbox.markRead([ids[0], ids[0], 'no-such-id'])).toEqual({ updated: 1, unseen: 2, unread: 2 });
    await until(() => seen.length === 1, 3000, "the phone's state event");
    expect(seen[0]).toMatchObject({ type: 'state', ids: [ids[0]], read: true, by: 'laptop', unseen: 3, unread: 3 });
    expect(phone.conn.inbox.get(ids[0])).toMatchObject({ title: 'n1', readAt: expect.any(Number), seenAt: expect.any(Number) });
    expect(phone.conn.inbox.counts).toEqual({ unseen: 3, unread: 3 });
    expect(counts).toEqual([{ unseen: 3, unread: 3 }]);
    await until(() => laptop.conn.inbox.get(ids[0])?.readAt != null, 2000, 'the laptop applying its own change');
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 2, unread: 2 });

    // The phone archives everything it can list: the laptop's counts drop to 0, its items show it.
    await phone.conn.inbox.archive('all');
    await until(() => laptop.conn.inbox.counts?.unread === 0, 3000, "the laptop's counts");
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 0, unread: 0 });
    expect(laptop.conn.inbox.items.every((i) => i.archivedAt !== null)).toBe(true);
    expect(phone.conn.inbox.counts).toEqual({ unseen: 0, unread: 0 });
    expect(laptop.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
  });
});

describe('conn.inbox over ws', () => {
  it('applies updates and deletes to the items it holds, and counts new notifications', async () => {
    await using h = await startTestHerald(FAST);
    using laptop = await sdk(h, 'bob', 'laptop', 'ws');
    await laptop.conn.whenOpen();
    const a = (await publishTo(h, 'bob', { title: 'a', message: 'm', data: { v: 1 } })).body.id;
    const b = (await publishTo(h, 'bob', { title: 'b', message: 'm' })).body.id;
    await untilCount(laptop, 2);
    expect(laptop.conn.inbox.items.map((i) => i.id)).toEqual([b, a]);
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 2, unread: 2 });
    const updates: number[] = [];
    laptop.conn.inbox.on('update', (f) => updates.push(f.version));
    expect((await api(h, 'PATCH', `/api/v1/clients/bob/notifications/${a}`, { title: 'a, edited', data: { v: 2 } })).status).toBe(200);
    await until(() => updates.length === 1, 3000, 'the update');
    expect(laptop.conn.inbox.get(a)).toMatchObject({ title: 'a, edited', message: 'm', data: { v: 2 }, version: 2, readAt: null });
    expect((await api(h, 'DELETE', `/api/v1/clients/bob/notifications/${b}`)).status).toBe(204);
    await until(() => laptop.conn.inbox.get(b) === undefined, 3000, 'the delete');
    expect(laptop.conn.inbox.items.map((i) => i.id)).toEqual([a]);
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 1, unread: 1 });
    expect(await serverCounts(h, 'bob', 'laptop')).toEqual({ unseen: 1, unread: 1 });
    // A collapse key replaces the held item: one item, counted once.
    await publishTo(h, 'bob', { title: 'v1', message: 'm', collapseKey: 'k' });
    await publishTo(h, 'bob', { title: 'v2', message: 'm', collapseKey: 'k' });
    await untilCount(laptop, 4);
    expect(laptop.conn.inbox.items.map((i) => i.title)).toEqual(['v2', 'a, edited']);
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 2, unread: 2 });
    expect(await serverCounts(h, 'bob', 'laptop')).toEqual({ unseen: 2, unread: 2 });
  });

  it('after a resume, the changes it missed are applied once and its counts are the server’s', async () => {
    await using h = await startTestHerald(FAST);
    using laptop = await sdk(h, 'carol', 'laptop', 'ws', { backoff: { baseMs: 300, maxMs: 300 } });
    using phone = await sdk(h, 'carol', 'phone', 'ws');
    await Promise.all([laptop.conn.whenOpen(), phone.conn.whenOpen()]);
    const ids: string[] = [];
    for (const t of ['n1', 'n2', 'n3']) ids.push((await publishTo(h, 'carol', { title: t, message: 'm' })).body.id);
    await untilCount(laptop, 3);
    await untilCount(phone, 3);
    h.node.hub.device('carol', 'laptop')?.session?.close('zombie');
    await until(() => laptop.disconnects.length === 1, 2000, 'the drop');
    // While the laptop is away: the phone reads one, another arrives, the backend deletes one.
    await phone.conn.inbox.markRead([ids[0]]);
    ids.push((await publishTo(h, 'carol', { title: 'n4', message: 'm' })).body.id);
    expect((await api(h, 'DELETE', `/api/v1/clients/carol/notifications/${ids[1]}`)).status).toBe(204);
    await until(() => laptop.welcomes.length === 2, 5000, 'the resume');
    await untilCount(laptop, 4);
    await until(() => laptop.conn.inbox.get(ids[1]) === undefined, 2000, 'the replayed delete');
    expect(laptop.welcomes[1].resumed).toBe(true);
    expect(laptop.conn.inbox.items.map((i) => i.title)).toEqual(['n4', 'n3', 'n1']);
    expect(laptop.conn.inbox.get(ids[0])?.readAt).toEqual(expect.any(Number));
    const expected = await serverCounts(h, 'carol', 'laptop');
    expect(expected).toEqual({ unseen: 2, unread: 2 });
    expect(laptop.conn.inbox.counts).toEqual(expected);
    // Live again: the next notification counts once more.
    await publishTo(h, 'carol', { title: 'n5', message: 'm' });
    await untilCount(laptop, 5);
    expect(laptop.conn.inbox.counts).toEqual({ unseen: 3, unread: 3 });
  });
});
