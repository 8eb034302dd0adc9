import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWire } from '../../src/cluster/wire.js';
import { api, connectDevice, type Frame, publishTo, token, until } from '../support/herald.js';
import { countsOf, inboxNodes, listAs, me, uniq } from '../support/inbox.js';
import { type HeraldProcess, spawnHerald } from '../support/process.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { SseDevice } from '../support/sse.js';

/**
 * The inbox across nodes (PROTOCOL.md "Inbox", "Across nodes"): state frames reach every attached
 * device of the client on every node, in stream order, with each device's counts; a device that
 * comes back on another node learns what it missed; `delivered` leaves excluded devices out
 * cluster-wide. Real processes on a real Redis, as in cluster.test.ts.
 */
let redis: TestRedis;
const spawned: HeraldProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(spawned.map((p) => p[Symbol.asyncDispose]()));
  await redis?.stop();
});

async function twoNodes(): Promise<HeraldProcess[]> {
  const env = { HERALD_REDIS_URL: redis.url, HERALD_NODE_HEARTBEAT_MS: '200', HERALD_NODE_DEAD_AFTER_MS: '600', HERALD_PRESENCE_GRACE_MS: '100' };
  const started = await Promise.all([0, 1].map((i) => spawnHerald({ ...env, HERALD_NODE_ID: uniq(`inbox-${i}`) })));
  spawned.push(...started);
  return started;
}

async function sse(node: HeraldProcess, clientId: string, deviceId: string, cursor?: string): Promise<SseDevice> {
  const d = new SseDevice(node as never, deviceId, await token(clientId), cursor ? { cursor } : {});
  await d.waitFor((f) => f.type === 'welcome');
  return d;
}

const attachedCount = async (node: HeraldProcess, clientId: string) =>
  (await api(node, 'GET', `/api/v1/clients/${clientId}`)).body.devices.filter((d: { state: string }) => d.state === 'attached').length;

const isState = (f: Frame) => f.type === 'state';

