import { connect as http2Connect } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import { Outgoing } from '../../src/core/frames.js';
import type { StoredNotification } from '../../src/core/types.js';
import { GrpcConnection, type NotificationCall } from '../../src/transports/grpc/connection.js';
import type { Notification__Output } from '../../src/transports/grpc/gen/herald/v1/Notification.js';
import { malformedUtf8Field } from '../../src/transports/grpc/service.js';
import { apiKeyMd, bearerMd, connectGrpc, grpcClient, type RpcError, rpc, statusOf } from '../support/grpc.js';
import { API_KEY, api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { spawnHerald } from '../support/process.js';

const start = (cfg: ConfigInput = {}) => startTestHerald({ GRPC_PORT: 0, ...cfg });
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

describe('gRPC AddConnection / StreamNotifications / RemoveConnection', () => {
  it('AddConnection registers a detached device; StreamNotifications attaches it; the stream ends with close + status OK', async () => {
    await using h = await start();
    const client = grpcClient(h);
    try {
      const md = bearerMd(await token('alice'));
      const res = await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'phone', service_name: 'mail' }, md);
      expect(res).toEqual({ success: true, connection_id: 'alice:phone', message: 'registered' });
      expect(await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'phone' }, md)).toMatchObject({ message: 'already registered' });
      const before = (await api(h, 'GET', '/api/v1/clients/alice')).body;
      expect(before).toMatchObject({ online: false, devices: [{ deviceId: 'phone', connectionId: 'alice:phone', transport: 'grpc', state: 'detached' }] });

      await using d = await connectGrpc(h, 'alice', 'phone', { register: false });
      expect(d.raw[0]).toMatchObject({ type: 'welcome', connection_id: 'alice:phone', resumed: false, pending: 0 });
      expect((await api(h, 'GET', '/api/v1/clients/alice')).body).toMatchObject({ online: true, devices: [{ state: 'attached' }] });

      const r = await publishTo(h, 'alice', { title: 'Hi', message: 'there', service: 'mail', data: { n: 1 } });
      await d.waitFor((f) => f.id === r.body.id);
      const m = d.raw.find((x) => x.id === r.body.id) as Notification__Output;
      expect(m).toMatchObject({
        type: 'notification',
        connection_id: 'alice:phone',
        client_id: 'alice',
        device_id: '',
        title: 'Hi',
        message: 'there',
        service_name: 'mail',
        data: '{"n":1}',
      });
      expect(m.cursor).toMatch(/~/);
      expect(m.timestamp).toBeGreaterThan(1_600_000_000_000);

      expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone')).status).toBe(204);
      expect(await d.closedWithin()).toEqual({ code: 4003, reason: 'removed' });
      expect((await d.status).code).toBe(grpc.status.OK);
    } finally {
      client.close();
    }
  });

  it('RemoveConnection closes an attached stream with 4003 and drops the registration (seeds Test 1)', async () => {
    await using h = await start();
    await using d = await connectGrpc(h, 'alice', 'phone');
    const client = grpcClient(h);
    try {
      const res = await rpc(client, 'RemoveConnection', { client_id: 'alice', device_id: 'phone' }, apiKeyMd());
      expect(res).toEqual({ success: true, message: 'removed alice:phone' });
      expect(await d.closedWithin()).toEqual({ code: 4003, reason: 'removed' });
      expect((await d.status).code).toBe(grpc.status.OK);
      expect(h.node.hub.device('alice', 'phone')).toBeUndefined();
      expect(await statusOf(rpc(client, 'RemoveConnection', { client_id: 'alice', device_id: 'phone' }, apiKeyMd()))).toBe('NOT_FOUND');
      // The stream cannot come back to a removed registration.
      expect(await statusOf(connectGrpc(h, 'alice', 'phone', { register: false }))).toBe('NOT_FOUND');
    } finally {
      client.close();
    }
  });

  it('RemoveConnection takes the API key or a device token of the same client', async () => {
    await using h = await start();
    const client = grpcClient(h);
    try {
      const alice = bearerMd(await token('alice'));
      await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'phone' }, alice);
      await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'laptop' }, alice);
      const remove = (device: string, md: grpc.Metadata) => statusOf(rpc(client, 'RemoveConnection', { client_id: 'alice', device_id: device }, md));
      expect(await remove('phone', bearerMd(await token('bob')))).toBe('PERMISSION_DENIED');
      expect(await remove('phone', bearerMd('wrong-key'))).toBe('UNAUTHENTICATED');
      expect(await remove('phone', bearerMd(null))).toBe('UNAUTHENTICATED');
      expect(await remove('phone', alice)).toBe('OK');
      expect(await remove('laptop', apiKeyMd())).toBe('OK');
      expect(await statusOf(rpc(client, 'RemoveConnection', { client_id: 'alice', device_id: 'bad id' }, apiKeyMd()))).toBe('INVALID_ARGUMENT');
      expect(h.node.hub.client('alice').devices).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('refuses with the contract status codes before the stream starts', async () => {
    await using h = await start({ MAX_DEVICES_PER_CLIENT: 1, CLIENT_LIMIT_POLICY: 'reject' });
    const client = grpcClient(h);
    try {
      const alice = bearerMd(await token('alice'));
      const add = (req: object, md: grpc.Metadata) => statusOf(rpc(client, 'AddConnection', req, md));
      expect(await add({ client_id: 'alice', device_id: 'phone' }, bearerMd(null))).toBe('UNAUTHENTICATED');
      expect(await add({ client_id: 'alice', device_id: 'phone' }, bearerMd('not.a.jwt'))).toBe('UNAUTHENTICATED');
      expect(await add({ client_id: 'alice', device_id: 'phone' }, bearerMd(API_KEY))).toBe('UNAUTHENTICATED');
      expect(await add({ client_id: 'bob', device_id: 'phone' }, alice)).toBe('PERMISSION_DENIED');
      const bad = await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'no spaces' }, alice).catch((e: RpcError) => e);
      expect((bad as RpcError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((bad as RpcError).metadata.get('herald-error-field')).toEqual(['device_id']);
      expect((bad as RpcError).metadata.get('herald-error-code')).toEqual(['HERALD_ERR_INVALID']);

      const attempt = async (connectionId: string, md: grpc.Metadata, cursor = ''): Promise<string> => {
        const call = client.StreamNotifications({ connection_id: connectionId, cursor }, md);
        call.on('data', () => {});
        call.on('error', () => {});
        const s = await new Promise<grpc.StatusObject | null>((resolve) => {
          call.on('status', resolve);
          call.on('data', () => resolve(null));
        });
        call.cancel();
        return s === null ? 'OK' : grpc.status[s.code];
      };
      expect(await attempt('alice:phone', alice)).toBe('NOT_FOUND');
      expect(await attempt('alice_phone', alice)).toBe('INVALID_ARGUMENT');
      expect(await attempt('', alice)).toBe('INVALID_ARGUMENT');
      expect(await attempt('bob:phone', alice)).toBe('PERMISSION_DENIED');
      expect(await attempt('alice:phone', bearerMd(null))).toBe('UNAUTHENTICATED');
      await rpc(client, 'AddConnection', { client_id: 'alice', device_id: 'phone' }, alice);
      expect(await attempt('alice:phone', alice, 'garbage')).toBe('INVALID_ARGUMENT');

      // The device limit counts attached devices: AddConnection succeeds, the stream is refused.
      await using phone = await connectGrpc(h, 'alice', 'phone');
      expect(await add({ client_id: 'alice', device_id: 'laptop' }, alice)).toBe('OK');
      expect(await attempt('alice:laptop', alice)).toBe('RESOURCE_EXHAUSTED');
      expect(phone.isClosed).toBe(false);
    } finally {
      client.close();
    }
  });

  it('UNAVAILABLE when the node is full, and for new calls while it drains; the open stream gets shutdown, then close 1012, then OK', async () => {
    await using h = await start({ MAX_CONNECTIONS: 1, DRAIN_TIMEOUT_MS: 300, FLUSH_TIMEOUT_MS: 100 });
    await using d = await connectGrpc(h, 'alice', 'phone');
    const client = grpcClient(h);
    try {
      const bob = bearerMd(await token('bob'));
      await rpc(client, 'AddConnection', { client_id: 'bob', device_id: 'tablet' }, bob);
      const full = await statusOf(connectGrpc(h, 'bob', 'tablet', { register: false }));
      expect(full).toBe('UNAVAILABLE');

      const closing = h.close();
      expect(await statusOf(rpc(client, 'AddConnection', { client_id: 'bob', device_id: 'tablet' }, bob))).toBe('UNAVAILABLE');
      expect(await statusOf(connectGrpc(h, 'bob', 'tablet', { register: false }))).toBe('UNAVAILABLE');
      const shutdown = await d.waitFor((f) => f.type === 'shutdown');
      expect(shutdown.reconnectAfterMs).toBeGreaterThanOrEqual(0);
      expect(await d.closedWithin()).toEqual({ code: 1012, reason: 'restart' });
      expect((await d.status).code).toBe(grpc.status.OK);
      expect(d.raw.at(-1)).toMatchObject({ type: 'close', code: 1012, reason: 'restart', connection_id: 'alice:phone' });
      await closing;
    } finally {
      client.close();
    }
  });
});

