import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cursor, decodeCursor, encodeCursor, type StreamPos } from '../../src/core/cursor.js';
import type { Store } from '../../src/core/types.js';
import type { Herald } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { DeviceClient, Frame } from '../support/device-client.js';
import { api, publishTo, startTestHerald, until } from '../support/herald.js';
import { startRedis, type TestRedis, uniquePrefix } from '../support/redis.js';
import { connectSse } from '../support/sse.js';
import { connectVia, type TransportName } from '../support/transports.js';

/**
 * What a cursor means (PROTOCOL.md "Precise semantics", issue 13): "everything up to here" on every
 * stream the device reads, so a device that never received a broadcast does not get the retained
 * ones as missed; and a cursor the store cannot place counts as lost, the device starts at the
 * heads, receives what is published after it connected, and is handed a valid cursor.
 * On the memory store and a real redis-server, over WebSocket, SSE and gRPC.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

type StoreKind = 'memory' | 'redis';

async function makeStore(kind: StoreKind): Promise<Store> {
  const retention = { retentionMessages: 1000, retentionMs: 86_400_000 };
  return kind === 'memory' ? new MemoryStore(retention) : RedisStore.connect({ url: redis.url, prefix: uniquePrefix(), ...retention });
}

async function startWith(kind: StoreKind): Promise<Herald> {
  return startTestHerald({ GRPC_PORT: 0 }, { store: await makeStore(kind) });
}

const uniq = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;

async function broadcast(h: Herald, title: string): Promise<string> {
  const r = await api(h, 'POST', '/api/v1/broadcast', { title, message: 'm' });
  expect(r.status).toBe(202);
  return r.body.id;
}

async function publish(h: Herald, clientId: string, title: string): Promise<string> {
  const r = await publishTo(h, clientId, { title, message: 'm' });
  expect(r.status).toBe(202);
  return r.body.id;
}

const welcomeOf = (d: DeviceClient) => d.frames.find((f) => f.type === 'welcome') as Frame;
const ids = (d: DeviceClient) => d.notifications.map((f) => f.id);

/** Closes a device and waits until the node has detached it (so the next connect is a reconnect). */
async function leave(h: Herald, d: DeviceClient, clientId: string, deviceId: string): Promise<void> {
  d.close();
  await until(async () => {
    const view = (await api(h, 'GET', `/api/v1/clients/${clientId}`)).body;
    return !view.devices.some((x: { deviceId: string; state: string }) => x.deviceId === deviceId && x.state === 'attached');
  });
}

/** The device acknowledges `cursor` the way its transport does, and the ack reaches the store. */
async function ack(h: Herald, d: DeviceClient, clientId: string, deviceId: string, cursor: string): Promise<void> {
  await d.ack(cursor);
  await until(
    async () => {
      const stored = await h.node.store.getDeviceCursor(clientId, deviceId);
      return stored !== null && encodeCursor(stored) === cursor;
    },
    5000,
    'the ack to be stored',
  );
}

function shifted(cursor: string, ms: number): string {
  const c = decodeCursor(cursor) as Cursor;
  const move = (p: StreamPos | null) => (p === null ? null : { ms: p.ms + ms, seq: p.seq });
  return encodeCursor({ ...c, c: move(c.c), b: move(c.b) });
}

const TRANSPORTS: TransportName[] = ['ws', 'sse', 'grpc'];

