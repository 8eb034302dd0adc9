import { describe, expect, it } from 'vitest';
import type { Herald } from '../../src/server.js';
import { bearerHeaders, connectClient, statusName } from '../support/connect.js';
import type { DeviceClient, Frame } from '../support/device-client.js';
import { bearerMd, grpcClient, rpc, statusOf } from '../support/grpc.js';
import { api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { connectVia, type WsDevice } from '../support/transports.js';

/**
 * The inbox over gRPC (issue 15): ListNotifications and SetState on both gRPC wires (native, and
 * gRPC-Web on the HTTP port: one set of rules), `state` frames with each device's counts reaching
 * a WebSocket device and the gRPC device, `update` and `delete` messages, and their replay on resume.
 */
type Wire = 'grpc' | 'grpc-web';

interface ListReq {
  limit?: number;
  before?: string;
  filter?: string;
}
interface StateReq {
  ids?: string[];
  all?: boolean;
  seen?: boolean;
  read?: boolean;
  archived?: boolean;
}
interface Item {
  id: string;
  title: string;
  version: number;
  readAt: number | null;
  seenAt: number | null;
  archivedAt: number | null;
  data: string;
}
interface Page {
  items: Item[];
  unseen: number;
  unread: number;
  next: string;
}

/** The two inbox RPCs of one device on one wire, answers in one shape (times as numbers, null when absent). */
async function inboxRpcs(wire: Wire, h: Herald, clientId: string, deviceId: string, tok?: string) {
  const t = tok ?? (await token(clientId));
  const connectionId = `${clientId}:${deviceId}`;
  if (wire === 'grpc') {
    const client = grpcClient(h);
    const md = () => bearerMd(t);
    const time = (v: number | undefined | null) => (v === undefined || v === null ? null : Number(v));
    return {
      async list(q: ListReq = {}, id = connectionId): Promise<Page> {
        const r = await rpc<{ items: Record<string, unknown>[]; unseen: number; unread: number; next: string }>(
          client,
          'ListNotifications',
          { connection_id: id, limit: q.limit ?? 0, before: q.before ?? '', filter: q.filter ?? '' },
          md(),
        );
        const items = r.items.map((i) => ({
          id: i.id as string,
          title: i.title as string,
          version: i.version as number,
          data: i.data as string,
          readAt: time(i.read_at as number | undefined),
          seenAt: time(i.seen_at as number | undefined),
          archivedAt: time(i.archived_at as number | undefined),
        }));
        return { items, unseen: r.unseen, unread: r.unread, next: r.next };
      },
      setState: (s: StateReq, id = connectionId) =>
        rpc<{ updated: number; unseen: number; unread: number }>(client, 'SetState', { connection_id: id, ids: [], ...s }, md()),
      status: (p: Promise<unknown>) => statusOf(p),
      close: () => client.close(),
    };
  }
  const { client, close } = connectClient(h, 'grpc-web');
  const headers = bearerHeaders(t);
  const time = (v: bigint | undefined) => (v === undefined ? null : Number(v));
  return {
    async list(q: ListReq = {}, id = connectionId): Promise<Page> {
      const r = await client.listNotifications({ connectionId: id, limit: q.limit ?? 0, before: q.before ?? '', filter: q.filter ?? '' }, { headers });
      const items = r.items.map((i) => ({
        id: i.id,
        title: i.title,
        version: i.version,
        data: i.data,
        readAt: time(i.readAt),
        seenAt: time(i.seenAt),
        archivedAt: time(i.archivedAt),
      }));
      return { items, unseen: r.unseen, unread: r.unread, next: r.next };
    },
    setState: (s: StateReq, id = connectionId) => client.setState({ connectionId: id, ...s }, { headers }),
    status: async (p: Promise<unknown>) => {
      try {
        await p;
        return 'OK';
      } catch (err) {
        return statusName(err);
      }
    },
    close,
  };
}

const isState = (f: Frame) => f.type === 'state';

describe.each<Wire>(['grpc', 'grpc-web'])('the inbox over %s', (wire) => {
  it('ListNotifications pages newest first with counts; SetState marks items and answers the counts; bad input is refused naming the field', async () => {
    await using h = await startTestHerald({ GRPC_PORT: 0 });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publishTo(h, 'alice', { title: `n${i}`, message: 'm', data: { i } })).body.id);
    await publishTo(h, 'bob', { title: 'not alice', message: 'm' });
    const me = await inboxRpcs(wire, h, 'alice', 'phone');
    try {
      const first = await me.list({ limit: 2 });
      expect(first.items.map((i) => i.title)).toEqual(['n2', 'n1']);
      expect(first.items[0]).toMatchObject({ version: 1, readAt: null, seenAt: null, archivedAt: null, data: '{"i":2}' });
      expect([first.unseen, first.unread]).toEqual([3, 3]);
      expect(first.next).not.toBe('');
      const second = await me.list({ limit: 2, before: first.next });
      expect(second.items.map((i) => i.title)).toEqual(['n0']);
      expect(second.next).toBe('');

      expect(await me.setState({ ids: [ids[0], ids[0], 'unknown'], read: true })).toMatchObject({ updated: 1, unseen: 2, unread: 2 });
      expect(await me.setState({ ids: [ids[1]], archived: true })).toMatchObject({ updated: 1, unseen: 1, unread: 1 });
      // Nothing changes: nothing updated.
      expect(await me.setState({ ids: [ids[0]], read: true })).toMatchObject({ updated: 0 });
      const all = await me.list({ filter: 'all' });
      expect(all.items.find((i) => i.id === ids[0])?.readAt).toEqual(expect.any(Number));
      expect(all.items.find((i) => i.id === ids[1])?.archivedAt).toEqual(expect.any(Number));
      expect((await me.list()).items.map((i) => i.title)).toEqual(['n2', 'n0']);
      expect((await me.list({ filter: 'unread' })).items.map((i) => i.title)).toEqual(['n2']);
      expect(await me.setState({ all: true, seen: true })).toMatchObject({ updated: 2, unseen: 0, unread: 1 });

      expect(await me.status(me.list({ limit: 101 }))).toBe('INVALID_ARGUMENT');
      expect(await me.status(me.list({ filter: 'nope' }))).toBe('INVALID_ARGUMENT');
      expect(await me.status(me.list({ before: 'garbage' }))).toBe('INVALID_ARGUMENT');
      expect(await me.status(me.setState({ ids: [ids[2]] }))).toBe('INVALID_ARGUMENT');
      expect(await me.status(me.setState({ ids: [ids[2]], all: true, read: true }))).toBe('INVALID_ARGUMENT');
      expect(await me.status(me.list({}, 'bob:phone'))).toBe('PERMISSION_DENIED');
      expect(await me.status(me.setState({ all: true, read: true }, 'bob:phone'))).toBe('PERMISSION_DENIED');
      expect(await me.status(me.list({}, 'no-colon'))).toBe('INVALID_ARGUMENT');
      const stranger = await inboxRpcs(wire, h, 'alice', 'phone', 'not.a.jwt');
      try {
        expect(await stranger.status(stranger.list())).toBe('UNAUTHENTICATED');
      } finally {
        stranger.close();
      }
      // Bob's inbox is his own: alice's changes never touched it.
      const bob = await inboxRpcs(wire, h, 'bob', 'phone');
      try {
        expect(await bob.list()).toMatchObject({ unseen: 1, unread: 1 });
      } finally {
        bob.close();
      }
    } finally {
      me.close();
    }
  });

  it('a SetState reaches a WebSocket device and the gRPC device as state frames with each one’s counts; updates and deletes follow; all replayed once on resume', async () => {
    await using h = await startTestHerald({ GRPC_PORT: 0 });
    await publishTo(h, 'alice', { title: 'laptop only', message: 'm' }, 'laptop');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await publishTo(h, 'alice', { title: `n${i}`, message: 'm' })).body.id);
    await using laptop = (await connectVia('ws', h, 'alice', 'laptop')) as WsDevice;
    const phone: DeviceClient = await connectVia(wire, h, 'alice', 'phone');
    expect(phone.frames[0]).toMatchObject({ type: 'welcome', unseen: 3, unread: 3 });
    expect(laptop.frames[0]).toMatchObject({ type: 'welcome', unseen: 4, unread: 4 });
    const me = await inboxRpcs(wire, h, 'alice', 'phone');
    try {
      expect(await me.setState({ ids: [ids[0]], read: true })).toMatchObject({ updated: 1, unseen: 2, unread: 2 });
      const onPhone = await phone.waitFor(isState);
      expect(onPhone).toEqual({ type: 'state', ids: [ids[0]], read: true, by: 'phone', unseen: 2, unread: 2, cursor: expect.any(String) });
      // The laptop also counts its own targeted item.
      expect(await laptop.waitFor(isState)).toMatchObject({ ids: [ids[0]], read: true, by: 'phone', unseen: 3, unread: 3 });

      expect((await api(h, 'PATCH', `/api/v1/clients/alice/notifications/${ids[1]}`, { title: 'edited' })).status).toBe(200);
      expect(await phone.waitFor((f) => f.type === 'update')).toMatchObject({ id: ids[1], title: 'edited', version: 2, cursor: expect.any(String) });
      expect((await api(h, 'DELETE', `/api/v1/clients/alice/notifications/${ids[2]}`)).status).toBe(204);
      const deleted = await phone.waitFor((f) => f.type === 'delete');
      expect(deleted).toMatchObject({ id: ids[2] });

      // Away from before the changes: a resume replays each change once, in order, with current counts.
      const before = phone.frames.find((f) => f.type === 'notification' && f.id === ids[2]) ?? phone.frames[0];
      await phone[Symbol.asyncDispose]();
      await until(() => h.node.hub.device('alice', 'phone')?.state === 'detached', 5000, 'phone detached');
      await using again = await connectVia(wire, h, 'alice', 'phone', { cursor: before.cursor as string });
      await again.waitFor((f) => f.type === 'delete');
      const changes = again.frames.filter((f) => ['state', 'update', 'delete'].includes(f.type));
      expect(changes.map((f) => f.type)).toEqual(['state', 'update', 'delete']);
      expect(changes[0]).toMatchObject({ ids: [ids[0]], unseen: 1, unread: 1 });
      expect(changes.map((f) => f.cursor)).toEqual([...new Set(changes.map((f) => f.cursor))]);
    } finally {
      me.close();
    }
  });
});