describe('gRPC heartbeats and acks', () => {
  const FAST: ConfigInput = { HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 100, HEARTBEAT_MAX_MISSED: 2 };

  it('sends heartbeat messages; Ack answers them; a device that stops is closed 4004 and stays registered (seeds Test 2)', async () => {
    await using h = await start(FAST);
    await using d = await connectGrpc(h, 'alice', 'phone');
    await until(() => h.node.hub.stats.heartbeatsAnswered >= 3, 3000, 'answered heartbeats');
    expect(d.raw.filter((m) => m.type === 'heartbeat')[0]).toMatchObject({ connection_id: 'alice:phone' });
    expect(h.node.hub.device('alice', 'phone')?.rttMs).not.toBeNull();
    d.autoPong = false;
    expect(await d.closedWithin(3000)).toEqual({ code: 4004, reason: 'zombie' });
    expect((await d.status).code).toBe(grpc.status.OK);
    // Registration outlives the stream: detached, not removed.
    expect(h.node.hub.device('alice', 'phone')).toMatchObject({ state: 'detached' });
    expect((await api(h, 'GET', '/health/heartbeats')).body.zombies).toBe(1);
  });

  it('Ack checks the token, the connection and the cursor', async () => {
    await using h = await start();
    await using d = await connectGrpc(h, 'alice', 'phone');
    const client = grpcClient(h);
    try {
      const ack = (req: object, md: grpc.Metadata) => statusOf(rpc(client, 'Ack', req, md));
      const alice = bearerMd(await token('alice'));
      expect(await ack({ connection_id: 'alice:phone' }, alice)).toBe('OK');
      expect(await ack({ connection_id: 'alice:phone', cursor: 'garbage' }, alice)).toBe('INVALID_ARGUMENT');
      expect(await ack({ connection_id: 'alice:tablet' }, alice)).toBe('NOT_FOUND');
      expect(await ack({ connection_id: 'alice:phone' }, bearerMd(await token('bob')))).toBe('PERMISSION_DENIED');
      expect(await ack({ connection_id: 'alice:phone' }, bearerMd(null))).toBe('UNAUTHENTICATED');
      expect(d.isClosed).toBe(false);
    } finally {
      client.close();
    }
  });

  it('the server sends HTTP/2 keepalive PINGs besides the application heartbeat', async () => {
    await using h = await start({ HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 100 });
    const session = http2Connect(`http://127.0.0.1:${h.grpcPort}`);
    try {
      let pings = 0;
      session.on('ping', () => pings++);
      await until(() => pings >= 1, 5000, 'an HTTP/2 PING from the server');
    } finally {
      session.destroy();
    }
  });
});

