import { describe, expect, it } from 'vitest';
import { type Cursor, posToStreamId, START, type StreamPos } from '../../src/core/cursor.js';
import type { PublishInput, Store, StoredNotification, Target } from '../../src/core/types.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis, uniquePrefix } from '../support/redis.js';
import { type StoreRetention, storeFactories } from '../support/stores.js';

/**
 * One contract, two stores: everything the core relies on from a Store, run against the memory
 * store and the Redis store (a real redis-server started for this file). Time is the explicit
 * `now` the interface takes; nothing here sleeps.
 */
const stores = storeFactories();
const factories = stores.list;

const T0 = 1_700_000_000_000;
const alice: Target = { kind: 'client', clientId: 'alice' };
const bob: Target = { kind: 'client', clientId: 'bob' };
const broadcast: Target = { kind: 'broadcast' };
const toDevice = (deviceId: string): Target => ({ kind: 'device', clientId: 'alice', deviceId });
const msg = (title: string, extra: Partial<PublishInput> = {}): PublishInput => ({ title, message: `${title} body`, ...extra });
const none: Cursor = START;
/** A cursor at a client position and a broadcast position, each with its stream's epoch. */
const at = (c: StoredNotification | null, b: StoredNotification | null = null): Cursor => ({
  c: c?.pos ?? null,
  ce: c?.epoch ?? null,
  b: b?.pos ?? null,
  be: b?.epoch ?? null,
});
const titles = (items: StoredNotification[]) => items.map((n) => n.title);
const pos = (ms: number, seq = 0): StreamPos => ({ ms, seq });

