import type { ServerResponse } from 'node:http';
import { type Socket, connect as tcpConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import { jsonEncoder, Outgoing } from '../../src/core/frames.js';
import type { StoredNotification } from '../../src/core/types.js';
import type { Herald } from '../../src/server.js';
import { sseChunkEncoder, sseEncoder } from '../../src/transports/sse-frames.js';
import { api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { connectSse, refusedSse, SseDevice } from '../support/sse.js';

const FAST_HEARTBEATS: ConfigInput = { HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 100, HEARTBEAT_MAX_MISSED: 2 };
const settle = (ms = 50) => new Promise((r) => setTimeout(r, ms));

/** A raw HTTP/1.1 client that reads the chunked body itself and keeps its chunks as they came. */
class RawSse implements AsyncDisposable {
  readonly socket: Socket;
  status = 0;
  headers: Record<string, string> = {};
  readonly chunks: Buffer[] = [];
  readonly ended: Promise<void>;
  #buf = Buffer.alloc(0);
  #inBody = false;

  constructor(h: Herald, path: string, headers: Record<string, string> = {}) {
    const url = new URL(h.url);
    this.socket = tcpConnect(Number(url.port), url.hostname);
    this.socket.on('error', () => {});
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, 'Accept: text/event-stream', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    this.socket.on('data', (d) => this.#feed(d));
    this.ended = new Promise((r) => this.socket.once('close', () => r()));
  }

  #feed(data: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, data]);
    if (!this.#inBody) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...rest] = this.#buf.subarray(0, end).toString('latin1').split('\r\n');
      this.status = Number(statusLine.split(' ')[1]);
      for (const l of rest) {
        const i = l.indexOf(':');
        this.headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      this.#buf = this.#buf.subarray(end + 4);
      this.#inBody = true;
    }
    for (;;) {
      const eol = this.#buf.indexOf('\r\n');
      if (eol < 0) return;
      const size = Number.parseInt(this.#buf.subarray(0, eol).toString('latin1'), 16);
      if (this.#buf.length < eol + 2 + size + 2) return;
      if (size > 0) this.chunks.push(this.#buf.subarray(eol + 2, eol + 2 + size));
      this.#buf = this.#buf.subarray(eol + 2 + size + 2);
    }
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }

  /** Parsed events: `{id?, event, data, retry?}`. */
  get events(): { id?: string; event?: string; data?: string; retry?: string }[] {
    return this.text
      .split('\n\n')
      .filter(Boolean)
      .map((block) => Object.fromEntries(block.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)])));
  }

  async waitForText(needle: string, timeoutMs = 5000): Promise<void> {
    await until(() => this.text.includes(needle), timeoutMs, `"${needle}" on the raw stream; got ${JSON.stringify(this.text.slice(-300))}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.destroy();
    await this.ended;
  }
}

async function rawSse(
  h: Herald,
  clientId: string,
  deviceId: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<RawSse> {
  const params = new URLSearchParams({ device: deviceId, token: await token(clientId), ...query });
  const raw = new RawSse(h, `/sse?${params}`, headers);
  await raw.waitForText('event: welcome');
  return raw;
}

function postAck(h: Herald, body: unknown, auth: string | null, contentType = 'application/json', query = ''): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  return fetch(`${h.url}/sse/ack${query}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

describe('SSE stream', () => {
  it('answers with text/event-stream, proxy-friendly headers and no compression; a retry line comes first', async () => {
    await using h = await startTestHerald();
    await using raw = await rawSse(h, 'alice', 'laptop', {}, { 'Accept-Encoding': 'gzip, deflate, br', Origin: 'https://app.example' });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(raw.headers['cache-control']).toBe('no-cache');
    expect(raw.headers['x-accel-buffering']).toBe('no');
    expect(raw.headers['content-encoding']).toBeUndefined();
    expect(raw.headers['access-control-allow-origin']).toBe('*');
    expect(raw.text).toMatch(/^retry: \d+\n\n/);
    const welcome = raw.events.find((e) => e.event === 'welcome');
    expect(JSON.parse(welcome?.data ?? '')).toMatchObject({ type: 'welcome', connectionId: 'alice:laptop', resumed: false, pending: 0 });
  });

  it('frames a notification as id: <cursor>, event: notification, data: the WebSocket JSON', async () => {
    await using h = await startTestHerald();
    await using raw = await rawSse(h, 'alice', 'laptop');
    const r = await publishTo(h, 'alice', { title: 'Hi', message: 'line one\nline two', data: { emoji: '🎉' } });
    await raw.waitForText(r.body.id);
    const block = raw.text.split('\n\n').find((b) => b.includes(r.body.id)) as string;
    const lines = block.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^id: \S+$/);
    expect(lines[1]).toBe('event: notification');
    expect(lines[2]).toMatch(/^data: \{/);
    const n = JSON.parse(lines[2].slice('data: '.length));
    expect(n).toMatchObject({ type: 'notification', id: r.body.id, clientId: 'alice', title: 'Hi', message: 'line one\nline two', data: { emoji: '🎉' } });
    expect(lines[0].slice('id: '.length)).toBe(n.cursor);
  });

  it('encodes a notification once for all devices; only id and cursor differ, and the data is the WebSocket JSON byte for byte', () => {
    const n: StoredNotification = {
      id: 'n1',
      clientId: null,
      deviceId: null,
      title: 'T',
      message: 'M',
      service: 'default',
      data: { a: [1, 2] },
      ts: 1,
      expiresAt: null,
      pos: { ms: 5, seq: 0 },
      prev: null,
      epoch: 'e',
    };
    const out = new Outgoing(n);
    const a = sseEncoder.notification(out, 'alice', 'c1~x');
    const shared = out.cache.sse;
    const b = sseEncoder.notification(out, 'bob', 'c2~y');
    expect(out.cache.sse).toBe(shared);
    expect(a.toString()).toBe(`id: c1~x\nevent: notification\ndata: ${jsonEncoder.notification(out, 'alice', 'c1~x').toString()}\n\n`);
    expect(b.toString()).toBe(`id: c2~y\nevent: notification\ndata: ${jsonEncoder.notification(out, 'bob', 'c2~y').toString()}\n\n`);
  });

  it("the chunked encoder frames each event as one HTTP chunk holding the plain encoder's bytes", () => {
    const n: StoredNotification = {
      id: 'n1',
      clientId: 'alice',
      deviceId: null,
      title: 'Ünïcode 🎉',
      message: 'M',
      service: 'default',
      data: null,
      ts: 1,
      expiresAt: null,
      pos: { ms: 5, seq: 0 },
      prev: null,
      epoch: 'e',
    };
    const out = new Outgoing(n);
    const chunk = (b: Buffer) => {
      const eol = b.indexOf('\r\n');
      const size = Number.parseInt(b.subarray(0, eol).toString('latin1'), 16);
      expect(b.length).toBe(eol + 2 + size + 2);
      expect(b.subarray(-2).toString()).toBe('\r\n');
      return b.subarray(eol + 2, eol + 2 + size);
    };
    expect(chunk(sseChunkEncoder.notification(out, 'alice', 'c1~x'))).toEqual(sseEncoder.notification(out, 'alice', 'c1~x'));
    const close = { type: 'close', code: 4002, reason: 'replaced' } as const;
    expect(chunk(sseChunkEncoder.control(close))).toEqual(sseEncoder.control(close));
  });

  it("coalesces one turn's events of a connection into one socket write", async () => {
    await using h = await startTestHerald();
    await using raw = await rawSse(h, 'alice', 'laptop');
    const conn = h.node.hub.device('alice', 'laptop')?.session?.conn as unknown as { res: ServerResponse };
    const socket = conn.res.socket as Socket;
    const written: Buffer[] = [];
    const write = socket.write;
    socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      if (Buffer.isBuffer(chunk) && chunk.includes('event: notification')) written.push(chunk);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Socket['write'];
    const items = Array.from({ length: 10 }, (_, i) => ({ clientId: 'alice', title: `t${i}`, message: 'm' }));
    const res = await api(h, 'POST', '/api/v1/batch', { items });
    expect(res.body.accepted).toBe(10);
    await raw.waitForText('"title":"t9"');
    await settle();
    expect(written).toHaveLength(1);
    expect(written[0].toString().split('event: notification').length - 1).toBe(10);
    expect(raw.text.split('event: notification').length - 1).toBe(10);
  });

  it('a stream that stops reading gets every notification intact when it reads again: the buffer events are built in is reused only once the socket is done with it', async () => {
    await using h = await startTestHerald({ SEND_QUEUE_BYTES: 256 * 1024 * 1024, SEND_QUEUE_MESSAGES: 100_000, RETENTION_MESSAGES: 5 });
    await using raw = await rawSse(h, 'alice', 'laptop');
    const conn = () => h.node.hub.device('alice', 'laptop')?.session?.conn;
    const message = (i: number) => `${i}:`.padEnd(900 + (i % 7) * 100, 'x');
    raw.socket.pause();
    const titles: string[] = [];
    let backedUpAt = -1;
    // One notification per turn, so each is a write of its own, of varying length; on until the
    // socket has had to keep bytes (a partial write) and for a while after.
    for (let i = 0; i < 50_000 && (backedUpAt < 0 || i < backedUpAt + 200); i++) {
      await h.node.publish({ kind: 'client', clientId: 'alice' }, { title: `n${i}`, message: message(i) });
      titles.push(`n${i}`);
      await new Promise((r) => setImmediate(r));
      if (backedUpAt < 0 && (conn()?.bufferedBytes() ?? 0) > 0) backedUpAt = i;
    }
    expect(backedUpAt).toBeGreaterThan(0);
    raw.socket.resume();
    await raw.waitForText(`"title":"${titles.at(-1)}"`, 20_000);
    const events = raw.events.filter((e) => e.event === 'notification');
    const received = events.map((e) => JSON.parse(e.data ?? '') as { title: string; message: string; cursor: string });
    expect(received.map((n) => n.title)).toEqual(titles);
    expect(received.every((n, i) => n.message === message(i) && events[i].id === n.cursor)).toBe(true);
  }, 60_000);

  it('speaks to an HTTP/1.0 client without chunked encoding: the events as they are, the body ending with the connection', async () => {
    await using h = await startTestHerald();
    const url = new URL(h.url);
    const socket = tcpConnect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    const received: Buffer[] = [];
    socket.on('data', (d) => received.push(d));
    const ended = new Promise<void>((r) => socket.once('close', () => r()));
    const params = new URLSearchParams({ device: 'laptop', token: await token('alice') });
    socket.write(`GET /sse?${params} HTTP/1.0\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
    const text = () => Buffer.concat(received).toString('utf8');
    await until(() => text().includes('event: welcome'), 5000, 'the welcome');
    const r = await publishTo(h, 'alice', { title: 'Hi', message: 'm' });
    await until(() => text().includes(r.body.id), 5000, 'the notification');
    h.node.remove('alice', 'laptop');
    await ended;
    const [head, body] = text().split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.toLowerCase()).not.toContain('transfer-encoding');
    expect(body).toMatch(/^retry: \d+\n\nevent: welcome\ndata: \{/);
    expect(body).toContain(`"id":"${r.body.id}"`);
    expect(body).not.toContain('\r\n');
    expect(body).toMatch(/event: close\ndata: \{[^\n]*"reason":"removed"[^\n]*\}\n\n$/);
  });

  it('a HEAD request opens no stream', async () => {
    await using h = await startTestHerald();
    const res = await fetch(`${h.url}/sse?device=laptop&token=${await token('alice')}`, { method: 'HEAD' });
    expect(res.status).toBe(404);
    expect(h.node.hub.connectionCount).toBe(0);
  });
});

describe('SSE refusals before the stream starts', () => {
  it('answers 400 / 401 / 403 / 429 / 503 with the error code and field', async () => {
    await using h = await startTestHerald({ ALLOWED_ORIGINS: 'https://app.example', MAX_DEVICES_PER_CLIENT: 1, CLIENT_LIMIT_POLICY: 'reject' });
    const t = await token('alice');
    expect(await refusedSse(h, { token: t })).toMatchObject({ status: 400, body: { code: 'HERALD_ERR_INVALID', field: 'device' } });
    expect(await refusedSse(h, { device: 'bad id!', token: t })).toMatchObject({ status: 400, body: { field: 'device' } });
    expect(await refusedSse(h, { device: 'laptop' })).toMatchObject({ status: 401, body: { code: 'HERALD_ERR_UNAUTHORIZED' } });
    expect(await refusedSse(h, { device: 'laptop', token: await token('alice', -120) })).toMatchObject({ status: 401 });
    expect(await refusedSse(h, { device: 'laptop', token: t }, { origin: 'https://evil.example' })).toMatchObject({
      status: 403,
      body: { code: 'HERALD_ERR_FORBIDDEN' },
    });
    expect(await refusedSse(h, { device: 'laptop', token: t, cursor: 'nope' })).toMatchObject({ status: 400, body: { field: 'cursor' } });
    expect(await refusedSse(h, { device: 'laptop', token: t }, { 'last-event-id': 'nope' })).toMatchObject({ status: 400, body: { field: 'cursor' } });
    await using first = await connectSse(h, 'alice', 'phone', { headers: { origin: 'https://app.example' } });
    expect(await refusedSse(h, { device: 'laptop', token: t })).toMatchObject({ status: 429, body: { code: 'HERALD_ERR_CLIENT_LIMIT' } });
    expect(first.isClosed).toBe(false);
  });

  it('answers 503 when the node is full and while it drains', async () => {
    await using h = await startTestHerald({ MAX_CONNECTIONS: 1, DRAIN_TIMEOUT_MS: 300 });
    await using a = await connectSse(h, 'alice', 'a');
    expect(await refusedSse(h, { device: 'b', token: await token('bob') })).toMatchObject({ status: 503, body: { code: 'HERALD_ERR_FULL' } });
    const closing = h.close();
    expect(await refusedSse(h, { device: 'a', token: await token('alice') })).toMatchObject({ status: 503, body: { code: 'HERALD_ERR_DRAINING' } });
    expect(await a.closedWithin()).toEqual({ code: 1012, reason: 'restart' });
    await closing;
  });
});

describe('POST /sse/ack', () => {
  it('204 with the device token (header or ?token=, JSON or text/plain); 401 / 400 / 404 otherwise', async () => {
    await using h = await startTestHerald();
    await using d = await connectSse(h, 'alice', 'laptop');
    const t = await token('alice');
    expect((await postAck(h, { device: 'laptop' }, t)).status).toBe(204);
    expect((await postAck(h, { device: 'laptop' }, null, 'text/plain', `?token=${t}`)).status).toBe(204);
    const noToken = await postAck(h, { device: 'laptop' }, null);
    expect(noToken.status).toBe(401);
    expect((await noToken.json()).code).toBe('HERALD_ERR_UNAUTHORIZED');
    expect((await postAck(h, { device: 'laptop' }, 'not.a.jwt')).status).toBe(401);
    const noDevice = await postAck(h, {}, t);
    expect(noDevice.status).toBe(400);
    expect((await noDevice.json()).field).toBe('device');
    expect((await (await postAck(h, { device: 'laptop', cursor: 'nope' }, t)).json()).field).toBe('cursor');
    expect((await (await postAck(h, { device: 'laptop', cursor: 42 }, t)).json()).field).toBe('cursor');
    expect((await postAck(h, 'not json', t, 'text/plain')).status).toBe(400);
    expect((await postAck(h, '[1]', t)).status).toBe(400);
    // Another client's device, a device with no stream, a device on another transport: not found.
    expect((await postAck(h, { device: 'laptop' }, await token('bob'))).status).toBe(404);
    expect((await postAck(h, { device: 'phone' }, t)).status).toBe(404);
    expect(d.isClosed).toBe(false);
  });

  it('counts as the pong of an ?ack=1 device, with its round trip', async () => {
    await using h = await startTestHerald(FAST_HEARTBEATS);
    await using d = await connectSse(h, 'alice', 'laptop');
    await until(() => h.node.hub.stats.heartbeatsAnswered >= 3, 3000, 'answered heartbeats');
    expect(h.node.hub.device('alice', 'laptop')?.rttMs).not.toBeNull();
    expect(d.isClosed).toBe(false);
  });
});

describe('SSE liveness without ?ack=1 (a plain EventSource, judged by its socket)', () => {
  it('stays while its pings can be written, over many heartbeat intervals', async () => {
    await using h = await startTestHerald(FAST_HEARTBEATS);
    await using plain = await connectSse(h, 'alice', 'laptop', { ack: false });
    await settle(600);
    expect(plain.frames.filter((f) => f.type === 'ping').length).toBeGreaterThanOrEqual(5);
    expect(plain.isClosed).toBe(false);
    expect(h.node.hub.stats.zombies).toBe(0);
    expect(h.node.hub.stats.heartbeatsAnswered).toBeGreaterThanOrEqual(5);
    // Written is not answered: no round trip is measured.
    expect(h.node.hub.device('alice', 'laptop')?.rttMs).toBeNull();
  });

  it('is closed as a zombie (4004) when its pings cannot be written within the pong timeout', async () => {
    // A send queue far larger than what the test sends: the socket backs up, the queue does not overflow.
    await using h = await startTestHerald({ ...FAST_HEARTBEATS, SEND_QUEUE_BYTES: 256 * 1024 * 1024, SEND_QUEUE_MESSAGES: 100_000, RETENTION_MESSAGES: 5 });
    await using plain = await connectSse(h, 'alice', 'laptop', { ack: false });
    plain.stopReading();
    const message = 'x'.repeat(60_000);
    const session = () => h.node.hub.device('alice', 'laptop')?.session;
    for (let i = 0; i < 2000 && session()?.conn.writable(); i++) await publishTo(h, 'alice', { title: `n${i}`, message });
    expect(session()?.conn.writable()).toBe(false);
    await until(() => h.node.hub.stats.zombies === 1, 3000, 'the zombie close');
    expect(h.node.hub.stats.disconnects['slow-consumer']).toBeUndefined();
    plain.resumeReading();
    expect(await plain.closedWithin(10_000)).toEqual({ code: 4004, reason: 'zombie' });
  });
});

describe('SSE resume', () => {
  it('an EventSource that reconnects with Last-Event-ID gets exactly what it missed', async () => {
    await using h = await startTestHerald({ HEARTBEAT_TIMEOUT_MS: 100 });
    await using d = await connectSse(h, 'alice', 'laptop', { reconnect: true });
    const r1 = await publishTo(h, 'alice', { title: 'one', message: 'm' });
    const r2 = await publishTo(h, 'alice', { title: 'two', message: 'm' });
    const [, n2] = await d.waitForNotifications(2);

    d.link.down = true;
    d.link.cut();
    await until(() => h.node.hub.device('alice', 'laptop')?.state === 'detached', 5000, 'detached');
    const r3 = await publishTo(h, 'alice', { title: 'three', message: 'm' });
    const r4 = await api(h, 'POST', '/api/v1/broadcast', { title: 'four', message: 'all' });
    const r5 = await publishTo(h, 'alice', { title: 'five', message: 'm' });
    d.link.down = false;

    await until(() => d.frames.filter((f) => f.type === 'welcome').length === 2, 5000, 'the second welcome');
    expect(d.link.lastEventIds.at(-1)).toBe(n2.cursor);
    expect(d.frames.filter((f) => f.type === 'welcome')[1]).toMatchObject({ resumed: true, pending: 3 });
    await d.waitForNotifications(5);
    await settle();
    // Each stream keeps its order; between a client's stream and the broadcasts none is promised.
    const ids = d.notifications.map((n) => n.id);
    expect(ids.filter((id) => id !== r4.body.id)).toEqual([r1.body.id, r2.body.id, r3.body.id, r5.body.id]);
    expect(ids.slice(2).sort()).toEqual([r3.body.id, r4.body.id, r5.body.id].sort());
  });

  it('Last-Event-ID wins over the ?cursor= the EventSource was opened with', async () => {
    await using h = await startTestHerald();
    const d1 = await connectSse(h, 'alice', 'laptop');
    await publishTo(h, 'alice', { title: 'one', message: 'm' });
    await publishTo(h, 'alice', { title: 'two', message: 'm' });
    const [n1, n2] = await d1.waitForNotifications(2);
    await d1[Symbol.asyncDispose]();
    await until(() => h.node.hub.device('alice', 'laptop')?.state === 'detached', 5000, 'detached');
    const r3 = await publishTo(h, 'alice', { title: 'three', message: 'm' });
    await using d2 = await connectSse(h, 'alice', 'laptop', { cursor: n1.cursor as string, headers: { 'Last-Event-ID': n2.cursor as string } });
    expect(d2.frames[0]).toMatchObject({ resumed: true, pending: 1 });
    await d2.waitForNotifications(1);
    await settle();
    expect(d2.notifications.map((n) => n.id)).toEqual([r3.body.id]);
  });
});

describe('SSE close', () => {
  it('ends with event: close; a close that means "do not come back" carries a long retry, a restart the jittered hint', async () => {
    await using h = await startTestHerald({ DRAIN_TIMEOUT_MS: 200 });
    await using first = await rawSse(h, 'alice', 'laptop');
    await using second = await rawSse(h, 'alice', 'laptop');
    await first.ended;
    const close = first.events.at(-1);
    expect(close?.event).toBe('close');
    expect(JSON.parse(close?.data ?? '')).toMatchObject({ code: 4002, reason: 'replaced' });
    expect(Number(close?.retry)).toBeGreaterThanOrEqual(3_600_000);

    await h.close();
    await second.ended;
    const events = second.events;
    const shutdown = events.find((e) => e.event === 'shutdown');
    expect(Number(shutdown?.retry)).toBe(JSON.parse(shutdown?.data ?? '').reconnectAfterMs);
    expect(events.at(-1)).toMatchObject({ event: 'close' });
    expect(JSON.parse(events.at(-1)?.data ?? '')).toMatchObject({ code: 1012, reason: 'restart' });
    expect(events.at(-1)?.retry).toBeUndefined();
  });

  it('shutdown is not held up by SSE streams, not even one that stopped reading', async () => {
    await using h = await startTestHerald({ DRAIN_TIMEOUT_MS: 200, FORCE_CLOSE_TIMEOUT_MS: 5000, SEND_QUEUE_BYTES: 64 * 1024 * 1024, RETENTION_MESSAGES: 5 });
    await using reading = await connectSse(h, 'alice', 'laptop');
    await using stuck = new SseDevice(h, 'phone', await token('bob'), {});
    await stuck.waitFor((f) => f.type === 'welcome');
    stuck.stopReading();
    const message = 'x'.repeat(60_000);
    const session = () => h.node.hub.device('bob', 'phone')?.session;
    for (let i = 0; i < 2000 && session()?.conn.writable(); i++) await publishTo(h, 'bob', { title: `n${i}`, message });
    const t0 = Date.now();
    await h.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(await reading.closedWithin()).toEqual({ code: 1012, reason: 'restart' });
  });
});