describe('gRPC publisher RPCs', () => {
  it('SendNotification to a client and to one device, with data, idempotency key and ttl_ms', async () => {
    await using h = await start();
    await using phone = await connectGrpc(h, 'alice', 'phone');
    await using laptop = await connectGrpc(h, 'alice', 'laptop');
    const client = grpcClient(h);
    try {
      const send = (req: object) => rpc<{ id: string; cursor: string; delivered: number; stored: boolean }>(client, 'SendNotification', req, apiKeyMd());
      const r1 = await send({ client_id: 'alice', title: 'To both', message: 'm', service_name: 'billing', data: '{"amount":5}' });
      expect(r1).toMatchObject({ delivered: 2, stored: true });
      expect(r1.cursor).toMatch(/~/);
      for (const d of [phone, laptop]) expect(await d.waitFor((f) => f.id === r1.id)).toMatchObject({ service: 'billing', data: { amount: 5 } });

      const r2 = await send({ client_id: 'alice', device_id: 'laptop', title: 'Only laptop', message: 'm', id: 'order-1' });
      expect(r2).toMatchObject({ id: 'order-1', delivered: 1, stored: true });
      expect(await laptop.waitFor((f) => f.id === 'order-1')).toMatchObject({ deviceId: 'laptop' });
      const again = await send({ client_id: 'alice', device_id: 'laptop', title: 'dup', message: 'm', id: 'order-1' });
      expect(again).toMatchObject({ id: 'order-1', delivered: 0 });
      // ttl_ms is optional: absent = retention, 0 = live only.
      const live = await send({ client_id: 'alice', device_id: 'laptop', title: 'live', message: 'm', ttl_ms: 0 });
      expect(live).toMatchObject({ delivered: 1, stored: false });

      const invalid = await rpc(client, 'SendNotification', { client_id: 'alice', title: 't', message: 'm', data: '{nope' }, apiKeyMd()).catch(
        (e: RpcError) => e,
      );
      expect((invalid as RpcError).code).toBe(grpc.status.INVALID_ARGUMENT);
      expect((invalid as RpcError).metadata.get('herald-error-field')).toEqual(['data']);
      const badService = await rpc(
        client,
        'SendNotification',
        { client_id: 'alice', title: 't', message: 'm', service_name: 's'.repeat(200) },
        apiKeyMd(),
      ).catch((e: RpcError) => e);
      expect((badService as RpcError).metadata.get('herald-error-field')).toEqual(['service_name']);
      expect(await statusOf(send({ client_id: 'bad id', title: 't', message: 'm' }))).toBe('INVALID_ARGUMENT');
      expect(await statusOf(send({ client_id: 'alice', title: 't', message: 'x'.repeat(70_000) }))).toBe('INVALID_ARGUMENT');
      expect(await statusOf(rpc(client, 'SendNotification', { client_id: 'alice', title: 't', message: 'm' }, bearerMd('wrong')))).toBe('UNAUTHENTICATED');
      expect(await statusOf(rpc(client, 'SendNotification', { client_id: 'alice', title: 't', message: 'm' }, bearerMd(await token('alice'))))).toBe(
        'UNAUTHENTICATED',
      );
      await settle();
      expect(phone.notifications.map((n) => n.id)).toEqual([r1.id]);
    } finally {
      client.close();
    }
  });

  it('Broadcast reaches every device; GetStats returns the /api/v1/stats fields in snake_case', async () => {
    await using h = await start();
    await using a = await connectGrpc(h, 'alice', 'phone');
    await using b = await connectGrpc(h, 'bob', 'phone');
    const client = grpcClient(h);
    try {
      const r = await rpc<{ id: string; delivered: number }>(client, 'Broadcast', { title: 'All', message: 'hands', data: '[1,2]' }, apiKeyMd());
      expect(r.delivered).toBe(2);
      for (const d of [a, b]) expect(await d.waitFor((f) => f.id === r.id)).toMatchObject({ title: 'All', data: [1, 2] });
      expect(await statusOf(rpc(client, 'Broadcast', { title: 't', message: 'm' }, bearerMd(null)))).toBe('UNAUTHENTICATED');

      const stats = await rpc<Record<string, any>>(client, 'GetStats', {}, apiKeyMd());
      const http = (await api(h, 'GET', '/api/v1/stats')).body;
      expect(stats).toMatchObject({
        node: http.node,
        state: 'running',
        total: 2,
        clients: 2,
        by_transport: { ws: 0, sse: 0, grpc: 2 },
        notifications: { published: 1, delivered: 2, dropped: 0 },
        connects: { grpc: 2 },
        delivered_by_transport: { grpc: 2 },
      });
      expect(stats.total).toBe(http.total);
      expect(await statusOf(rpc(client, 'GetStats', {}, bearerMd(await token('alice'))))).toBe('UNAUTHENTICATED');
    } finally {
      client.close();
    }
  });
});

