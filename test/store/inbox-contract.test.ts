import { describe, expect, it } from 'vitest';
import { type Cursor, START } from '../../src/core/cursor.js';
import { HeraldError } from '../../src/core/errors.js';
import { inboxEvent } from '../../src/core/inbox.js';
import type { InboxItem, InboxQuery, PublishInput, StateChange, Store, StoredNotification, Target } from '../../src/core/types.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { uniquePrefix } from '../support/redis.js';
import { type StoreRetention, storeFactories } from '../support/stores.js';

/**
 * The inbox contract (PROTOCOL.md "Inbox"), run against every store like contract.test.ts: item
 * states shared by a client's devices, listings and counts, updates, deletes, collapse keys, and
 * the events those changes append to the streams. Time is the explicit `now`; nothing sleeps.
 */
const stores = storeFactories();

const T0 = 1_700_000_000_000;
const alice: Target = { kind: 'client', clientId: 'alice' };
const bob: Target = { kind: 'client', clientId: 'bob' };
const broadcast: Target = { kind: 'broadcast' };
const toDevice = (deviceId: string, clientId = 'alice'): Target => ({ kind: 'device', clientId, deviceId });
const msg = (title: string, extra: Partial<PublishInput> = {}): PublishInput => ({ title, message: `${title} body`, ...extra });
const titles = (items: { title: string }[]) => items.map((n) => n.title);
const at = (c: StoredNotification | null, b: StoredNotification | null = null): Cursor => ({
  c: c?.pos ?? null,
  ce: c?.epoch ?? null,
  b: b?.pos ?? null,
  be: b?.epoch ?? null,
});

