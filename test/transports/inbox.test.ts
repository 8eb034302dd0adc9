import { describe, expect, it } from 'vitest';
import { readEventCounts } from '../../src/core/event-counts.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import type { Frame } from '../support/device-client.js';
import { api, publishTo, startTestHerald, until } from '../support/herald.js';
import { countsOf, inboxFrames, inboxNodes, listAs, me, uniq } from '../support/inbox.js';
import { connectSse } from '../support/sse.js';
import { connectVia, type WsDevice } from '../support/transports.js';

/**
 * The inbox on the wire (PROTOCOL.md "Inbox"): state, update and delete frames to every attached
 * device of the client, whatever its transport, in stream order with cursors, replayed on resume,
 * each `state` frame with the receiving device's counts. Real sockets, on each store.
 */
const nodes = inboxNodes();

const isState = (f: Frame) => f.type === 'state';

describe.each(nodes.list)('inbox frames (%s store)', (store) => {
  it('a read on one device shows on the other within 200 ms (WebSocket + SSE); counts agree everywhere', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    await using phone = (await connectVia('ws', h, alice, 'phone')) as WsDevice;
    await using laptop = await connectVia('sse', h, alice, 'laptop');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publishTo(h, alice, { title: `n${i}`, message: 'm' })).body.id);
    await phone.waitForNotifications(3);
    await laptop.waitForNotifications(3);

    // The phone reads over its WebSocket: the laptop (SSE) sees it.
    const t0 = performance.now();
    phone.send({ type: 'state', ids: [ids[0]], read: true });
    const onLaptop = await laptop.waitFor(isState);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(onLaptop).toEqual({ type: 'state', ids: [ids[0]], read: true, by: 'phone', unseen: 2, unread: 2, cursor: expect.any(String) });
    expect(countsOf(await phone.waitFor(isState))).toEqual({ unseen: 2, unread: 2 });

    // The laptop reads over HTTP (an id twice and an unknown one): the phone sees it.
    const t1 = performance.now();
    const r = await me(h, alice, 'POST', '/me/notifications/state', { device: 'laptop', ids: [ids[1], ids[1], 'nope'], read: true });
    expect(r).toEqual({ status: 200, body: { updated: 1, unseen: 1, unread: 1 } });
    const onPhone = await phone.waitFor((f) => isState(f) && f.by === 'laptop');
    expect(performance.now() - t1).toBeLessThan(200);
    expect(onPhone).toMatchObject({ ids: [ids[1]], read: true, unseen: 1, unread: 1 });
    expect(countsOf(await laptop.waitFor((f) => isState(f) && f.by === 'laptop'))).toEqual({ unseen: 1, unread: 1 });

    // Each frame has its own cursor after the one before, like notifications.
    const cursors = phone.frames.filter((f) => f.cursor !== undefined && f.type !== 'welcome').map((f) => f.cursor as string);
    expect(new Set(cursors).size).toBe(cursors.length);

    // Listings and welcome counts agree with the frames.
    const [a, b] = [await listAs(h, alice, 'phone'), await listAs(h, alice, 'laptop')];
    expect(a).toEqual(b);
    expect(a.items.map((i) => [i.id, i.readAt !== null])).toEqual([
      [ids[2], false],
      [ids[1], true],
      [ids[0], true],
    ]);
    await using tablet = await connectVia('ws', h, alice, 'tablet');
    expect(tablet.frames[0]).toMatchObject({ type: 'welcome', unseen: 1, unread: 1 });
  });

  it('a device away while items are read, updated and deleted learns each change once, in order, on resume', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    await using phone = (await connectVia('ws', h, alice, 'phone')) as WsDevice;
    const tablet = await connectSse(h, alice, 'tablet');
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await publishTo(h, alice, { title: `n${i}`, message: 'm' })).body.id);
    const [last] = (await tablet.waitForNotifications(4)).slice(-1);
    await phone.waitForNotifications(4);
    tablet.close();
    await until(() => h.node.hub.device(alice, 'tablet')?.state === 'detached', 5000, 'tablet detached');

    phone.send({ type: 'state', ids: [ids[0]], read: true });
    await phone.waitFor(isState);
    expect((await api(h, 'PATCH', `/api/v1/clients/${alice}/notifications/${ids[1]}`, { title: 'edited', data: { v: 2 } })).status).toBe(200);
    phone.send({ type: 'state', ids: [ids[2]], archived: true });
    await phone.waitFor((f) => isState(f) && f.archived === true);
    expect((await api(h, 'DELETE', `/api/v1/clients/${alice}/notifications/${ids[3]}`)).status).toBe(204);
    expect((await api(h, 'POST', `/api/v1/clients/${alice}/notifications/state`, { all: true, seen: true })).body).toEqual({
      updated: 2,
      unseen: 0,
      unread: 1,
    });
    await until(() => inboxFrames(phone.frames).length === 9, 5000, 'the phone saw all five changes');
    const seenByPhone = inboxFrames(phone.frames).slice(4);

    await using back = await connectSse(h, alice, 'tablet', { cursor: last.cursor as string });
    expect(back.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 5, unseen: 0, unread: 1 });
    await until(() => inboxFrames(back.frames).length >= 5, 5000, 'the replay');
    const replayed = inboxFrames(back.frames);
    expect(replayed.map((f) => f.type)).toEqual(['state', 'update', 'state', 'delete', 'state']);
    expect(replayed.map((f) => f.cursor)).toEqual(seenByPhone.map((f) => f.cursor));
    expect(replayed[0]).toMatchObject({ ids: [ids[0]], read: true, by: 'phone' });
    expect(replayed[1]).toMatchObject({ id: ids[1], title: 'edited', data: { v: 2 }, version: 2, clientId: alice });
    expect(replayed[2]).toMatchObject({ ids: [ids[2]], archived: true, by: 'phone' });
    expect(replayed[3]).toEqual({ type: 'delete', id: ids[3], cursor: expect.any(String) });
    expect(replayed[4]).toMatchObject({ all: true, seen: true, by: null });
    // Replayed state frames carry the counts of now.
    for (const f of replayed.filter(isState)) expect(countsOf(f)).toEqual({ unseen: 0, unread: 1 });
    // Nothing twice, and the two listings are one.
    await new Promise((r) => setTimeout(r, 100));
    expect(inboxFrames(back.frames)).toHaveLength(5);
    expect(await listAs(h, alice, 'tablet', 'filter=all')).toEqual(await listAs(h, alice, 'phone', 'filter=all'));
  });

  it('1 000 concurrent state changes from 5 devices: every device ends with the counts of a serial recount', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    const names = ['d0', 'd1', 'd2', 'd3', 'd4'];
    // Three on WebSocket sending frames, two on SSE changing over HTTP.
    const devices = await Promise.all(names.map((d, i) => connectVia(i < 3 ? 'ws' : 'sse', h, alice, d)));
    try {
      const shared: string[] = [];
      for (let i = 0; i < 30; i++) shared.push((await publishTo(h, alice, { title: `s${i}`, message: 'm' })).body.id);
      // Targeted items make each device's counts its own.
      const own: Record<string, string[]> = {};
      for (const [i, d] of names.entries()) {
        own[d] = [];
        for (let k = 0; k <= i; k++) own[d].push((await publishTo(h, alice, { title: `${d}-${k}`, message: 'm' }, d)).body.id);
      }
      await until(() => devices.every((d, i) => d.notifications.length === 30 + i + 1), 10_000, 'every notification');

      // mulberry32: a seeded generator, so a failure replays the same changes.
      let seed = 42;
      const rand = (n: number) => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return (((t ^ (t >>> 14)) >>> 0) % n) as number;
      };
      const FLAGS = [{ read: true }, { read: false }, { seen: true }, { seen: false }, { archived: true }, { archived: false }];
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < 1000; i++) {
        const k = i % 5;
        const mine = [...shared, ...own[names[k]]];
        const change =
          rand(20) === 0 ? { all: true as const, ...FLAGS[rand(6)] } : { ids: [mine[rand(mine.length)], mine[rand(mine.length)]], ...FLAGS[rand(6)] };
        if (k < 3) (devices[k] as WsDevice).send({ type: 'state', ...change });
        else sends.push(me(h, alice, 'POST', '/me/notifications/state', { device: names[k], ...change }));
      }
      await Promise.all(sends);
      // Quiet: every device has the same number of state frames, and no more come.
      let before = -1;
      await until(
        async () => {
          const n = devices.map((d) => d.frames.filter(isState).length);
          const settled = n.every((x) => x === n[0]) && n[0] === before;
          before = n[0];
          if (!settled) await new Promise((r) => setTimeout(r, 150));
          return settled;
        },
        20_000,
        'the state frames to settle',
      );
      expect(before).toBeGreaterThan(100);
      const counts: Record<string, unknown> = {};
      const lastFrames: Record<string, unknown> = {};
      const recount: Record<string, unknown> = {};
      for (const [i, d] of names.entries()) {
        const page = await listAs(h, alice, d, 'filter=all&limit=100');
        const live = page.items.filter((it) => it.archivedAt === null);
        recount[d] = { unseen: live.filter((it) => it.seenAt === null).length, unread: live.filter((it) => it.readAt === null).length };
        counts[d] = countsOf(page);
        lastFrames[d] = countsOf(devices[i].frames.filter(isState).at(-1));
      }
      expect(counts).toEqual(recount);
      expect(lastFrames).toEqual(recount);
    } finally {
      await Promise.all(devices.map((d) => d[Symbol.asyncDispose]()));
    }
  });

  it('event counts: the base is what a device without targeted items sees; each named device its own', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    await publishTo(h, alice, { title: 'shared', message: 'm' });
    await publishTo(h, alice, { title: 'phone', message: 'm' }, 'phone');
    await publishTo(h, alice, { title: 'laptop', message: 'm' }, 'laptop');
    await publishTo(h, alice, { title: 'laptop', message: 'm' }, 'laptop');
    expect(await readEventCounts(h.node.store, alice, ['phone', 'laptop', 'tv'], Date.now())).toEqual({
      base: { unseen: 1, unread: 1 },
      devices: { phone: { unseen: 2, unread: 2 }, laptop: { unseen: 3, unread: 3 }, tv: { unseen: 1, unread: 1 } },
    });
  });

  it('collapse: 5 publishes with one key are one item, unread 1, and each frame names what it replaced', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    await using phone = await connectVia('ws', h, alice, 'phone');
    await using laptop = await connectVia('sse', h, alice, 'laptop');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await publishTo(h, alice, { title: `score ${i}`, message: 'm', collapseKey: 'match-7' })).body.id);
    for (const d of [phone, laptop]) {
      const got = await d.waitForNotifications(5);
      expect(got.map((f) => f.replaces)).toEqual([undefined, ...ids.slice(0, 4)]);
    }
    const page = await listAs(h, alice, 'phone', 'filter=all');
    expect(page.items.map((i) => [i.id, i.collapseKey])).toEqual([[ids[4], 'match-7']]);
    expect(countsOf(page)).toEqual({ unseen: 1, unread: 1 });
    expect(inboxFrames(phone.frames).filter((f) => f.type === 'delete')).toEqual([]);
  });

  it('excludeDevices: no live frame and no replay for them, still in their listing, not counted in delivered', async () => {
    await using h = await nodes.start(store);
    const alice = uniq('alice');
    await using phone = await connectVia('ws', h, alice, 'phone');
    const laptop = await connectVia('sse', h, alice, 'laptop');
    const first = await publishTo(h, alice, { title: 'both', message: 'm' });
    const firstOnLaptop = (await laptop.waitForNotifications(1))[0];
    const quiet = await publishTo(h, alice, { title: 'phone only', message: 'm', excludeDevices: ['laptop', 'laptop'] });
    expect(quiet.body.delivered).toBe(1);
    const marker = await publishTo(h, alice, { title: 'marker', message: 'm' });
    expect(marker.body.delivered).toBe(2);
    await laptop.waitFor((f) => f.id === marker.body.id);
    await phone.waitFor((f) => f.id === marker.body.id);
    expect(laptop.notifications.map((f) => f.id)).toEqual([first.body.id, marker.body.id]);
    expect(phone.notifications.map((f) => f.id)).toEqual([first.body.id, quiet.body.id, marker.body.id]);
    // A device-targeted publish to an excluded device reaches nobody, and says so.
    expect((await publishTo(h, alice, { title: 'x', message: 'm', excludeDevices: ['phone'] }, 'phone')).body.delivered).toBe(0);
    laptop.close();
    await until(() => h.node.hub.device(alice, 'laptop')?.state === 'detached', 5000, 'laptop detached');
    await using back = await connectSse(h, alice, 'laptop', { cursor: firstOnLaptop.cursor as string });
    await back.waitFor((f) => f.id === marker.body.id);
    expect(back.notifications.map((f) => f.id)).toEqual([marker.body.id]);
    expect((await listAs(h, alice, 'laptop')).items.map((i) => i.id)).toEqual([marker.body.id, quiet.body.id, first.body.id]);
  });
});

