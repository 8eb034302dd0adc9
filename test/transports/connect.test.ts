import http2 from 'node:http2';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { describe, expect, it } from 'vitest';
import {
  GetStatsRequestSchema,
  type Notification,
  NotificationSchema,
  Notifications,
  StatsSchema,
  SubscribeRequestSchema,
} from '../../src/gen/herald/v1/notifications_pb.js';
import { bearerHeaders, connectClient, connectWeb, esToFrame } from '../support/connect.js';
import { bearerMd, grpcClient, rpc } from '../support/grpc.js';
import { API_KEY, api, publishTo, startTestHerald, token, until } from '../support/herald.js';

/**
 * What the transport contract (contract.test.ts, gRPC-Web and Connect columns) does not show of the
 * HTTP port's herald.v1.Notifications: the other encodings (Connect JSON, `application/json` as
 * curl sends it, `application/grpc-web-text`), CORS for browsers, error metadata, HTTP/2 beside
 * HTTP/1.1 on one port, and a stream on one gRPC wire answered by `Ack` on the other.
 */
const PATH = '/herald.v1.Notifications';

/** One gRPC-Web message frame: flag 0, big-endian length, the message. */
function envelope(msg: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

describe('herald.v1.Notifications on the HTTP port', () => {
  it('answers unary calls as Connect JSON (what curl sends) and as grpc-web-text', async () => {
    await using h = await startTestHerald();
    const json = await fetch(`${h.url}${PATH}/GetStats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: '{}',
    });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ state: 'running', node: h.config.NODE_ID });

    const refused = await fetch(`${h.url}${PATH}/GetStats`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ code: 'unauthenticated' });

    const text = await fetch(`${h.url}${PATH}/GetStats`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1', authorization: `Bearer ${API_KEY}` },
      body: envelope(toBinary(GetStatsRequestSchema, create(GetStatsRequestSchema))).toString('base64'),
    });
    expect(text.headers.get('content-type')).toMatch(/^application\/grpc-web-text/);
    // Each chunk is base64 on its own (padded), so the text decodes four characters at a time, as gRPC-Web clients read it.
    const body = Buffer.concat(((await text.text()).match(/.{4}/g) ?? []).map((group) => Buffer.from(group, 'base64')));
    const len = body.readUInt32BE(1);
    expect(fromBinary(StatsSchema, body.subarray(5, 5 + len))).toMatchObject({ state: 'running' });
    expect(body.subarray(5 + len + 5).toString()).toMatch(/grpc-status: ?0/);
  });

  it('streams as grpc-web-text: each message base64 on its own, the welcome then a notification', async () => {
    await using h = await startTestHerald();
    const tok = await token('alice');
    const { client, close } = connectClient(h, 'grpc-web');
    await client.addConnection({ clientId: 'alice', deviceId: 'phone' }, { headers: bearerHeaders(tok) });
    close();
    const abort = new AbortController();
    const res = await fetch(`${h.url}${PATH}/StreamNotifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/grpc-web-text', 'x-grpc-web': '1', authorization: `Bearer ${tok}` },
      body: envelope(toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { connectionId: 'alice:phone' }))).toString('base64'),
      signal: abort.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/grpc-web-text/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    let bytes = Buffer.alloc(0);
    const next = async (): Promise<Notification> => {
      for (;;) {
        if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt32BE(1)) {
          const len = bytes.readUInt32BE(1);
          const m = fromBinary(NotificationSchema, bytes.subarray(5, 5 + len));
          bytes = bytes.subarray(5 + len);
          return m;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString('latin1');
        const whole = text.length - (text.length % 4);
        const groups = text.slice(0, whole).match(/.{4}/g) ?? [];
        text = text.slice(whole);
        bytes = Buffer.concat([bytes, ...groups.map((g) => Buffer.from(g, 'base64'))]);
      }
    };
    expect(await next()).toMatchObject({ type: 'welcome', connectionId: 'alice:phone' });
    const r = await publishTo(h, 'alice', { title: 'as text', message: 'm' });
    expect(await next()).toMatchObject({ type: 'notification', id: r.body.id, title: 'as text' });
    abort.abort();
    await until(() => h.node.hub.device('alice', 'phone')?.state === 'detached', 5000, 'detached');
  });

  it('streams as Connect JSON; errors carry the stable code in their metadata', async () => {
    await using h = await startTestHerald();
    const client = createClient(Notifications, createConnectTransport({ baseUrl: h.url, httpVersion: '1.1', useBinaryFormat: false }));
    const tok = await token('alice');
    await client.addConnection({ clientId: 'alice', deviceId: 'phone' }, { headers: bearerHeaders(tok) });
    const abort = new AbortController();
    const stream = client.streamNotifications({ connectionId: 'alice:phone' }, { headers: bearerHeaders(tok), signal: abort.signal });
    const it = stream[Symbol.asyncIterator]();
    expect(esToFrame((await it.next()).value)).toMatchObject({ type: 'welcome', connectionId: 'alice:phone' });
    const r = await publishTo(h, 'alice', { title: 'json', message: 'm', data: { a: [1] } });
    expect(esToFrame((await it.next()).value)).toMatchObject({ type: 'notification', id: r.body.id, data: { a: [1] } });
    abort.abort();

    const err = await client.addConnection({ clientId: 'bob', deviceId: 'phone' }, { headers: bearerHeaders(tok) }).catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).metadata.get('herald-error-code')).toBe('HERALD_ERR_FORBIDDEN');
    const bad = await client
      .addConnection({ clientId: 'alice', deviceId: 'bad id!' }, { headers: bearerHeaders(tok) })
      .catch((e: unknown) => ConnectError.from(e));
    expect((bad as ConnectError).metadata.get('herald-error-field')).toBe('device_id');
  });

  it("a binary stream with a deadline goes through Connect's own handler (Herald frames the others itself): the same stream", async () => {
    await using h = await startTestHerald();
    const client = createClient(Notifications, createConnectTransport({ baseUrl: h.url, httpVersion: '1.1' }));
    const tok = await token('alice');
    await client.addConnection({ clientId: 'alice', deviceId: 'phone' }, { headers: bearerHeaders(tok) });
    const abort = new AbortController();
    const it = client
      .streamNotifications({ connectionId: 'alice:phone' }, { headers: bearerHeaders(tok), signal: abort.signal, timeoutMs: 60_000 })
      [Symbol.asyncIterator]();
    expect(esToFrame((await it.next()).value)).toMatchObject({ type: 'welcome', connectionId: 'alice:phone' });
    const r = await publishTo(h, 'alice', { title: 'via connect', message: 'm' });
    expect(esToFrame((await it.next()).value)).toMatchObject({ type: 'notification', id: r.body.id, cursor: expect.any(String) });
    expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone')).status).toBe(204);
    expect(esToFrame((await it.next()).value)).toMatchObject({ type: 'close', code: 4003, reason: 'removed' });
    expect((await it.next()).done).toBe(true);
  });

  it('CORS: preflights allow the gRPC-Web and Connect headers, answers expose the status headers; other origins are refused', async () => {
    await using h = await startTestHerald({ ALLOWED_ORIGINS: 'https://app.example' });
    const pre = await fetch(`${h.url}${PATH}/StreamNotifications`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-grpc-web, authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const allowed = pre.headers.get('access-control-allow-headers')?.split(/,\s*/) ?? [];
    for (const name of ['authorization', 'content-type', 'x-grpc-web', 'x-user-agent', 'grpc-timeout', 'connect-protocol-version', 'connect-timeout-ms']) {
      expect(allowed).toContain(name);
    }
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');

    const res = await fetch(`${h.url}${PATH}/GetStats`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: '{}',
    });
    expect(res.status).toBe(200);
    const exposed = res.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
    for (const name of ['grpc-status', 'grpc-message', 'grpc-status-details-bin', 'herald-error-code', 'herald-error-field']) expect(exposed).toContain(name);

    const other = await fetch(`${h.url}${PATH}/GetStats`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.status).toBe(403);
  });

  it('HTTP/2 and HTTP/1.1 share the port: WebSocket and the API stay on HTTP/1.1; HTTP/2 serves only the service', async () => {
    await using h = await startTestHerald();
    expect((await fetch(`${h.url}/health`)).status).toBe(200);
    const session = http2.connect(h.url);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = session.request({ ':path': '/health' });
        req.on('response', (headers) => resolve(Number(headers[':status'])));
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(404);
    } finally {
      session.close();
    }
  });

  it('a device streaming over gRPC-Web may answer heartbeats with Ack on the native gRPC port', async () => {
    await using h = await startTestHerald({ GRPC_PORT: 0, HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 150, HEARTBEAT_MAX_MISSED: 2 });
    await using d = await connectWeb('grpc-web', h, 'alice', 'phone');
    d.autoPong = false;
    const native = grpcClient(h);
    const tok = await token('alice');
    try {
      for (let i = 0; i < 6; i++) {
        await d.waitFor((f) => f.type === 'ping' && d.frames.filter((g) => g.type === 'ping').length > i, 3000);
        await rpc(native, 'Ack', { connection_id: 'alice:phone', cursor: '' }, bearerMd(tok));
      }
      expect(d.isClosed).toBe(false);
      expect(h.node.hub.stats.zombies).toBe(0);
    } finally {
      native.close();
    }
  });
});