describe.each(stores.list)('Inbox contract: %s', (_name, make) => {
  async function withStore<T>(r: StoreRetention | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
    const s = await make(r);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }
  /** A device of the client connects: the client is registered (its inbox takes broadcasts from now on). */
  const register = (s: Store, clientId: string, now: number) => s.replay({ clientId, deviceId: 'phone', after: START, broadcasts: false, register: true }, now);
  const list = (s: Store, q: Partial<InboxQuery> & { clientId?: string }, now: number) =>
    s.listInbox({ clientId: 'alice', deviceId: 'phone', limit: 20, before: null, ...q }, now);
  const set = (s: Store, change: Partial<StateChange>, now: number, clientId = 'alice') =>
    s.setState(clientId, { scope: 'phone', by: 'phone', ...change } as StateChange, now);
  const publish = async (s: Store, target: Target, title: string, now: number, extra: Partial<PublishInput> = {}) =>
    (await s.append(target, msg(title, extra), now)).notification;
  /** Everything a device gets on resume from `after` (notifications and events). */
  const replayFrom = async (s: Store, after: Cursor, now: number, deviceId = 'phone') =>
    (await s.replay({ clientId: 'alice', deviceId, after, broadcasts: true }, now)).items;

  it('lists newest first with the item fields, version 1, and null states; counts unseen and unread', () =>
    withStore(undefined, async (s) => {
      const a = await publish(s, alice, 'a', T0, { service: 'billing', data: { n: 1 }, id: 'order-1' });
      await publish(s, alice, 'b', T0 + 1);
      await publish(s, alice, 'c', T0 + 1);
      const page = await list(s, {}, T0 + 10);
      expect(titles(page.items)).toEqual(['c', 'b', 'a']);
      expect(page).toMatchObject({ unseen: 3, unread: 3, next: null });
      expect(page.items[2]).toEqual({
        id: 'order-1',
        clientId: 'alice',
        title: 'a',
        message: 'a body',
        service: 'billing',
        data: { n: 1 },
        ts: T0,
        version: 1,
        updatedAt: T0,
        seenAt: null,
        readAt: null,
        archivedAt: null,
      } satisfies InboxItem);
      expect(a.version).toBe(1);
      expect(await s.inboxCounts('alice', ['phone', null, 'laptop'], T0 + 10)).toEqual([
        { unseen: 3, unread: 3 },
        { unseen: 3, unread: 3 },
        { unseen: 3, unread: 3 },
      ]);
      // A client with nothing has an empty inbox.
      expect(await list(s, { clientId: 'nobody' }, T0 + 10)).toEqual({ items: [], unseen: 0, unread: 0, next: null });
    }));

  it('pages by the opaque `next` token until null, through items of the same millisecond', () =>
    withStore(undefined, async (s) => {
      for (let i = 0; i < 25; i++) await publish(s, alice, `m${i}`, T0 + Math.floor(i / 4));
      const seen: string[] = [];
      let before: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page = await list(s, { limit: 7, before }, T0 + 100);
        expect(page.items.length).toBeLessThanOrEqual(7);
        expect(page).toMatchObject({ unseen: 25, unread: 25 });
        seen.push(...titles(page.items));
        before = page.next;
        if (before === null) break;
        expect(typeof before).toBe('string');
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `m${24 - i}`));
      // A page that ends exactly at the last item has no next.
      const exact = await list(s, { limit: 25 }, T0 + 100);
      expect(exact.next).toBeNull();
      expect((await list(s, { limit: 24 }, T0 + 100)).next).not.toBeNull();
    }));

  it('filters: default hides archived, unread hides read and archived, archived, all; counts ignore the filter', () =>
    withStore(undefined, async (s) => {
      const [a, b, c, d] = [
        await publish(s, alice, 'a', T0),
        await publish(s, alice, 'b', T0 + 1),
        await publish(s, alice, 'c', T0 + 2),
        await publish(s, alice, 'd', T0 + 3),
      ];
      await set(s, { ids: [a.id], read: true }, T0 + 10);
      await set(s, { ids: [b.id], archived: true }, T0 + 11);
      await set(s, { ids: [c.id], seen: true }, T0 + 12);
      const view = async (filter?: InboxQuery['filter']) => titles((await list(s, { filter }, T0 + 20)).items);
      expect(await view()).toEqual(['d', 'c', 'a']);
      expect(await view('unread')).toEqual(['d', 'c']);
      expect(await view('archived')).toEqual(['b']);
      expect(await view('all')).toEqual(['d', 'c', 'b', 'a']);
      const page = await list(s, { filter: 'archived' }, T0 + 20);
      // Not archived: a (read), c (seen), d. Unseen: d. Unread: c, d.
      expect(page).toMatchObject({ unseen: 1, unread: 2 });
      const items = (await list(s, { filter: 'all' }, T0 + 20)).items;
      expect(items.find((i) => i.id === a.id)).toMatchObject({ seenAt: T0 + 10, readAt: T0 + 10, archivedAt: null });
      expect(items.find((i) => i.id === b.id)).toMatchObject({ seenAt: null, readAt: null, archivedAt: T0 + 11 });
      expect(items.find((i) => i.id === c.id)).toMatchObject({ seenAt: T0 + 12, readAt: null });
      expect(items.find((i) => i.id === d.id)).toMatchObject({ seenAt: null, readAt: null, archivedAt: null });
    }));

  it("device-targeted items are listed and counted only for their device; the backend view sees every device's, with deviceId", () =>
    withStore(undefined, async (s) => {
      await register(s, 'alice', T0);
      await publish(s, alice, 'all', T0 + 1);
      await publish(s, toDevice('phone'), 'phone only', T0 + 2);
      await publish(s, toDevice('laptop'), 'laptop only', T0 + 3);
      await publish(s, broadcast, 'news', T0 + 4);
      await publish(s, bob, 'for bob', T0 + 5);
      const phone = await list(s, { deviceId: 'phone' }, T0 + 10);
      expect(titles(phone.items)).toEqual(['news', 'phone only', 'all']);
      expect(phone.items[1].deviceId).toBe('phone');
      expect(phone.items[0]).toMatchObject({ broadcast: true, clientId: 'alice' });
      expect(phone).toMatchObject({ unseen: 3, unread: 3 });
      expect(titles((await list(s, { deviceId: 'laptop' }, T0 + 10)).items)).toEqual(['news', 'laptop only', 'all']);
      expect(titles((await list(s, { deviceId: 'tablet' }, T0 + 10)).items)).toEqual(['news', 'all']);
      const backend = await list(s, { deviceId: null }, T0 + 10);
      expect(titles(backend.items)).toEqual(['news', 'laptop only', 'phone only', 'all']);
      expect(backend.items.map((i) => i.deviceId)).toEqual([undefined, 'laptop', 'phone', undefined]);
      expect(backend).toMatchObject({ unseen: 4, unread: 4 });
      expect(await s.inboxCounts('alice', ['phone', 'laptop', 'tablet', null], T0 + 10)).toEqual([
        { unseen: 3, unread: 3 },
        { unseen: 3, unread: 3 },
        { unseen: 2, unread: 2 },
        { unseen: 4, unread: 4 },
      ]);
      // A device cannot change the state of another device's targeted item; the backend can.
      const laptopItem = backend.items[1];
      expect((await set(s, { ids: [laptopItem.id], read: true }, T0 + 11)).updated).toBe(0);
      expect((await set(s, { ids: [laptopItem.id], read: true, scope: null, by: null }, T0 + 12)).updated).toBe(1);
      expect(await s.inboxCounts('alice', ['laptop', 'phone'], T0 + 13)).toEqual([
        { unseen: 2, unread: 2 },
        { unseen: 3, unread: 3 },
      ]);
    }));

  it('holds the broadcasts published since the client first registered, not the retained backlog', () =>
    withStore(undefined, async (s) => {
      await publish(s, broadcast, 'old news', T0);
      await publish(s, alice, 'mine', T0 + 5);
      // Never registered: no broadcasts at all.
      expect(titles((await list(s, {}, T0 + 6)).items)).toEqual(['mine']);
      await register(s, 'alice', T0 + 10);
      await publish(s, broadcast, 'fresh news', T0 + 20);
      // A later registration (another device, a reconnect) does not move the start.
      await register(s, 'alice', T0 + 30);
      await publish(s, broadcast, 'later news', T0 + 40);
      const page = await list(s, {}, T0 + 50);
      expect(titles(page.items)).toEqual(['later news', 'fresh news', 'mine']);
      expect(page).toMatchObject({ unseen: 3, unread: 3 });
      // A new user gets only what comes after it.
      await register(s, 'bob', T0 + 45);
      expect(titles((await list(s, { clientId: 'bob' }, T0 + 50)).items)).toEqual([]);
      // Paging across both streams.
      const first = await list(s, { limit: 2 }, T0 + 50);
      expect(titles(first.items)).toEqual(['later news', 'fresh news']);
      expect(titles((await list(s, { limit: 2, before: first.next }, T0 + 50)).items)).toEqual(['mine']);
    }));

  it('setState by ids: read implies seen, read:false keeps seen, seen:false clears both; updated counts changes once; no event when nothing changed', () =>
    withStore(undefined, async (s) => {
      const [a, b, c] = [await publish(s, alice, 'a', T0), await publish(s, alice, 'b', T0 + 1), await publish(s, alice, 'c', T0 + 2)];
      const r1 = await set(s, { ids: [a.id, b.id, a.id], read: true }, T0 + 10);
      expect(r1).toMatchObject({ updated: 2, unseen: 1, unread: 1 });
      expect(r1.event).not.toBeNull();
      expect(inboxEvent(r1.event as StoredNotification)).toEqual({
        kind: 'state',
        event: { ids: [a.id, b.id], read: true, by: 'phone', scope: 'phone' },
      });
      expect(r1.event).toMatchObject({ clientId: 'alice', deviceId: null, kind: 'state', ts: T0 + 10, prev: c.pos, epoch: c.epoch });
      // The same change again changes nothing: no event, nothing appended.
      const head = await s.heads('alice');
      const r2 = await set(s, { ids: [a.id, b.id], read: true, seen: true }, T0 + 11);
      expect(r2).toEqual({ updated: 0, unseen: 1, unread: 1, event: null });
      expect(await s.heads('alice')).toEqual(head);
      // read: false keeps seen.
      expect((await set(s, { ids: [a.id], read: false }, T0 + 12)).updated).toBe(1);
      let items = (await list(s, {}, T0 + 13)).items;
      expect(items.find((i) => i.id === a.id)).toMatchObject({ seenAt: T0 + 10, readAt: null });
      // Marking seen again keeps the first time.
      expect((await set(s, { ids: [a.id], seen: true }, T0 + 14)).updated).toBe(0);
      // seen: false clears read too (read implies seen).
      expect((await set(s, { ids: [b.id], seen: false }, T0 + 15)).updated).toBe(1);
      items = (await list(s, {}, T0 + 16)).items;
      expect(items.find((i) => i.id === b.id)).toMatchObject({ seenAt: null, readAt: null });
      expect(await s.inboxCounts('alice', ['phone'], T0 + 16)).toEqual([{ unseen: 2, unread: 3 }]);
    }));

  it("setState ignores unknown ids and other clients' ids: B's ids used by A change nothing", () =>
    withStore(undefined, async (s) => {
      const mine = await publish(s, alice, 'mine', T0);
      const bobs = await publish(s, bob, 'bobs', T0 + 1);
      const bobsPhone = await publish(s, toDevice('phone', 'bob'), 'bobs phone', T0 + 2);
      const r = await set(s, { ids: [bobs.id, bobsPhone.id, 'no-such-id'], read: true, archived: true }, T0 + 10);
      expect(r).toEqual({ updated: 0, unseen: 1, unread: 1, event: null });
      const byBackend = await s.setState('alice', { ids: [bobs.id], read: true, scope: null, by: null }, T0 + 11);
      expect(byBackend.updated).toBe(0);
      expect((await list(s, { clientId: 'bob', deviceId: null }, T0 + 12)).items.every((i) => i.readAt === null && i.archivedAt === null)).toBe(true);
      expect((await set(s, { ids: [bobs.id, mine.id], read: true }, T0 + 13)).updated).toBe(1);
      expect(await s.inboxCounts('bob', [null], T0 + 14)).toEqual([{ unseen: 2, unread: 2 }]);
    }));

  it('setState all: every item the scope can list, archived or not, broadcasts included; the event says all', () =>
    withStore(undefined, async (s) => {
      await register(s, 'alice', T0);
      const a = await publish(s, alice, 'a', T0 + 1);
      await publish(s, toDevice('phone'), 'phone only', T0 + 2);
      await publish(s, toDevice('laptop'), 'laptop only', T0 + 3);
      await publish(s, broadcast, 'news', T0 + 4);
      await set(s, { ids: [a.id], archived: true }, T0 + 5);
      const r = await set(s, { all: true, read: true }, T0 + 10);
      expect(r).toMatchObject({ updated: 3, unseen: 0, unread: 0 });
      expect(inboxEvent(r.event as StoredNotification)).toEqual({ kind: 'state', event: { all: true, read: true, by: 'phone', scope: 'phone' } });
      // The laptop's own item is not in the phone's scope.
      expect(await s.inboxCounts('alice', ['laptop', null], T0 + 11)).toEqual([
        { unseen: 1, unread: 1 },
        { unseen: 1, unread: 1 },
      ]);
      const archived = (await list(s, { filter: 'archived' }, T0 + 11)).items;
      expect(archived).toMatchObject([{ id: a.id, readAt: T0 + 10 }]);
      // Again: nothing changes, nothing is appended.
      expect(await set(s, { all: true, read: true }, T0 + 12)).toEqual({ updated: 0, unseen: 0, unread: 0, event: null });
      // The backend's all covers every device's items.
      const backend = await s.setState('alice', { all: true, archived: true, scope: null, by: null }, T0 + 13);
      expect(backend).toMatchObject({ updated: 3, unseen: 0, unread: 0 });
      expect(inboxEvent(backend.event as StoredNotification)?.event).toEqual({ all: true, archived: true, by: null, scope: null });
      expect((await list(s, { deviceId: null }, T0 + 14)).items).toEqual([]);
      expect((await list(s, { deviceId: null, filter: 'archived' }, T0 + 14)).items).toHaveLength(4);
    }));

  it("a broadcast's state is per client", () =>
    withStore(undefined, async (s) => {
      await register(s, 'alice', T0);
      await register(s, 'bob', T0);
      const news = await publish(s, broadcast, 'news', T0 + 1);
      expect((await set(s, { ids: [news.id], read: true }, T0 + 2)).updated).toBe(1);
      expect((await list(s, {}, T0 + 3)).items[0]).toMatchObject({ id: news.id, readAt: T0 + 2 });
      expect((await list(s, { clientId: 'bob' }, T0 + 3)).items[0]).toMatchObject({ id: news.id, readAt: null });
      expect(await s.inboxCounts('bob', ['phone'], T0 + 3)).toEqual([{ unseen: 1, unread: 1 }]);
      // The state event goes to alice's stream, not to the broadcast stream.
      expect((await s.heads('bob')).c).toBeNull();
    }));

  it('events take positions in the client stream and are replayed after a cursor in stream order, with notifications', () =>
    withStore(undefined, async (s) => {
      const a = await publish(s, alice, 'a', T0);
      const b = await publish(s, alice, 'b', T0 + 1);
      const read = (await set(s, { ids: [a.id], read: true }, T0 + 2)).event as StoredNotification;
      const c = await publish(s, alice, 'c', T0 + 2);
      const upd = (await s.updateItem('alice', b.id, { title: 'b2' }, T0 + 3))?.event as StoredNotification;
      const del = (await s.deleteItem('alice', c.id, T0 + 4))?.event as StoredNotification;
      // One sequence of positions and one prev chain.
      expect([read.prev, c.prev, upd.prev, del.prev]).toEqual([b.pos, read.pos, c.pos, upd.pos]);
      expect(read.pos).toEqual({ ms: T0 + 2, seq: 0 });
      expect(c.pos).toEqual({ ms: T0 + 2, seq: 1 });
      expect(new Set([read.epoch, upd.epoch, del.epoch])).toEqual(new Set([a.epoch]));
      expect((await s.heads('alice')).c).toEqual(del.pos);
      const all = await replayFrom(s, at(a), T0 + 10);
      expect(all.map((n) => n.kind ?? 'notification')).toEqual(['notification', 'state', 'notification', 'update', 'delete']);
      expect(all.map((n) => n.id)).toEqual([b.id, read.id, c.id, upd.id, del.id]);
      expect(all[1]).toEqual(read);
      // Resuming from an event's position replays what follows it only.
      expect((await replayFrom(s, at(read), T0 + 10)).map((n) => n.id)).toEqual([c.id, upd.id, del.id]);
      expect((await s.replay({ clientId: 'alice', deviceId: 'phone', after: at(del), broadcasts: true }, T0 + 10)).lost).toBe(false);
      // A pending read (no cursor) also carries the events.
      const pending = await s.replay({ clientId: 'alice', deviceId: 'new', after: START, broadcasts: false }, T0 + 10);
      expect(pending.items.map((n) => n.id)).toEqual([a.id, b.id, read.id, c.id, upd.id, del.id]);
      // range() (gap repair) returns events too.
      expect((await s.range('alice', a.pos, del.pos, T0 + 10)).map((n) => n.id)).toEqual([b.id, read.id, c.id, upd.id, del.id]);
    }));

  it('update: the whole item at version+1, listed with its new fields, the event replayed; unknown, deleted and expired ids are null', () =>
    withStore(undefined, async (s) => {
      const a = await publish(s, alice, 'a', T0, { data: { v: 1 }, service: 'billing', collapseKey: 'k1' });
      await set(s, { ids: [a.id], read: true }, T0 + 1);
      const u1 = await s.updateItem('alice', a.id, { title: 'a2' }, T0 + 10);
      expect(u1?.item).toEqual({
        id: a.id,
        clientId: 'alice',
        title: 'a2',
        message: 'a body',
        service: 'billing',
        data: { v: 1 },
        ts: T0,
        version: 2,
        updatedAt: T0 + 10,
        collapseKey: 'k1',
      });
      expect(inboxEvent(u1?.event as StoredNotification)).toEqual({ kind: 'update', event: u1?.item });
      expect(u1?.event).toMatchObject({ clientId: 'alice', deviceId: null, kind: 'update', ts: T0 + 10 });
      const u2 = await s.updateItem('alice', a.id, { message: 'changed', data: null }, T0 + 20);
      expect(u2?.item).toMatchObject({ title: 'a2', message: 'changed', data: null, version: 3, updatedAt: T0 + 20 });
      // The state survives an update.
      expect((await list(s, {}, T0 + 30)).items).toEqual([{ ...u2?.item, seenAt: T0 + 1, readAt: T0 + 1, archivedAt: null }]);
      const replayed = await replayFrom(s, at(a), T0 + 30);
      expect(replayed.map((n) => inboxEvent(n)?.kind)).toEqual(['state', 'update', 'update']);
      expect(replayed[2]).toEqual(u2?.event);
      expect(await s.updateItem('alice', 'no-such-id', { title: 'x' }, T0 + 31)).toBeNull();
      expect(await s.updateItem('bob', a.id, { title: 'x' }, T0 + 31)).toBeNull();
      expect(await s.updateItem(null, a.id, { title: 'x' }, T0 + 31)).toBeNull();
      const short = await publish(s, alice, 'short', T0 + 40, { ttlMs: 10 });
      expect(await s.updateItem('alice', short.id, { title: 'x' }, T0 + 50)).toBeNull();
      // A device-targeted item's update is replayed to that device only.
      const p = await publish(s, toDevice('laptop'), 'laptop only', T0 + 60);
      const up = await s.updateItem('alice', p.id, { title: 'laptop 2' }, T0 + 61);
      expect(up?.item).toMatchObject({ deviceId: 'laptop', version: 2 });
      expect(up?.event.deviceId).toBe('laptop');
      expect((await replayFrom(s, at(p), T0 + 62, 'phone')).map((n) => n.id)).toEqual([]);
      expect((await replayFrom(s, at(p), T0 + 62, 'laptop')).map((n) => n.id)).toEqual([up?.event.id]);
    }));

  it('delete: the item leaves listings and counts, a delete event is appended; deleting again is null', () =>
    withStore(undefined, async (s) => {
      const a = await publish(s, alice, 'a', T0);
      const b = await publish(s, alice, 'b', T0 + 1);
      const d = await s.deleteItem('alice', a.id, T0 + 2);
      expect(d?.event).toMatchObject({ clientId: 'alice', deviceId: null, kind: 'delete', event: { id: a.id }, prev: b.pos });
      const page = await list(s, { filter: 'all' }, T0 + 3);
      expect(titles(page.items)).toEqual(['b']);
      expect(page).toMatchObject({ unseen: 1, unread: 1 });
      expect(await s.deleteItem('alice', a.id, T0 + 4)).toBeNull();
      expect(await s.updateItem('alice', a.id, { title: 'x' }, T0 + 4)).toBeNull();
      expect(await s.deleteItem('bob', b.id, T0 + 4)).toBeNull();
      expect((await set(s, { ids: [a.id], read: true }, T0 + 5)).updated).toBe(0);
      expect((await replayFrom(s, at(b), T0 + 6)).map((n) => n.kind)).toEqual(['delete']);
    }));

  it('broadcast update and delete are global: events in the broadcast stream, every client sees them', () =>
    withStore(undefined, async (s) => {
      await register(s, 'alice', T0);
      await register(s, 'bob', T0);
      const news = await publish(s, broadcast, 'news', T0 + 1);
      const other = await publish(s, broadcast, 'other', T0 + 2);
      const read = (await set(s, { ids: [news.id], read: true }, T0 + 3)).event;
      const u = await s.updateItem(null, news.id, { title: 'news 2' }, T0 + 4);
      expect(u?.item).toEqual({
        id: news.id,
        broadcast: true,
        title: 'news 2',
        message: 'news body',
        service: 'default',
        data: null,
        ts: T0 + 1,
        version: 2,
        updatedAt: T0 + 4,
      });
      expect(u?.event).toMatchObject({ clientId: null, deviceId: null, kind: 'update', prev: other.pos, epoch: news.epoch });
      expect(await s.updateItem('alice', news.id, { title: 'x' }, T0 + 5)).toBeNull();
      expect((await list(s, {}, T0 + 5)).items.map((i) => [i.title, i.version, i.readAt])).toEqual([
        ['other', 1, null],
        ['news 2', 2, T0 + 3],
      ]);
      expect(titles((await list(s, { clientId: 'bob' }, T0 + 5)).items)).toEqual(['other', 'news 2']);
      const d = await s.deleteItem(null, other.id, T0 + 6);
      expect(d?.event).toMatchObject({ clientId: null, kind: 'delete', event: { id: other.id } });
      expect(titles((await list(s, { clientId: 'bob' }, T0 + 7)).items)).toEqual(['news 2']);
      expect(await s.inboxCounts('bob', ['phone'], T0 + 7)).toEqual([{ unseen: 1, unread: 1 }]);
      expect(await s.inboxCounts('alice', ['phone'], T0 + 7)).toEqual([{ unseen: 0, unread: 0 }]);
      // Replayed on resume from the broadcast stream, in its order.
      const items = await replayFrom(s, at(read, news), T0 + 8);
      expect(items.map((n) => n.kind ?? 'notification')).toEqual(['notification', 'update', 'delete']);
      expect((await s.range(null, other.pos, d?.event.pos as Cursor['c'] & object, T0 + 8)).map((n) => n.kind)).toEqual(['update', 'delete']);
    }));

  it('collapse: five publishes with one key leave one item, unread 1, each naming what it replaces', () =>
    withStore(undefined, async (s) => {
      const first = await publish(s, alice, 'other', T0);
      const got: StoredNotification[] = [];
      for (let i = 0; i < 5; i++) got.push(await publish(s, alice, `score ${i}`, T0 + 1 + i, { collapseKey: 'score' }));
      expect(got[0].replaces).toBeUndefined();
      for (let i = 1; i < 5; i++) expect(got[i].replaces).toBe(got[i - 1].id);
      expect(got.every((n) => n.collapseKey === 'score')).toBe(true);
      const page = await list(s, {}, T0 + 10);
      expect(titles(page.items)).toEqual(['score 4', 'other']);
      expect(page.items[0].collapseKey).toBe('score');
      expect(page).toMatchObject({ unseen: 2, unread: 2 });
      await set(s, { ids: [first.id], read: true }, T0 + 11);
      expect(await s.inboxCounts('alice', ['phone'], T0 + 12)).toEqual([{ unseen: 1, unread: 1 }]);
      // Replaced items cannot be changed; the replay carries each with what it replaces, no delete events.
      expect(await s.updateItem('alice', got[0].id, { title: 'x' }, T0 + 13)).toBeNull();
      expect((await set(s, { ids: [got[1].id], read: true }, T0 + 13)).updated).toBe(0);
      const replayed = await replayFrom(s, at(first), T0 + 14);
      expect(replayed.filter((n) => n.kind === undefined).map((n) => n.replaces)).toEqual([undefined, ...got.slice(0, 4).map((n) => n.id)]);
      expect(replayed.some((n) => n.kind === 'delete')).toBe(false);
      // Keys are per client, and per broadcast stream.
      const bobs = await publish(s, bob, 'bob score', T0 + 15, { collapseKey: 'score' });
      expect(bobs.replaces).toBeUndefined();
      await register(s, 'alice', T0 + 15);
      const b1 = await publish(s, broadcast, 'b1', T0 + 16, { collapseKey: 'score' });
      const b2 = await publish(s, broadcast, 'b2', T0 + 17, { collapseKey: 'score' });
      expect([b1.replaces, b2.replaces]).toEqual([undefined, b1.id]);
      expect(titles((await list(s, {}, T0 + 18)).items)).toEqual(['b2', 'score 4', 'other']);
      // A deleted item is not replaced again: the next one with its key replaces nothing.
      await s.deleteItem('alice', got[4].id, T0 + 19);
      expect((await publish(s, alice, 'score 5', T0 + 20, { collapseKey: 'score' })).replaces).toBeUndefined();
      // A live-only notification is no inbox item: it neither replaces nor is replaced.
      const live = await s.append(alice, msg('live', { collapseKey: 'score', ttlMs: 0 }), T0 + 21);
      expect(live.notification.replaces).toBeUndefined();
      expect(titles((await list(s, {}, T0 + 22)).items)).toEqual(['score 5', 'b2', 'other']);
    }));

  it('expired items are neither listed nor counted, nor changed', () =>
    withStore(undefined, async (s) => {
      const short = await publish(s, alice, 'short', T0, { ttlMs: 100 });
      await publish(s, alice, 'long', T0 + 1);
      expect(titles((await list(s, {}, T0 + 99)).items)).toEqual(['long', 'short']);
      const page = await list(s, { filter: 'all' }, T0 + 100);
      expect(titles(page.items)).toEqual(['long']);
      expect(page).toMatchObject({ unseen: 1, unread: 1 });
      expect((await set(s, { ids: [short.id], read: true }, T0 + 100)).updated).toBe(0);
      expect((await set(s, { all: true, read: true }, T0 + 100)).updated).toBe(1);
      expect(await s.inboxCounts('alice', [null], T0 + 100)).toEqual([{ unseen: 0, unread: 0 }]);
    }));

  it('retention counts notifications: 1 000 state changes push none out; old events go, and a cursor before them is lost', () =>
    withStore({ retentionMessages: 5 }, async (s) => {
      const ns: StoredNotification[] = [];
      for (let i = 0; i < 5; i++) ns.push(await publish(s, alice, `m${i}`, T0 + i));
      let last: StoredNotification | null = null;
      for (let i = 0; i < 1000; i++) {
        // Each item in turn, read then unread then read...: every call changes one item.
        const r = await set(s, { ids: [ns[i % 5].id], read: Math.floor(i / 5) % 2 === 0 }, T0 + 10 + i);
        expect(r.updated).toBe(1);
        last = r.event;
      }
      const page = await list(s, { filter: 'all' }, T0 + 2000);
      expect(titles(page.items)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
      // The 200th change of each item (an odd one) made it unread again; seen stays.
      expect(page.items.every((i) => i.readAt === null && i.seenAt !== null)).toBe(true);
      expect(page).toMatchObject({ unseen: 0, unread: 5 });
      const pending = await s.replay({ clientId: 'alice', deviceId: 'new', after: START, broadcasts: false }, T0 + 2000);
      expect(pending.items.filter((n) => n.kind === undefined)).toHaveLength(5);
      // Events have a bound of their own (retentionEvents, here the default: retentionMessages).
      expect(pending.items.filter((n) => n.kind === 'state').length).toBeLessThanOrEqual(5);
      expect(pending.items.at(-1)?.id).toBe(last?.id);
      const fromStart = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(ns[4]), broadcasts: true }, T0 + 2000);
      expect(fromStart.lost).toBe(true);
      const fromRecent = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(last), broadcasts: true }, T0 + 2000);
      expect(fromRecent).toMatchObject({ items: [], lost: false });
      // A new notification pushes the oldest out as usual.
      await publish(s, alice, 'm5', T0 + 3000);
      expect(titles((await list(s, {}, T0 + 3001)).items)).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);
    }));

  it("the events' own bound never hides items: broadcasts updated more often than retentionEvents stay listed", () =>
    withStore({ retentionMessages: 5, retentionEvents: 2 }, async (s) => {
      await register(s, 'alice', T0);
      const b1 = await publish(s, broadcast, 'b1', T0 + 1);
      await publish(s, broadcast, 'b2', T0 + 2);
      const a = await publish(s, alice, 'a', T0 + 3);
      for (let i = 0; i < 6; i++) await s.updateItem(null, b1.id, { title: `b1 v${i + 2}` }, T0 + 10 + i);
      for (let i = 0; i < 6; i++) await s.updateItem('alice', a.id, { title: `a v${i + 2}` }, T0 + 20 + i);
      const page = await list(s, {}, T0 + 30);
      expect(page.items.map((i) => [i.title, i.version])).toEqual([
        ['a v7', 7],
        ['b2', 1],
        ['b1 v7', 7],
      ]);
      expect(page).toMatchObject({ unseen: 3, unread: 3 });
      expect((await set(s, { all: true, read: true }, T0 + 31)).updated).toBe(3);
      // A device that was away for more events than are kept has lost something; one that was not, has not.
      expect((await s.replay({ clientId: 'alice', deviceId: 'p', after: at(a, b1), broadcasts: true }, T0 + 32)).lost).toBe(true);
      const heads = await s.heads('alice');
      expect((await s.replay({ clientId: 'alice', deviceId: 'p', after: heads, broadcasts: true }, T0 + 32)).lost).toBe(false);
    }));

  it('1 000 concurrent setState calls from 5 scopes end with counts equal to a serial recount', () =>
    withStore(undefined, async (s) => {
      await register(s, 'alice', T0);
      const devices = ['d0', 'd1', 'd2', 'd3'];
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const target = i % 3 === 0 ? toDevice(devices[i % 4]) : i % 7 === 0 ? broadcast : alice;
        ids.push((await publish(s, target, `m${i}`, T0 + 1 + i)).id);
      }
      const scopes = [...devices, null];
      let seed = 42;
      const rnd = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      const flag = () => (rnd(3) === 0 ? undefined : rnd(2) === 0);
      const changes: StateChange[] = Array.from({ length: 1000 }, () => {
        const scope = scopes[rnd(5)];
        const c: StateChange = { scope, by: scope, seen: flag(), read: flag(), archived: flag() };
        if (c.seen === undefined && c.read === undefined && c.archived === undefined) c.read = true;
        if (c.seen === false && c.read === true) c.seen = undefined;
        if (rnd(20) === 0) c.all = true;
        else c.ids = Array.from({ length: 1 + rnd(4) }, () => ids[rnd(ids.length)]);
        return c;
      });
      const results = await Promise.all(changes.map((c, i) => s.setState('alice', c, T0 + 100 + i)));
      const events = results.filter((r) => r.event !== null);
      expect(events.length).toBe(results.filter((r) => r.updated > 0).length);
      // Every event took its own position, in one unbroken chain.
      const all = await s.replay({ clientId: 'alice', deviceId: 'x', after: START, broadcasts: false }, T0 + 5000);
      const states = all.items.filter((n) => n.kind === 'state');
      expect(states.length).toBe(Math.min(events.length, 1000));
      const items = (await s.listInbox({ clientId: 'alice', deviceId: null, limit: 100, before: null, filter: 'all' }, T0 + 5000)).items;
      expect(items).toHaveLength(30);
      const recount = (d: string | null) => {
        const visible = items.filter((i) => d === null || i.deviceId === undefined || i.deviceId === d).filter((i) => i.archivedAt === null);
        return { unseen: visible.filter((i) => i.seenAt === null).length, unread: visible.filter((i) => i.readAt === null).length };
      };
      expect(await s.inboxCounts('alice', scopes, T0 + 5000)).toEqual(scopes.map(recount));
      for (const i of items) if (i.readAt !== null) expect(i.seenAt).not.toBeNull();
    }));

  it('counts stay equal to a recount of the listing through every kind of change', () =>
    withStore({ retentionMessages: 6, retentionMs: 10_000 }, async (s) => {
      const views = ['phone', 'laptop', null];
      let now = T0;
      const recount = async () => {
        const items: InboxItem[] = [];
        let before: string | null = null;
        do {
          const page = await s.listInbox({ clientId: 'alice', deviceId: null, limit: 100, before, filter: 'all' }, now);
          items.push(...page.items);
          before = page.next;
        } while (before !== null);
        return views.map((d) => {
          const mine = items.filter((i) => (d === null || i.deviceId === undefined || i.deviceId === d) && i.archivedAt === null);
          return { unseen: mine.filter((i) => i.seenAt === null).length, unread: mine.filter((i) => i.readAt === null).length };
        });
      };
      const check = async (what: string) => {
        expect({ what, counts: await s.inboxCounts('alice', views, now) }).toEqual({ what, counts: await recount() });
      };
      await register(s, 'alice', now);
      const ids: string[] = [];
      const steps: [string, () => Promise<unknown>][] = [
        ['publish', async () => ids.push((await publish(s, alice, 'a', ++now)).id)],
        ['device item', async () => ids.push((await publish(s, toDevice('laptop'), 'l', ++now)).id)],
        ['short-lived', async () => ids.push((await publish(s, alice, 'ttl', ++now, { ttlMs: 5 })).id)],
        ['broadcast', async () => ids.push((await publish(s, broadcast, 'b', ++now)).id)],
        ['read first', () => set(s, { ids: [ids[0]], read: true }, ++now)],
        ['backend reads the laptop item', () => s.setState('alice', { ids: [ids[1]], read: true, scope: null, by: null }, ++now)],
        ['expiry passes', async () => (now += 10)],
        ['collapse: unread holder', async () => ids.push((await publish(s, alice, 'c1', ++now, { collapseKey: 'c' })).id)],
        ['read the holder', () => set(s, { ids: [ids.at(-1) as string], read: true }, ++now)],
        ['collapse replaces a read holder', async () => ids.push((await publish(s, alice, 'c2', ++now, { collapseKey: 'c' })).id)],
        ['archive all', () => set(s, { all: true, archived: true }, ++now)],
        ['unarchive the broadcast', () => set(s, { ids: [ids[3]], archived: false }, ++now)],
        ['seen false on a read one', () => set(s, { ids: [ids[0]], seen: false, archived: false }, ++now)],
        ['delete an unread one', () => s.deleteItem('alice', ids[0], ++now)],
        ['delete a read one', () => s.deleteItem('alice', ids[1], ++now)],
        ['delete the broadcast', () => s.deleteItem(null, ids[3], ++now)],
        ['update', () => s.updateItem('alice', ids.at(-1) as string, { title: 'c3' }, ++now)],
        [
          'retention drops by count',
          async () => {
            for (let i = 0; i < 8; i++) ids.push((await publish(s, i % 2 ? alice : toDevice('phone'), `r${i}`, ++now)).id);
          },
        ],
        ['read some of the new ones', () => set(s, { ids: ids.slice(-5), read: true }, ++now)],
        [
          'retention drops read ones',
          async () => {
            for (let i = 0; i < 4; i++) ids.push((await publish(s, alice, `s${i}`, ++now)).id);
          },
        ],
        ['all ages out', async () => (now += 20_000)],
        ['a fresh one', async () => ids.push((await publish(s, alice, 'fresh', ++now)).id)],
      ];
      for (const [what, step] of steps) {
        await step();
        await check(what);
      }
    }));

  it('excludeDevices is stored on the entry; those devices do not get it on replay, yet list it', () =>
    withStore(undefined, async (s) => {
      const a = await publish(s, alice, 'a', T0);
      const b = await publish(s, alice, 'b', T0 + 1, { excludeDevices: ['phone', 'watch'] });
      expect(b.excludeDevices).toEqual(['phone', 'watch']);
      expect(a.excludeDevices).toBeUndefined();
      const [stored] = await s.range('alice', a.pos, b.pos, T0 + 2);
      expect(stored.excludeDevices).toEqual(['phone', 'watch']);
      expect(titles(await replayFrom(s, at(a), T0 + 2, 'phone'))).toEqual([]);
      expect(titles(await replayFrom(s, at(a), T0 + 2, 'laptop'))).toEqual(['b']);
      expect(titles((await list(s, { deviceId: 'phone' }, T0 + 2)).items)).toEqual(['b', 'a']);
    }));

  it('refuses bad input with HERALD_ERR_INVALID naming the field', () =>
    withStore(undefined, async (s) => {
      const field = async (p: Promise<unknown>) => {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(HeraldError);
        return (err as HeraldError).field;
      };
      expect(await field(list(s, { limit: 0 }, T0))).toBe('limit');
      expect(await field(list(s, { limit: 101 }, T0))).toBe('limit');
      expect(await field(list(s, { limit: 1.5 }, T0))).toBe('limit');
      expect(await field(list(s, { filter: 'read' as InboxQuery['filter'] }, T0))).toBe('filter');
      expect(await field(list(s, { before: 'nonsense' }, T0))).toBe('before');
      expect(await field(list(s, { before: '0~0' }, T0))).toBe('before');
      expect(await field(set(s, { read: true }, T0))).toBe('ids');
      expect(await field(set(s, { ids: ['a'], all: true, read: true }, T0))).toBe('ids');
      expect(await field(set(s, { ids: Array.from({ length: 1001 }, (_, i) => `i${i}`), read: true }, T0))).toBe('ids');
      expect(await field(set(s, { ids: ['a'] }, T0))).toBe('seen');
      expect(await field(set(s, { ids: ['a'], seen: false, read: true }, T0))).toBe('seen');
      expect(await field(set(s, { ids: ['a'], read: 'yes' as unknown as boolean }, T0))).toBe('read');
    }));
});