describe.each(factories)('Store contract: %s', (_name, make) => {
  async function withStore<T>(r: StoreRetention | undefined, fn: (s: Store) => Promise<T>): Promise<T> {
    const s = await make(r);
    try {
      return await fn(s);
    } finally {
      await s.close();
    }
  }

  it('appends in order: positions like XADD * (ms-seq), prev links each to the one before, fields kept', () =>
    withStore(undefined, async (s) => {
      const a = await s.append(alice, msg('a', { service: 'billing', data: { n: 1, deep: [true, null] }, priority: 'high' }), T0);
      const b = await s.append(alice, msg('b'), T0);
      const c = await s.append(alice, msg('c'), T0 + 5);
      expect([a, b, c].map((r) => r.notification.pos)).toEqual([pos(T0, 0), pos(T0, 1), pos(T0 + 5, 0)]);
      expect([a, b, c].map((r) => r.notification.prev)).toEqual([null, pos(T0, 0), pos(T0, 1)]);
      expect(a).toMatchObject({ duplicate: false, stored: true });
      expect(a.notification).toMatchObject({
        clientId: 'alice',
        deviceId: null,
        title: 'a',
        message: 'a body',
        service: 'billing',
        data: { n: 1, deep: [true, null] },
        ts: T0,
        expiresAt: null,
        priority: 'high',
      });
      expect(a.notification.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(b.notification.service).toBe('default');
      expect(b.notification.data).toBeNull();

      const r = await s.replay({ clientId: 'alice', deviceId: 'phone', after: none, broadcasts: true }, T0 + 10);
      expect(r.items).toEqual([a.notification, b.notification, c.notification]);
      expect(r.lost).toBe(false);
      expect(r.head).toMatchObject({ c: pos(T0 + 5), b: null });

      const after = await s.replay({ clientId: 'alice', deviceId: 'phone', after: at(a.notification), broadcasts: true }, T0 + 10);
      expect(titles(after.items)).toEqual(['b', 'c']);
      expect(after.lost).toBe(false);
    }));

  it('keeps a later position when the clock goes backwards', () =>
    withStore(undefined, async (s) => {
      const a = await s.append(alice, msg('a'), T0 + 100);
      const b = await s.append(alice, msg('b'), T0);
      expect(b.notification.pos).toEqual(pos(T0 + 100, 1));
      expect(b.notification.prev).toEqual(a.notification.pos);
    }));

  it('concurrent appends resolve in position order with an unbroken prev chain', () =>
    withStore(undefined, async (s) => {
      const order: StoredNotification[] = [];
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          s.append(alice, msg(`m${i}`), T0 + Math.floor(i / 7)).then((r) => {
            order.push(r.notification);
          }),
        ),
      );
      expect(order).toHaveLength(300);
      for (let i = 1; i < order.length; i++) expect(order[i].prev).toEqual(order[i - 1].pos);
      const r = await s.replay({ clientId: 'alice', deviceId: 'x', after: none, broadcasts: false }, T0 + 100);
      expect(r.items.map((n) => n.id)).toEqual(order.map((n) => n.id));
    }));

  it("filters device-targeted notifications to their device and never shows another client's", () =>
    withStore(undefined, async (s) => {
      await s.append(alice, msg('all'), T0);
      await s.append(toDevice('phone'), msg('phone only'), T0 + 1);
      await s.append(toDevice('laptop'), msg('laptop only'), T0 + 2);
      await s.append(bob, msg('for bob'), T0 + 3);
      const phone = await s.replay({ clientId: 'alice', deviceId: 'phone', after: none, broadcasts: true }, T0 + 10);
      expect(titles(phone.items)).toEqual(['all', 'phone only']);
      expect(phone.items[1].deviceId).toBe('phone');
      // The head covers what was filtered out: the device's cursor moves past it.
      expect(phone.head.c).toEqual(pos(T0 + 2));
      const laptop = await s.replay({ clientId: 'alice', deviceId: 'laptop', after: none, broadcasts: true }, T0 + 10);
      expect(titles(laptop.items)).toEqual(['all', 'laptop only']);
      const b = await s.replay({ clientId: 'bob', deviceId: 'phone', after: none, broadcasts: true }, T0 + 10);
      expect(titles(b.items)).toEqual(['for bob']);
    }));

  it('replays broadcasts only on resume, merged with the client stream by time', () =>
    withStore(undefined, async (s) => {
      const c1 = await s.append(alice, msg('c1'), T0);
      const b1 = await s.append(broadcast, msg('b1'), T0 + 1);
      await s.append(alice, msg('c2'), T0 + 2);
      const b2 = await s.append(broadcast, msg('b2'), T0 + 3);
      expect(b1.notification).toMatchObject({ clientId: null, deviceId: null, pos: pos(T0 + 1), prev: null });
      expect(b2.notification.prev).toEqual(b1.notification.pos);

      const resume = await s.replay({ clientId: 'alice', deviceId: 'phone', after: none, broadcasts: true }, T0 + 10);
      expect(titles(resume.items)).toEqual(['c1', 'b1', 'c2', 'b2']);
      expect(resume.head).toMatchObject({ c: pos(T0 + 2), b: pos(T0 + 3) });

      const fromCursor = await s.replay({ clientId: 'alice', deviceId: 'phone', after: at(c1.notification, b1.notification), broadcasts: true }, T0 + 10);
      expect(titles(fromCursor.items)).toEqual(['c2', 'b2']);

      const pending = await s.replay({ clientId: 'alice', deviceId: 'new', after: none, broadcasts: false }, T0 + 10);
      expect(titles(pending.items)).toEqual(['c1', 'c2']);
      // A new device starts at the broadcast head: old broadcasts are not pending for it.
      expect(pending.head).toMatchObject({ c: pos(T0 + 2), b: pos(T0 + 3) });
      expect(pending.from).toMatchObject({ c: null, b: pos(T0 + 3), be: b1.notification.epoch });
      expect(await s.heads('alice')).toEqual({ c: pos(T0 + 2), ce: c1.notification.epoch, b: pos(T0 + 3), be: b1.notification.epoch });
      expect(await s.heads('nobody')).toEqual({ c: null, ce: null, b: pos(T0 + 3), be: b1.notification.epoch });
    }));

  it('idempotency: the same key within retention is the same notification, per client', () =>
    withStore(undefined, async (s) => {
      const first = await s.append(alice, msg('once', { id: 'order-42' }), T0);
      await s.append(alice, msg('other'), T0 + 1);
      const again = await s.append(alice, msg('changed title', { id: 'order-42' }), T0 + 2);
      expect(first.notification.id).toBe('order-42');
      expect(again).toMatchObject({ duplicate: true, stored: true });
      expect(again.notification).toEqual(first.notification);
      // Another client's key space is its own.
      const bobs = await s.append(bob, msg('bob', { id: 'order-42' }), T0 + 3);
      expect(bobs.duplicate).toBe(false);
      const bc1 = await s.append(broadcast, msg('bc', { id: 'news-1' }), T0 + 4);
      const bc2 = await s.append(broadcast, msg('bc', { id: 'news-1' }), T0 + 5);
      expect(bc2.duplicate).toBe(true);
      expect(bc2.notification.pos).toEqual(bc1.notification.pos);
      const r = await s.replay({ clientId: 'alice', deviceId: 'p', after: none, broadcasts: true }, T0 + 10);
      expect(titles(r.items)).toEqual(['once', 'other', 'bc']);
      expect(r.head.c).toEqual(pos(T0 + 1));
    }));

  it('idempotency ends when retention dropped the notification', () =>
    withStore({ retentionMessages: 2 }, async (s) => {
      const first = await s.append(alice, msg('k', { id: 'k1' }), T0);
      await s.append(alice, msg('x'), T0 + 1);
      await s.append(alice, msg('y'), T0 + 2);
      const again = await s.append(alice, msg('k again', { id: 'k1' }), T0 + 3);
      expect(again.duplicate).toBe(false);
      expect(again.notification.pos).not.toEqual(first.notification.pos);
    }));

  it('retention by count keeps the newest N; a reader before them lost something, one at their start did not', () =>
    withStore({ retentionMessages: 3 }, async (s) => {
      const r = [];
      for (let i = 1; i <= 5; i++) r.push(await s.append(alice, msg(`m${i}`), T0 + i));
      const all = await s.replay({ clientId: 'alice', deviceId: 'p', after: none, broadcasts: false }, T0 + 10);
      expect(titles(all.items)).toEqual(['m3', 'm4', 'm5']);
      expect(all.lost).toBe(true);
      const from1 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(r[0].notification), broadcasts: false }, T0 + 10);
      expect(from1.lost).toBe(true);
      expect(titles(from1.items)).toEqual(['m3', 'm4', 'm5']);
      const from2 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(r[1].notification), broadcasts: false }, T0 + 10);
      expect(from2.lost).toBe(false);
      expect(titles(from2.items)).toEqual(['m3', 'm4', 'm5']);
      const atHead = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(r[4].notification), broadcasts: false }, T0 + 10);
      expect(atHead).toMatchObject({ items: [], lost: false });
      // Broadcasts have their own count.
      const bs = [];
      for (let i = 1; i <= 4; i++) bs.push(await s.append(broadcast, msg(`b${i}`), T0 + 20 + i));
      const withB = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(r[4].notification, bs[0].notification), broadcasts: true }, T0 + 30);
      expect(titles(withB.items)).toEqual(['b2', 'b3', 'b4']);
      expect(withB.lost).toBe(false);
      const lostB = await s.replay(
        { clientId: 'alice', deviceId: 'p', after: { ...at(r[4].notification, bs[0].notification), b: pos(T0 + 20) }, broadcasts: true },
        T0 + 30,
      );
      expect(lostB.lost).toBe(true);
    }));

  it('retention by age drops what is older than retentionMs, at append and at replay', () =>
    withStore({ retentionMs: 1000 }, async (s) => {
      const a = await s.append(alice, msg('old'), T0);
      const b = await s.append(alice, msg('mid'), T0 + 500);
      const c = await s.append(alice, msg('new'), T0 + 1200);
      const r1 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(a.notification), broadcasts: false }, T0 + 1200);
      expect(titles(r1.items)).toEqual(['mid', 'new']);
      expect(r1.lost).toBe(false);
      // Nothing appended since: the replay itself applies retention.
      const r2 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(a.notification), broadcasts: false }, T0 + 1501);
      expect(titles(r2.items)).toEqual(['new']);
      expect(r2.lost).toBe(true);
      const r3 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(b.notification), broadcasts: false }, T0 + 1700);
      expect(r3).toMatchObject({ lost: false });
      expect(titles(r3.items)).toEqual(['new']);
      // Everything aged out: a device that had it all lost nothing; one that did not, did.
      const r4 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(c.notification), broadcasts: false }, T0 + 5000);
      expect(r4).toMatchObject({ items: [], lost: false, head: { c: pos(T0 + 1200), b: null } });
      const r5 = await s.replay({ clientId: 'alice', deviceId: 'p', after: at(b.notification), broadcasts: false }, T0 + 5000);
      expect(r5).toMatchObject({ items: [], lost: true });
    }));

  it('lost: a cursor before the stream began, beyond its head, or for a stream that does not exist', () =>
    withStore(undefined, async (s) => {
      const a = await s.append(alice, msg('a'), T0 + 100);
      await s.append(alice, msg('b'), T0 + 200);
      const ce = a.notification.epoch;
      const q = (c: StreamPos | null) => s.replay({ clientId: 'alice', deviceId: 'p', after: { ...none, c, ce }, broadcasts: false }, T0 + 300);
      expect((await q(pos(T0 + 50))).lost).toBe(true);
      expect((await q(pos(T0 + 100))).lost).toBe(false);
      expect((await q(pos(T0 + 200))).lost).toBe(false);
      const beyond = await q(pos(T0 + 250));
      expect(beyond).toMatchObject({ items: [], lost: true });
      expect((await q(null)).lost).toBe(false);
      const unknown = await s.replay({ clientId: 'carol', deviceId: 'p', after: { ...none, c: pos(T0), ce: 'other' }, broadcasts: true }, T0 + 300);
      expect(unknown).toMatchObject({ items: [], lost: true, head: { c: null, b: null }, from: { c: null } });
      const fresh = await s.replay({ clientId: 'carol', deviceId: 'p', after: none, broadcasts: true }, T0 + 300);
      expect(fresh).toMatchObject({ items: [], lost: false, head: { c: null, b: null } });
      const noBroadcasts = await s.replay(
        { clientId: 'alice', deviceId: 'p', after: { c: pos(T0 + 200), ce, b: pos(T0), be: 'other' }, broadcasts: true },
        T0 + 300,
      );
      expect(noBroadcasts.lost).toBe(true);
    }));

  it('a cursor the store cannot place (ahead of the head, another epoch, no epoch) starts at the head and replays nothing from there', () =>
    withStore(undefined, async (s) => {
      const a = await s.append(alice, msg('a'), T0 + 100);
      const b = await s.append(alice, msg('b'), T0 + 200);
      const bc = await s.append(broadcast, msg('bc'), T0 + 210);
      const { epoch } = a.notification;
      const place = (after: Cursor) => s.replay({ clientId: 'alice', deviceId: 'p', after, broadcasts: true }, T0 + 300);
      // Ten minutes ahead of every head (a clock step across a restart, a store that lost data).
      const ahead = await place({ c: pos(T0 + 600_000), ce: epoch, b: pos(T0 + 600_000), be: bc.notification.epoch });
      expect(ahead).toMatchObject({ items: [], lost: true });
      expect(ahead.from).toEqual({ c: b.notification.pos, ce: epoch, b: bc.notification.pos, be: bc.notification.epoch });
      // A position inside the stream but of another generation (another deployment, an older store).
      const other = await place({ c: a.notification.pos, ce: 'zzzz', b: null, be: null });
      expect(other.lost).toBe(true);
      expect(titles(other.items)).toEqual(['bc']);
      expect(other.from).toMatchObject({ c: b.notification.pos, ce: epoch, b: null });
      // A cursor from before epochs existed (no epoch) cannot be placed either.
      const legacy = await place({ c: a.notification.pos, ce: null, b: bc.notification.pos, be: null });
      expect(legacy).toMatchObject({ items: [], lost: true });
      // The same positions with the right epochs are ordinary resumes.
      const good = await place(at(a.notification, bc.notification));
      expect(good).toMatchObject({ lost: false, from: at(a.notification, bc.notification) });
      expect(titles(good.items)).toEqual(['b']);
      // A pending read after an acknowledged position of another epoch: everything retained is pending.
      const pending = await s.replay({ clientId: 'alice', deviceId: 'p', after: { ...none, c: b.notification.pos, ce: 'zzzz' }, broadcasts: false }, T0 + 300);
      expect(titles(pending.items)).toEqual(['a', 'b']);
      expect(pending.lost).toBe(false);
    }));

  it('every stream has its own epoch; a stream created again gets a new one', () =>
    withStore({ retentionMs: 1000 }, async (s) => {
      const a1 = await s.append(alice, msg('a1'), T0);
      const a2 = await s.append(alice, msg('a2'), T0 + 1);
      const b1 = await s.append(bob, msg('b1'), T0 + 2);
      const x = await s.append(broadcast, msg('x'), T0 + 3);
      expect(a1.notification.epoch).toMatch(/^[0-9a-z]{1,12}$/);
      expect(a2.notification.epoch).toBe(a1.notification.epoch);
      expect(new Set([a1.notification.epoch, b1.notification.epoch, x.notification.epoch]).size).toBe(3);
      const again = await s.append(alice, msg('a1', { id: 'k' }), T0 + 4);
      expect((await s.append(alice, msg('a1', { id: 'k' }), T0 + 5)).notification.epoch).toBe(again.notification.epoch);
      const [replayed] = (await s.range('alice', null, a1.notification.pos, T0 + 6)).map((n) => n.epoch);
      expect(replayed).toBe(a1.notification.epoch);
    }));

  it('ttl: replayed until expiresAt, not after; ttlMs 0 is live only yet takes a position', () =>
    withStore(undefined, async (s) => {
      const short = await s.append(alice, msg('short', { ttlMs: 500 }), T0);
      expect(short.notification.expiresAt).toBe(T0 + 500);
      const live = await s.append(alice, msg('live only', { ttlMs: 0, id: 'live-1' }), T0 + 1);
      expect(live).toMatchObject({ stored: false, duplicate: false });
      expect(live.notification.pos).toEqual(pos(T0 + 1));
      const after = await s.append(alice, msg('after'), T0 + 2);
      expect(after.notification.prev).toEqual(live.notification.pos);
      expect(await s.heads('alice')).toMatchObject({ c: pos(T0 + 2), b: null });
      const replay = (now: number) => s.replay({ clientId: 'alice', deviceId: 'p', after: none, broadcasts: false }, now);
      expect(titles((await replay(T0 + 499)).items)).toEqual(['short', 'after']);
      const late = await replay(T0 + 500);
      expect(titles(late.items)).toEqual(['after']);
      // Expired is not lost: it was meant to go.
      expect(late.lost).toBe(false);
      // A live-only notification leaves no idempotency key behind.
      expect((await s.append(alice, msg('live only', { ttlMs: 0, id: 'live-1' }), T0 + 3)).duplicate).toBe(false);
      const onlyLive = await s.append(bob, msg('x', { ttlMs: 0 }), T0 + 4);
      expect(onlyLive.notification.prev).toBeNull();
      expect((await s.replay({ clientId: 'bob', deviceId: 'p', after: none, broadcasts: false }, T0 + 5)).items).toEqual([]);
    }));

  it('device cursors never move backwards within an epoch; the client acked position is the newest of any device', () =>
    withStore(undefined, async (s) => {
      const m = (c: StreamPos | null, b: StreamPos | null, ce = 'e1', be = 'f1'): Cursor => ({ c, ce: c === null ? null : ce, b, be: b === null ? null : be });
      expect(await s.getDeviceCursor('alice', 'phone')).toBeNull();
      expect(await s.getClientAcked('alice')).toBeNull();
      await s.saveDeviceCursor('alice', 'phone', m(pos(T0, 5), null));
      await s.saveDeviceCursor('alice', 'phone', m(pos(T0, 3), pos(T0 + 7)));
      expect(await s.getDeviceCursor('alice', 'phone')).toEqual(m(pos(T0, 5), pos(T0 + 7)));
      await s.saveDeviceCursor('alice', 'phone', m(null, pos(T0 + 1)));
      expect(await s.getDeviceCursor('alice', 'phone')).toEqual(m(pos(T0, 5), pos(T0 + 7)));
      await s.saveDeviceCursor('alice', 'laptop', m(pos(T0 + 9), null));
      await s.saveDeviceCursor('alice', 'tablet', m(pos(T0, 1), null));
      expect(await s.getClientAcked('alice')).toEqual({ pos: pos(T0 + 9), epoch: 'e1' });
      expect(await s.getDeviceCursor('alice', 'laptop')).toEqual(m(pos(T0 + 9), null));
      // Concurrent saves, in any order, end at the newest.
      await Promise.all([7, 2, 9, 1, 8].map((seq) => s.saveDeviceCursor('alice', 'watch', m(pos(T0 + 20, seq), pos(T0 + 20, 10 - seq)))));
      expect(await s.getDeviceCursor('alice', 'watch')).toEqual(m(pos(T0 + 20, 9), pos(T0 + 20, 9)));
      expect(await s.getClientAcked('alice')).toEqual({ pos: pos(T0 + 20, 9), epoch: 'e1' });
      // A new epoch (the stream was created again) replaces the old positions, even earlier ones.
      await s.saveDeviceCursor('alice', 'watch', m(pos(T0, 1), null, 'e2'));
      expect(await s.getDeviceCursor('alice', 'watch')).toEqual({ c: pos(T0, 1), ce: 'e2', b: pos(T0 + 20, 9), be: 'f1' });
      expect(await s.getClientAcked('alice')).toEqual({ pos: pos(T0, 1), epoch: 'e2' });
      await s.forgetDevice('alice', 'phone');
      expect(await s.getDeviceCursor('alice', 'phone')).toBeNull();
      expect(await s.getDeviceCursor('alice', 'laptop')).not.toBeNull();
      expect(await s.getDeviceCursor('bob', 'laptop')).toBeNull();
      expect(await s.getClientAcked('bob')).toBeNull();
    }));

  it('range: entries after (exclusive) up to (inclusive) of one stream, expired ones left out', () =>
    withStore(undefined, async (s) => {
      const r = [];
      for (let i = 0; i < 5; i++) r.push(await s.append(i === 2 ? toDevice('phone') : alice, msg(`m${i}`, i === 3 ? { ttlMs: 50 } : {}), T0 + i));
      const got = await s.range('alice', r[0].notification.pos, r[3].notification.pos, T0 + 10);
      expect(titles(got)).toEqual(['m1', 'm2', 'm3']);
      expect(got[1].deviceId).toBe('phone');
      expect(got.map((n) => n.prev)).toEqual([r[0].notification.pos, r[1].notification.pos, r[2].notification.pos]);
      expect(titles(await s.range('alice', null, r[1].notification.pos, T0 + 10))).toEqual(['m0', 'm1']);
      expect(titles(await s.range('alice', r[0].notification.pos, r[4].notification.pos, T0 + 100))).toEqual(['m1', 'm2', 'm4']);
      const b = await s.append(broadcast, msg('b'), T0 + 20);
      expect(titles(await s.range(null, null, b.notification.pos, T0 + 30))).toEqual(['b']);
      expect(await s.range('nobody', null, pos(T0 + 100), T0 + 30)).toEqual([]);
    }));
});