describe.each(['memory', 'redis'] as StoreKind[])('what a cursor means (%s store)', (kind) => {
  let h: Herald;
  beforeAll(async () => {
    h = await startWith(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(TRANSPORTS)(
    '%s: a new device resuming from its welcome cursor gets only what was published while it was away, not older broadcasts',
    async (transport) => {
      const alice = uniq('alice');
      for (let i = 0; i < 3; i++) await broadcast(h, `old ${i}`);
      const first = await connectVia(transport, h, alice, 'phone');
      expect(welcomeOf(first)).toMatchObject({ resumed: false, pending: 0 });
      const cursor = welcomeOf(first).cursor as string;
      await leave(h, first, alice, 'phone');
      const missed = [await publish(h, alice, 'while away'), await broadcast(h, 'news while away')];
      await using again = await connectVia(transport, h, alice, 'phone', { cursor });
      expect(welcomeOf(again)).toMatchObject({ resumed: true, pending: 2 });
      await again.waitForNotifications(2);
      expect(ids(again)).toEqual(missed);
    },
  );

  it.each(TRANSPORTS)('%s: the same for a device that acked its welcome cursor and reconnects without one', async (transport) => {
    const alice = uniq('alice');
    for (let i = 0; i < 3; i++) await broadcast(h, `old ${i}`);
    const first = await connectVia(transport, h, alice, 'phone');
    await ack(h, first, alice, 'phone', welcomeOf(first).cursor as string);
    await leave(h, first, alice, 'phone');
    const missed = [await publish(h, alice, 'while away'), await broadcast(h, 'news while away')];
    await using again = await connectVia(transport, h, alice, 'phone');
    expect(welcomeOf(again)).toMatchObject({ resumed: true, pending: 2 });
    await again.waitForNotifications(2);
    expect(ids(again)).toEqual(missed);
  });

  it('a pending notification to a new device carries a cursor that covers the older broadcasts too', async () => {
    const alice = uniq('alice');
    const waiting = await publish(h, alice, 'waiting for the first device');
    for (let i = 0; i < 3; i++) await broadcast(h, `old ${i}`);
    const first = await connectVia('ws', h, alice, 'phone');
    expect(welcomeOf(first)).toMatchObject({ resumed: false, pending: 1 });
    const [got] = await first.waitForNotifications(1);
    expect(got.id).toBe(waiting);
    // The welcome's cursor covers everything but the pending one: resuming from it replays it.
    const fromWelcome = welcomeOf(first).cursor as string;
    await leave(h, first, alice, 'phone');
    const later = await broadcast(h, 'later');
    await using viaWelcome = await connectVia('ws', h, alice, 'phone', { cursor: fromWelcome });
    expect(welcomeOf(viaWelcome)).toMatchObject({ resumed: true, pending: 2 });
    await viaWelcome.waitForNotifications(2);
    expect(ids(viaWelcome)).toEqual([waiting, later]);
    await leave(h, viaWelcome, alice, 'phone');
    await using viaNotification = await connectVia('ws', h, alice, 'phone', { cursor: got.cursor as string });
    expect(welcomeOf(viaNotification)).toMatchObject({ resumed: true, pending: 1 });
    await viaNotification.waitForNotifications(1);
    expect(ids(viaNotification)).toEqual([later]);
  });

  it.each(TRANSPORTS)('%s: a cursor ten minutes ahead of every head is lost, starts at the heads, and is replaced by a valid one', async (transport) => {
    const alice = uniq('alice');
    await publish(h, alice, 'before');
    await broadcast(h, 'before');
    // A device that received what there is: its last cursor stands at both heads.
    const probe = await connectVia(transport, h, alice, 'probe');
    const real = (await probe.waitForNotifications(1))[0].cursor as string;
    await leave(h, probe, alice, 'probe');
    const ahead = shifted(real, 10 * 60_000);
    const d = await connectVia(transport, h, alice, 'phone', { cursor: ahead });
    const welcome = welcomeOf(d);
    expect(welcome).toMatchObject({ resumed: false, pending: 0 });
    expect(welcome.cursor).not.toBe(ahead);
    expect(welcome.cursor).toBe(real);
    const live = [await publish(h, alice, 'after connect'), await broadcast(h, 'broadcast after connect'), await publish(h, alice, 'after connect 2')];
    await d.waitForNotifications(3);
    expect(ids(d)).toEqual(live);
    // The cursor it was handed resumes like any other.
    const last = d.notifications[2].cursor as string;
    await leave(h, d, alice, 'phone');
    const more = await publish(h, alice, 'while away');
    await using back = await connectVia(transport, h, alice, 'phone', { cursor: last });
    expect(welcomeOf(back)).toMatchObject({ resumed: true, pending: 1 });
    await back.waitForNotifications(1);
    expect(ids(back)).toEqual([more]);
  });

  it('a cursor of another stream generation (another deployment, an older store) or one from before epochs is lost, not taken as a position', async () => {
    const alice = uniq('alice');
    await publish(h, alice, 'a');
    await publish(h, alice, 'b');
    const probe = await connectVia('ws', h, alice, 'probe');
    const real = decodeCursor((await probe.waitForNotifications(2))[1].cursor as string) as Cursor;
    await leave(h, probe, alice, 'probe');
    const foreign = encodeCursor({ ...real, c: { ms: (real.c as StreamPos).ms - 1, seq: 0 }, ce: 'zz9zz9zz' });
    const legacyPart = (p: StreamPos | null) => (p === null ? '0' : `${p.ms.toString(36)}.${p.seq.toString(36)}`);
    const legacy = `${legacyPart(real.c)}~${legacyPart(real.b)}`;
    let heads = encodeCursor(real);
    for (const cursor of [foreign, legacy]) {
      const d = await connectVia('ws', h, alice, 'phone', { cursor });
      expect(welcomeOf(d)).toMatchObject({ resumed: false, pending: 0 });
      expect(welcomeOf(d).cursor).toBe(heads);
      const id = await publish(h, alice, 'after');
      await d.waitForNotifications(1);
      expect(ids(d)).toEqual([id]);
      heads = d.notifications[0].cursor as string;
      await leave(h, d, alice, 'phone');
    }
  });

  it('SSE: Last-Event-ID ten minutes ahead is lost too, and client notifications still arrive', async () => {
    const alice = uniq('alice');
    await publish(h, alice, 'before');
    const probe = await connectVia('sse', h, alice, 'probe');
    const ahead = shifted((await probe.waitForNotifications(1))[0].cursor as string, 10 * 60_000);
    await leave(h, probe, alice, 'probe');
    await using d = await connectSse(h, alice, 'phone', { headers: { 'last-event-id': ahead } });
    expect(welcomeOf(d)).toMatchObject({ resumed: false, pending: 0 });
    const id = await publish(h, alice, 'after connect');
    await d.waitForNotifications(1);
    expect(ids(d)).toEqual([id]);
  });

  it('a cursor that does not parse is a 400 naming cursor', async () => {
    const r = await fetch(`${h.url}/sse?device=phone&cursor=${encodeURIComponent('not a cursor')}`);
    expect(r.status).toBe(401);
    const { token } = await import('../support/herald.js');
    const bad = await fetch(`${h.url}/sse?device=phone&cursor=nope&token=${await token('alice')}`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('cursor');
  });
});