describe('inbox frames in stream order', () => {
  it('a state event that waits for its counts is not overtaken by a later publish (single node)', async () => {
    // A store whose count reads are slow: the state event resolves after the notification published behind it.
    const store = new MemoryStore({ retentionMessages: 1000, retentionMs: 86_400_000 });
    const inboxCounts = store.inboxCounts.bind(store);
    let slow = false;
    store.inboxCounts = async (...args) => {
      const r = await inboxCounts(...args);
      if (slow) await new Promise((resolve) => setTimeout(resolve, 100));
      return r;
    };
    await using h = await startTestHerald({}, { store });
    const alice = uniq('alice');
    await using phone = await connectVia('ws', h, alice, 'phone');
    const a = await publishTo(h, alice, { title: 'a', message: 'm' });
    await phone.waitForNotifications(1);
    slow = true;
    const changed = api(h, 'POST', `/api/v1/clients/${alice}/notifications/state`, { ids: [a.body.id], read: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    slow = false;
    const b = await publishTo(h, alice, { title: 'b', message: 'm' });
    expect((await changed).status).toBe(200);
    await phone.waitFor((f) => f.id === b.body.id);
    await phone.waitFor(isState);
    expect(inboxFrames(phone.frames).map((f) => f.type)).toEqual(['notification', 'state', 'notification']);
    // Counted when sent (from the gap repair, after `b` was stored): `b` is in them already.
    expect(phone.frames.find(isState)).toMatchObject({ ids: [a.body.id], unseen: 1, unread: 1 });
  });
});