describe('RedisStore inbox specifics', () => {
  const open = (url: string, prefix: string, extra: Partial<Parameters<typeof RedisStore.connect>[0]> = {}) =>
    RedisStore.connect({ url, prefix, retentionMessages: 10, retentionMs: 60_000, ...extra });

  it("keeps every inbox key under the client's hash tag, each with a TTL; counts are counters", async () => {
    const prefix = uniquePrefix();
    const s = await open(stores.clustered().url, prefix);
    try {
      await s.replay({ clientId: 'alice', deviceId: 'phone', after: START, broadcasts: false, register: true }, T0);
      const a = (await s.append(alice, msg('a', { collapseKey: 'k' }), T0 + 1)).notification;
      await s.append(toDevice('laptop'), msg('short', { ttlMs: 60_000 }), T0 + 2);
      const news = (await s.append(broadcast, msg('news', { collapseKey: 'n' }), T0 + 3)).notification;
      await s.setState('alice', { ids: [a.id, news.id], read: true, scope: 'phone', by: 'phone' }, T0 + 4);
      await s.updateItem('alice', a.id, { title: 'a2' }, T0 + 5);
      await s.updateItem(null, news.id, { title: 'news 2' }, T0 + 6);
      const keys = (await s.redis.keys(`${prefix}*`)).sort();
      const own = ['s', 'e', 'm', 'x', 'cur', 'n', 'q', 't', 'c'].map((k) => `{alice}:${k}`);
      const all = ['s', 'e', 'm', 'x', 'n', 'q', 'c'].map((k) => `{!broadcast}:${k}`);
      expect(keys).toEqual([...own, ...all].map((k) => prefix + k).sort());
      for (const k of keys) expect(await s.redis.pttl(k)).toBeGreaterThan(0);
      expect(await s.redis.hget(`${prefix}{alice}:n`, a.id)).toBe(`${T0 + 1}-0  `);
      expect(await s.redis.lrange(`${prefix}{alice}:q`, 0, -1)).toEqual([`${T0 + 1}-0 ${a.id}`, expect.stringMatching(new RegExp(`^${T0 + 2}-0 `))]);
      // a is read (client-wide bucket); the laptop's item is unread in its own bucket.
      const c = await s.redis.hgetall(`${prefix}{alice}:c`);
      expect(c).toMatchObject({ 'u:': '0', 'r:': '0', 'u:laptop': '1', 'r:laptop': '1' });
      expect(await s.redis.hget(`${prefix}{alice}:x`, `b:${T0 + 3}-0`)).toBe(`${T0 + 4},${T0 + 4},`);
      expect(await s.inboxCounts('alice', ['phone', 'laptop', null], T0 + 7)).toEqual([
        { unseen: 0, unread: 0 },
        { unseen: 1, unread: 1 },
        { unseen: 1, unread: 1 },
      ]);
    } finally {
      await s.close();
    }
  });

  it('appends leave the index alone; inbox reads take in what is new and let go of what retention dropped; a lost or stale index is built again', async () => {
    const prefix = uniquePrefix();
    const s = await open(stores.redis().url, prefix, { retentionMessages: 3, retentionMs: 1000 });
    try {
      const meta = () => s.redis.hgetall(`${prefix}{alice}:m`);
      const index = () => s.redis.hlen(`${prefix}{alice}:n`);
      const list = async (now: number) => titles((await s.listInbox({ clientId: 'alice', deviceId: null, limit: 10, before: null }, now)).items);
      const counts = (now: number) => s.inboxCounts('alice', [null], now);
      for (let i = 0; i < 5; i++) await s.append(alice, msg(`m${i}`), T0 + i);
      expect(await index()).toBe(0);
      expect((await meta()).oldest).toBe(`${T0 + 2}-0`);
      expect(await list(T0 + 10)).toEqual(['m4', 'm3', 'm2']);
      expect(await index()).toBe(3);
      // Read after every append: the index takes each new one once and lets the dropped one go.
      for (let i = 5; i < 40; i++) {
        await s.append(alice, msg(`m${i}`), T0 + i);
        expect(await list(T0 + i)).toEqual([`m${i}`, `m${i - 1}`, `m${i - 2}`]);
        expect(await counts(T0 + i)).toEqual([{ unseen: 3, unread: 3 }]);
      }
      expect(await index()).toBe(3);
      expect(await s.redis.llen(`${prefix}{alice}:q`)).toBe(3);
      // An index whose keys expired is built again from the stream; so is one of an older generation.
      await s.redis.del(`${prefix}{alice}:n`, `${prefix}{alice}:q`, `${prefix}{alice}:t`, `${prefix}{alice}:c`);
      expect(await counts(T0 + 40)).toEqual([{ unseen: 3, unread: 3 }]);
      await s.redis.hset(`${prefix}{alice}:c`, 'ix', `older:${T0 + 39}-0`, 'u:', '7');
      expect(await counts(T0 + 40)).toEqual([{ unseen: 3, unread: 3 }]);
      // A stream written before `oldest` was kept: the age check looks at the stream itself.
      await s.redis.hdel(`${prefix}{alice}:m`, 'oldest');
      await s.append(alice, msg('late'), T0 + 1038);
      expect((await meta()).oldest).toBe(`${T0 + 38}-0`);
      expect(await list(T0 + 1038)).toEqual(['late', 'm39', 'm38']);
      // Everything ages out: nothing is listed or counted, the mark goes, and the next append starts it again.
      await s.replay({ clientId: 'alice', deviceId: 'p', after: START, broadcasts: false }, T0 + 5000);
      expect((await meta()).oldest).toBeUndefined();
      expect(await list(T0 + 5000)).toEqual([]);
      expect(await counts(T0 + 5000)).toEqual([{ unseen: 0, unread: 0 }]);
      expect(await index()).toBe(0);
      await s.append(alice, msg('again'), T0 + 6000);
      expect((await meta()).oldest).toBe(`${T0 + 6000}-0`);
      expect(await list(T0 + 6000)).toEqual(['again']);
      expect(await counts(T0 + 6000)).toEqual([{ unseen: 1, unread: 1 }]);
    } finally {
      await s.close();
    }
  });

  it('the inbox hash keeps to what is held: states of items and broadcasts retention dropped are swept', async () => {
    const prefix = uniquePrefix();
    const s = await open(stores.redis().url, prefix, { retentionMessages: 3 });
    try {
      await s.replay({ clientId: 'alice', deviceId: 'phone', after: START, broadcasts: false, register: true }, T0);
      for (let i = 0; i < 150; i++) {
        const target = i % 2 === 0 ? alice : broadcast;
        const n = (await s.append(target, msg(`m${i}`, { collapseKey: `k${i}` }), T0 + 1 + i)).notification;
        expect((await s.setState('alice', { ids: [n.id], read: true, scope: 'phone', by: 'phone' }, T0 + 1 + i)).updated).toBe(1);
      }
      expect(await s.redis.hlen(`${prefix}{alice}:x`)).toBeLessThanOrEqual(6 * 3 + 64 + 2);
      const page = await s.listInbox({ clientId: 'alice', deviceId: 'phone', limit: 10, before: null, filter: 'all' }, T0 + 200);
      expect(page.items.map((i) => [i.title, i.readAt !== null])).toEqual([
        ['m149', true],
        ['m148', true],
        ['m147', true],
        ['m146', true],
        ['m145', true],
        ['m144', true],
      ]);
    } finally {
      await s.close();
    }
  });

  it("another node's broadcast update, delete and state are seen by this node's broadcast cache at once", async () => {
    const prefix = uniquePrefix();
    const [one, two] = await Promise.all([open(stores.redis().url, prefix), open(stores.redis().url, prefix)]);
    try {
      await one.replay({ clientId: 'alice', deviceId: 'phone', after: START, broadcasts: false, register: true }, T0);
      const b1 = (await one.append(broadcast, msg('b1'), T0 + 1)).notification;
      expect(titles((await two.listInbox({ clientId: 'alice', deviceId: 'phone', limit: 10, before: null }, T0 + 2)).items)).toEqual(['b1']);
      const b2 = (await two.append(broadcast, msg('b2'), T0 + 3)).notification;
      await two.updateItem(null, b1.id, { title: 'b1 v2' }, T0 + 4);
      expect(titles((await one.listInbox({ clientId: 'alice', deviceId: 'phone', limit: 10, before: null }, T0 + 5)).items)).toEqual(['b2', 'b1 v2']);
      await one.deleteItem(null, b2.id, T0 + 6);
      await one.setState('alice', { ids: [b1.id], read: true, scope: null, by: null }, T0 + 7);
      const page = await two.listInbox({ clientId: 'alice', deviceId: 'phone', limit: 10, before: null }, T0 + 8);
      expect(page.items.map((i) => [i.title, i.readAt])).toEqual([['b1 v2', T0 + 7]]);
      expect(page).toMatchObject({ unseen: 0, unread: 0 });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