describe('RedisStore specifics', () => {
  it('keeps every key of a client under its {client} hash tag (one cluster slot) and the broadcast stream under its own', async () => {
    const prefix = uniquePrefix();
    await using s = disposable(await RedisStore.connect({ url: stores.clustered().url, prefix, retentionMessages: 10, retentionMs: 60_000 }));
    await s.append(alice, msg('a', { id: 'k' }), T0);
    await s.append(toDevice('phone'), msg('p'), T0 + 1);
    await s.append(broadcast, msg('b', { id: 'bk' }), T0 + 2);
    await s.saveDeviceCursor('alice', 'phone', { c: pos(T0), ce: 'e1', b: pos(T0 + 2), be: 'e2' });
    const keys = (await s.redis.keys(`${prefix}*`)).sort();
    expect(keys).toEqual(
      [
        `${prefix}{alice}:s`,
        `${prefix}{alice}:m`,
        `${prefix}{alice}:i:k`,
        `${prefix}{alice}:cur`,
        `${prefix}{!broadcast}:s`,
        `${prefix}{!broadcast}:m`,
        `${prefix}{!broadcast}:i:bk`,
      ].sort(),
    );
    const slots = new Set(await Promise.all(keys.filter((k) => k.includes('{alice}')).map((k) => s.redis.call('CLUSTER', 'KEYSLOT', k) as Promise<number>)));
    expect(slots.size).toBe(1);
    expect(await s.redis.call('CLUSTER', 'KEYSLOT', `${prefix}{alice}:s`)).toBe(await s.redis.call('CLUSTER', 'KEYSLOT', 'alice'));
    // Keys of a stream expire (idle clients cost nothing), cursors too.
    for (const k of keys) expect(await s.redis.pttl(k)).toBeGreaterThan(0);
    expect(await s.redis.xlen(`${prefix}{alice}:s`)).toBe(2);
    expect(await s.redis.hget(`${prefix}{alice}:cur`, 'd:phone')).toBe(`e1:${posToStreamId(pos(T0))},e2:${posToStreamId(pos(T0 + 2))}`);
  });

  it('a second store on the same Redis and prefix (a restarted node) sees streams, cursors and idempotency keys', async () => {
    const prefix = uniquePrefix();
    const opts = { url: stores.redis().url, prefix, retentionMessages: 100, retentionMs: 60_000 };
    const first = await RedisStore.connect(opts);
    const a = await first.append(alice, msg('a', { id: 'k1' }), T0);
    await first.append(alice, msg('b'), T0 + 1);
    await first.saveDeviceCursor('alice', 'phone', at(a.notification));
    await first.close();
    await using second = disposable(await RedisStore.connect(opts));
    expect((await second.append(alice, msg('a', { id: 'k1' }), T0 + 2)).duplicate).toBe(true);
    const c = await second.append(alice, msg('c'), T0 + 3);
    expect(c.notification.prev).toEqual(pos(T0 + 1));
    const cursor = await second.getDeviceCursor('alice', 'phone');
    const r = await second.replay({ clientId: 'alice', deviceId: 'phone', after: cursor as Cursor, broadcasts: true }, T0 + 4);
    expect(titles(r.items)).toEqual(['b', 'c']);
    expect(r.lost).toBe(false);
  });

  it('rejects the prefix characters that would break hash tags', () => {
    expect(() => new RedisStore({ prefix: 'a{b}:', retentionMessages: 1, retentionMs: 1 })).toThrow(/prefix/);
  });

  it('a Redis that goes away makes calls reject (never a crash), and the store recovers when it is back', async () => {
    const own = await startRedis();
    const port = own.port;
    const s = await RedisStore.connect({ url: own.url, prefix: uniquePrefix(), retentionMessages: 10, retentionMs: 60_000, commandTimeoutMs: 1000 });
    try {
      await s.append(alice, msg('before'), T0);
      await own.stop();
      await expect(s.append(alice, msg('while down'), T0 + 1)).rejects.toThrow();
      await expect(s.replay({ clientId: 'alice', deviceId: 'p', after: none, broadcasts: true }, T0 + 1)).rejects.toThrow();
      await expect(s.saveDeviceCursor('alice', 'p', { ...none, c: pos(T0), ce: 'e' })).rejects.toThrow();
      // Back on the same port (an empty Redis: no persistence in this test).
      await using again = await startRedis({ port });
      const appended = () => s.append(alice, msg('after'), T0 + 2).then(Boolean, () => false);
      await until(appended, 10_000);
      expect(again.port).toBe(port);
    } finally {
      await s.close();
      await own.stop();
    }
  });

  it('cannot start against an unreachable Redis: connect rejects with the address', async () => {
    const own = await startRedis();
    await own.stop();
    await expect(RedisStore.connect({ url: own.url, retentionMessages: 1, retentionMs: 1 })).rejects.toThrow(`127.0.0.1:${own.port}`);
  });
});

function disposable<T extends Store>(s: T): T & AsyncDisposable {
  return Object.assign(s, { [Symbol.asyncDispose]: () => s.close() });
}

async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