describe('the inbox across two nodes', () => {
  it('a read on one node shows on a device of another within 200 ms, both ways, each with its own counts; excluded devices are not counted in delivered', async () => {
    const [a, b] = await twoNodes();
    const alice = uniq('alice');
    await using phone = await connectDevice(a, alice, 'phone');
    await using laptop = await sse(b, alice, 'laptop');
    await until(async () => (await attachedCount(a, alice)) === 2, 5000, 'both registered');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publishTo([a, b][i % 2], alice, { title: `n${i}`, message: 'm' })).body.id);
    const laptopOnly = await publishTo(a, alice, { title: 'laptop', message: 'm' }, 'laptop');
    const excluded = await publishTo(a, alice, { title: 'not the laptop', message: 'm', excludeDevices: ['laptop'] });
    expect([laptopOnly.body.delivered, excluded.body.delivered]).toEqual([1, 1]);
    await phone.waitForNotifications(4);
    await laptop.waitForNotifications(4);
    expect(laptop.notifications.some((f) => f.id === excluded.body.id)).toBe(false);

    // The phone (node A) reads over its WebSocket; the laptop (node B) sees it.
    const t0 = performance.now();
    phone.send({ type: 'state', ids: [ids[0]], read: true });
    const onLaptop = await laptop.waitFor(isState);
    expect(performance.now() - t0).toBeLessThan(200);
    const onPhone = await phone.waitFor(isState);
    expect(onLaptop).toMatchObject({ ids: [ids[0]], read: true, by: 'phone' });
    // Each its own: the phone has n1, n2 and the excluded one unread; the laptop also its own (the
    // excluded one is in its inbox all the same).
    expect(countsOf(onPhone)).toEqual({ unseen: 3, unread: 3 });
    expect(countsOf(onLaptop)).toEqual({ unseen: 4, unread: 4 });

    // The laptop reads its own item and another over HTTP on node B; the phone (node A) sees it.
    const t1 = performance.now();
    const r = await me(b, alice, 'POST', '/me/notifications/state', { device: 'laptop', ids: [ids[1], laptopOnly.body.id], read: true });
    expect(r.body).toEqual({ updated: 2, unseen: 2, unread: 2 });
    const second = await phone.waitFor((f) => isState(f) && f.by === 'laptop');
    expect(performance.now() - t1).toBeLessThan(200);
    expect(countsOf(second)).toEqual({ unseen: 2, unread: 2 });
    expect(countsOf(await laptop.waitFor((f) => isState(f) && f.by === 'laptop'))).toEqual({ unseen: 2, unread: 2 });
    for (const [node, device, frames] of [
      [a, 'phone', phone.frames],
      [b, 'laptop', laptop.frames],
    ] as const) {
      expect(countsOf(await listAs(node, alice, device))).toEqual(countsOf(frames.filter(isState).at(-1)));
    }
  });

  it('a device away while items change comes back on the other node and learns each change once, in order', async () => {
    const [a, b] = await twoNodes();
    const alice = uniq('alice');
    await using phone = await connectDevice(a, alice, 'phone');
    const tablet = await sse(b, alice, 'tablet');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publishTo(a, alice, { title: `n${i}`, message: 'm' })).body.id);
    const [last] = (await tablet.waitForNotifications(3)).slice(-1);
    tablet.close();
    await until(async () => (await attachedCount(a, alice)) === 1, 5000, 'tablet gone');
    phone.send({ type: 'state', ids: [ids[0]], read: true });
    expect((await api(b, 'PATCH', `/api/v1/clients/${alice}/notifications/${ids[1]}`, { title: 'edited' })).status).toBe(200);
    expect((await api(b, 'DELETE', `/api/v1/clients/${alice}/notifications/${ids[2]}`)).status).toBe(204);
    await until(() => phone.frames.filter((f) => ['state', 'update', 'delete'].includes(f.type)).length === 3, 5000, 'three changes on the phone');
    const onPhone = phone.frames.filter((f) => ['state', 'update', 'delete'].includes(f.type));

    await using back = await connectDevice(a, alice, 'tablet', { cursor: last.cursor as string });
    await until(() => back.frames.filter((f) => f.type !== 'welcome' && f.type !== 'ping').length >= 3, 5000, 'the replay');
    const replayed = back.frames.filter((f) => f.type !== 'welcome' && f.type !== 'ping');
    expect(replayed.map((f) => [f.type, f.cursor])).toEqual(onPhone.map((f) => [f.type, f.cursor]));
    expect(back.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 3, unseen: 1, unread: 1 });
    expect(countsOf(replayed[0])).toEqual({ unseen: 1, unread: 1 });
    expect(await listAs(b, alice, 'tablet', 'filter=all')).toEqual(await listAs(a, alice, 'phone', 'filter=all'));
  });
});

describe('a state event from a node that did not know of a device here', () => {
  const nodes = inboxNodes();
  it('is counted for it before it is handed over', async () => {
    await using h = await nodes.start('redis');
    const alice = uniq('alice');
    await using phone = await connectDevice(h, alice, 'phone');
    await publishTo(h, alice, { title: 'phone only', message: 'm' }, 'phone');
    const shared = (await publishTo(h, alice, { title: 'shared', message: 'm' })).body.id;
    await phone.waitForNotifications(2);
    // Another node changed the state and routed the event with counts for other devices only.
    const r = await h.node.store.setState(alice, { ids: [shared], read: true, scope: null, by: null }, Date.now());
    if (!r.event) throw new Error('the change changed nothing');
    const event = { ...r.event, counts: { base: { unseen: 0, unread: 0 }, devices: { laptop: { unseen: 0, unread: 0 } } } };
    const pub = new Redis(nodes.redis().url);
    try {
      await pub.publish(`herald:inbox:${h.config.NODE_ID}`, encodeWire({ kind: 'notification', origin: 'elsewhere', notification: event }));
    } finally {
      pub.disconnect();
    }
    // The phone's own targeted item is unread: its counts, not the base the event came with.
    expect(countsOf(await phone.waitFor(isState))).toEqual({ unseen: 1, unread: 1 });
    expect(phone.frames.find(isState)).toMatchObject({ ids: [shared], read: true, by: null });
  });
});