describe('gRPC publishes with malformed text', () => {
  /** A length-delimited protobuf field (field numbers and lengths here fit one varint byte). */
  const field = (no: number, bytes: Buffer | string) => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    return Buffer.concat([Buffer.from([(no << 3) | 2, b.length]), b]);
  };
  /** A lone surrogate as a JavaScript protobuf writer encodes it (3 bytes, not UTF-8). */
  const LONE = Buffer.from([0xed, 0xa0, 0xbd]);
  const raw = (...parts: Buffer[]) => Buffer.concat(parts);

  /** A unary call whose request is the given bytes: what a client with its own encoder sends. */
  function rawCall(h: Parameters<typeof grpcClient>[0], method: string, request: Buffer): Promise<{ code: string; field?: string }> {
    const client = new grpc.Client(`127.0.0.1:${h.grpcPort}`, grpc.credentials.createInsecure());
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        `/herald.v1.Notifications/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        apiKeyMd(),
        (err) => {
          client.close();
          const e = err as RpcError | null;
          resolve({ code: e ? grpc.status[e.code] : 'OK', field: e?.metadata.get('herald-error-field')[0] as string | undefined });
        },
      );
    });
  }

  it('SendNotification and Broadcast: a string field that is not UTF-8 on the wire is INVALID_ARGUMENT naming it; nothing is delivered', async () => {
    await using h = await start();
    await using d = await connectGrpc(h, 'alice', 'phone');
    // SendNotificationRequest: client_id 1, device_id 2, title 3, message 4, service_name 5, data 6, id 7.
    const to = field(1, 'alice');
    const cases: [string, Buffer, string][] = [
      ['SendNotification', raw(to, field(3, LONE), field(4, 'm')), 'title'],
      ['SendNotification', raw(to, field(3, 't'), field(4, raw(Buffer.from('a'), LONE))), 'message'],
      ['SendNotification', raw(to, field(3, 't'), field(4, 'm'), field(5, LONE)), 'service_name'],
      ['SendNotification', raw(to, field(3, 't'), field(4, 'm'), field(6, raw(Buffer.from('"'), LONE, Buffer.from('"')))), 'data'],
      ['SendNotification', raw(to, field(3, 't'), field(4, 'm'), field(7, LONE)), 'id'],
      ['SendNotification', raw(to, field(3, 't'), field(4, Buffer.from([0xc3]))), 'message'], // a truncated sequence
      // BroadcastRequest: title 1, message 2, service_name 3, data 4, id 5.
      ['Broadcast', raw(field(1, LONE), field(2, 'm')), 'title'],
      ['Broadcast', raw(field(1, 't'), field(2, LONE)), 'message'],
      ['Broadcast', raw(field(1, 't'), field(2, 'm'), field(4, raw(Buffer.from('["'), LONE, Buffer.from('"]')))), 'data'],
    ];
    for (const [method, request, name] of cases)
      expect(await rawCall(h, method, request), `${method} ${name}`).toEqual({ code: 'INVALID_ARGUMENT', field: name });
    // The same bytes, well-formed (U+1F600 in UTF-8), are accepted.
    const fine = await rawCall(h, 'SendNotification', raw(to, field(3, Buffer.from([0xf0, 0x9f, 0x98, 0x80])), field(4, 'm')));
    expect(fine.code).toBe('OK');
    await d.waitFor((f) => f.title === '😀');
    await settle();
    expect(d.notifications.map((n) => n.title)).toEqual(['😀']);
  });

  it('data as JSON text whose escapes decode to a lone surrogate is INVALID_ARGUMENT naming the path', async () => {
    await using h = await start();
    const client = grpcClient(h);
    try {
      const send = (method: string, req: object) => rpc(client, method, req, apiKeyMd()).catch((e: RpcError) => e);
      const cases: [string, object, string][] = [
        ['SendNotification', { client_id: 'alice', title: 't', message: 'm', data: '{"a":{"b":["ok","\\ud83d"]}}' }, 'data.a.b[1]'],
        // Metadata is printable ASCII: a key's own text is percent-encoded there (here U+FFFD, for the lone surrogate).
        ['Broadcast', { title: 't', message: 'm', data: '{"\\udc00":1}' }, 'data.%EF%BF%BD'],
        ['Broadcast', { title: 't', message: 'm', data: '{"grüße 100%":"\\ud800"}' }, 'data.gr%C3%BC%C3%9Fe 100%25'],
      ];
      for (const [method, req, name] of cases) {
        const e = (await send(method, req)) as RpcError;
        expect(grpc.status[e.code], name).toBe('INVALID_ARGUMENT');
        expect(e.metadata.get('herald-error-field')).toEqual([name]);
      }
      expect(h.node.hub.stats.published).toBe(0);
    } finally {
      client.close();
    }
  });

  it('finds the malformed string field of a raw message, and leaves other fields and unparsable messages alone', () => {
    const strings = new Map([
      [3, 'title'],
      [4, 'message'],
    ]);
    // A varint field (8), a fixed64 (9) and a bytes field not named (10) holding non-UTF-8 before the bad title.
    const other = Buffer.concat([Buffer.from([8 << 3, 0x96, 0x01, (9 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8]), field(10, LONE)]);
    expect(malformedUtf8Field(raw(other, field(4, 'ok'), field(3, LONE)), strings)).toBe('title');
    expect(malformedUtf8Field(raw(other, field(3, 'ü'), field(4, 'ok')), strings)).toBeUndefined();
    expect(malformedUtf8Field(Buffer.from([(3 << 3) | 2, 10, 0x61]), strings)).toBeUndefined(); // length past the end
    expect(malformedUtf8Field(Buffer.from([(3 << 3) | 2, 0x80]), strings)).toBeUndefined(); // truncated varint
  });
});

describe('gRPC encoding', () => {
  const def = protoLoader.loadSync(new URL('../../proto/herald/v1/notifications.proto', import.meta.url).pathname, {
    keepCase: true,
    longs: Number,
    defaults: true,
    oneofs: true,
  });
  const decode = (def['herald.v1.Notifications'] as unknown as Record<string, { responseDeserialize(b: Buffer): Notification__Output }>).StreamNotifications
    .responseDeserialize;

  it("encodes a notification's shared fields once; each device's message is those bytes plus its own connection id and cursor", () => {
    const n: StoredNotification = {
      id: 'n1',
      clientId: null,
      deviceId: null,
      title: 'Tïtle',
      message: 'M'.repeat(300),
      service: 'default',
      data: { deep: { list: [1, 'two'] } },
      ts: 1_795_000_000_123,
      expiresAt: null,
      pos: { ms: 5, seq: 0 },
      prev: null,
      epoch: 'e',
    };
    const out = new Outgoing(n);
    const call = {} as NotificationCall;
    const a = new GrpcConnection(call, 'alice', 'alice:phone').encoder.notification(out, 'alice', 'c1~x');
    const shared = out.cache.grpc as Buffer;
    const b = new GrpcConnection(call, 'bob', 'bob:laptop').encoder.notification(out, 'bob', 'c2~y');
    expect(out.cache.grpc).toBe(shared);
    expect(a.subarray(0, shared.length).equals(shared)).toBe(true);
    expect(b.subarray(0, shared.length).equals(shared)).toBe(true);
    expect(b.length - shared.length).toBeLessThan(40);
    expect(decode(a)).toMatchObject({
      type: 'notification',
      id: 'n1',
      title: 'Tïtle',
      timestamp: n.ts,
      data: '{"deep":{"list":[1,"two"]}}',
      connection_id: 'alice:phone',
      client_id: 'alice',
      cursor: 'c1~x',
    });
    expect(decode(b)).toMatchObject({ id: 'n1', connection_id: 'bob:laptop', client_id: 'bob', cursor: 'c2~y', message: n.message });
  });
});

describe('herald serve with gRPC', () => {
  it('prints the real gRPC port in its listening line, and serves on it', async () => {
    await using p = await spawnHerald({ HERALD_GRPC_PORT: '0' });
    const m = /grpc=(\S+):(\d+)/.exec(p.output());
    expect(m).not.toBeNull();
    const port = Number(m?.[2]);
    expect(port).toBeGreaterThan(0);
    const client = grpcClient({ grpcPort: port } as Parameters<typeof grpcClient>[0]);
    try {
      expect(await rpc(client, 'GetStats', {}, apiKeyMd())).toMatchObject({ state: 'running', total: 0 });
    } finally {
      client.close();
    }
  });

  it('prints grpc=off when gRPC is off', async () => {
    await using p = await spawnHerald({ HERALD_GRPC_PORT: 'off' });
    expect(p.output()).toMatch(/herald listening http=\S+ grpc=off /);
  });
});
