import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { connect } from '../../src/client/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { publishAfterRestart, range, record, sdk, TRANSPORTS, titles, untilCount } from './helpers.js';

/**
 * Short heartbeats: a ping every 100 ms, so every test sees many answered. The pong timeout leaves
 * room for a loaded machine (these tests share two CPUs with browsers and other test files).
 */
const FAST = { HEARTBEAT_INTERVAL_MS: 100, HEARTBEAT_TIMEOUT_MS: 500, HEARTBEAT_MAX_MISSED: 2 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(TRANSPORTS)('the SDK in Node over %s against a real node', (transport) => {
  it('receives client, device and broadcast notifications in order and acks them', async () => {
    await using h = await startTestHerald(FAST);
    using r = await sdk(h, 'alice', 'laptop', transport, { ackDelayMs: 20 });
    await r.conn.whenOpen();
    expect(r.conn.state).toBe('open');
    expect(r.welcomes[0].connectionId).toBe('alice:laptop');
    for (let i = 1; i <= 3; i++) expect((await publishTo(h, 'alice', { title: `n${i}`, message: 'client' })).status).toBe(202);
    await publishTo(h, 'alice', { title: 'n4', message: 'device' }, 'laptop');
    await publishTo(h, 'alice', { title: 'other', message: 'to another device' }, 'phone');
    await api(h, 'POST', '/api/v1/broadcast', { title: 'n5', message: 'everyone' });
    await untilCount(r, 5);
    expect(titles(r)).toEqual(range(1, 5));
    expect(r.notifications[3].deviceId).toBe('laptop');
    expect(r.notifications[4].broadcast).toBe(true);
    expect(r.conn.cursor).toBe(r.notifications[4].cursor);
    // The ack reaches the store (server batches acks for 250 ms).
    await until(async () => (await h.node.store.getDeviceCursor('alice', 'laptop')) !== null, 3000, 'the stored cursor');
    // It answers pings: many heartbeats later it is still the same live stream, never a zombie.
    await sleep(600);
    expect(h.node.hub.stats.zombies ?? 0).toBe(0);
    expect(r.welcomes).toHaveLength(1);
    expect(r.disconnects).toEqual([]);
    expect(r.errors).toEqual([]);
  });

  it('a page reload of a tab that received nothing: only what was published while it was away, no older broadcasts (issue 13)', async () => {
    await using h = await startTestHerald(FAST);
    for (let i = 0; i < 3; i++) await api(h, 'POST', '/api/v1/broadcast', { title: `old${i}`, message: 'm' });
    const saved = new Map<string, string>();
    const storage = { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => void saved.set(k, v) };
    const first = await sdk(h, 'alice', 'tab', transport, { storage });
    await first.conn.whenOpen();
    await until(() => saved.size > 0, 2000, 'the welcome cursor in storage');
    first.conn.close();
    await until(() => h.node.hub.device('alice', 'tab')?.session == null, 2000, 'the tab gone');
    await publishTo(h, 'alice', { title: 'while away', message: 'm' });
    await api(h, 'POST', '/api/v1/broadcast', { title: 'news while away', message: 'm' });
    using second = await sdk(h, 'alice', 'tab', transport, { storage });
    await untilCount(second, 2);
    await sleep(100);
    expect(titles(second)).toEqual(['while away', 'news while away']);
    expect(second.welcomes[0]).toMatchObject({ resumed: true, pending: 2 });
    expect(first.notifications).toEqual([]);
  });

  it('resumes from its cursor after the server drops it, missing nothing and seeing nothing twice', async () => {
    await using h = await startTestHerald(FAST);
    using r = await sdk(h, 'alice', 'laptop', transport, { backoff: { baseMs: 200 } });
    await r.conn.whenOpen();
    for (let i = 1; i <= 3; i++) await publishTo(h, 'alice', { title: `n${i}`, message: 'm' });
    await untilCount(r, 3);
    h.node.hub.device('alice', 'laptop')?.session?.close('zombie');
    await until(() => r.disconnects.length >= 1, 2000, 'the disconnect');
    expect(r.disconnects[0]).toMatchObject({ code: 4004, reason: 'zombie', reconnect: true });
    for (let i = 4; i <= 8; i++) await publishTo(h, 'alice', { title: `n${i}`, message: 'm' });
    await untilCount(r, 8);
    await until(() => r.conn.state === 'open', 3000, 'open again');
    await publishTo(h, 'alice', { title: 'n9', message: 'm' });
    await untilCount(r, 9);
    await sleep(100);
    expect(titles(r)).toEqual(range(1, 9));
    expect(r.welcomes.at(-1)?.resumed).toBe(true);
    expect(r.states.slice(0, 3)).toEqual(['open', 'reconnecting', 'open']);
  });

  it('honours shutdown.reconnectAfterMs and misses nothing across a node restart', async () => {
    const store = new MemoryStore({ retentionMessages: 1000, retentionMs: 3_600_000 });
    const h1 = await startTestHerald({ ...FAST, DRAIN_TIMEOUT_MS: 600, FLUSH_TIMEOUT_MS: 50 }, { store });
    const port = h1.port;
    using r = await sdk(h1.url, 'alice', 'laptop', transport, { token: await token('alice'), backoff: { baseMs: 50, maxMs: 100 } });
    const shutdowns: { at: number; hint: number }[] = [];
    r.conn.on('shutdown', (f) => shutdowns.push({ at: Date.now(), hint: f.reconnectAfterMs }));
    await r.conn.whenOpen();
    await publishTo(h1, 'alice', { title: 'n1', message: 'before' });
    await untilCount(r, 1);
    const closing = h1.close();
    await until(() => r.disconnects.length >= 1, 3000, 'the drain to close the stream');
    const d = r.disconnects[0];
    expect(d).toMatchObject({ code: 1012, reason: 'restart', reconnect: true });
    expect(shutdowns).toHaveLength(1);
    const { at, hint } = shutdowns[0];
    expect(hint).toBeLessThan(600);
    // The wait is what is left of the hint when the stream closed, not a backoff of its own.
    expect(d.at + (d.delayMs ?? 0)).toBeGreaterThanOrEqual(at + hint - 5);
    expect(d.delayMs).toBeLessThanOrEqual(hint);
    await closing;
    await using h2 = await startTestHerald({ ...FAST, PORT: port }, { store });
    await publishAfterRestart(h2, 'alice', { title: 'n2', message: 'while away' });
    await until(() => r.conn.state === 'open', 5000, 'reconnected to the new node');
    await publishAfterRestart(h2, 'alice', { title: 'n3', message: 'after' });
    await untilCount(r, 3);
    expect(titles(r)).toEqual(['n1', 'n2', 'n3']);
  });

  it('stops instead of fighting when replaced (4002), removed (4003) or evicted (4008)', async () => {
    await using h = await startTestHerald({ ...FAST, MAX_DEVICES_PER_CLIENT: 2, CLIENT_LIMIT_POLICY: 'evict-oldest' });
    using first = await sdk(h, 'alice', 'laptop', transport);
    await first.conn.whenOpen();
    const closed: string[] = [];
    first.conn.on('closed', (c) => closed.push(c.reason));
    using second = await sdk(h, 'alice', 'laptop', transport);
    await second.conn.whenOpen();
    await until(() => first.conn.state === 'closed', 2000, 'the replaced one to stop');
    expect(first.conn.closedInfo).toMatchObject({ reason: 'replaced', code: 4002 });
    expect(closed).toEqual(['replaced']);

    using phone = await sdk(h, 'alice', 'phone', transport);
    await phone.conn.whenOpen();
    expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/phone')).status).toBe(204);
    await until(() => phone.conn.state === 'closed', 2000, 'the removed one to stop');
    expect(phone.conn.closedInfo).toMatchObject({ reason: 'removed', code: 4003 });

    using tablet = await sdk(h, 'alice', 'tablet', transport);
    await tablet.conn.whenOpen();
    using watch = await sdk(h, 'alice', 'watch', transport);
    await watch.conn.whenOpen();
    await until(() => second.conn.state === 'closed', 2000, 'the oldest to be evicted');
    expect(second.conn.closedInfo).toMatchObject({ reason: 'client-limit', code: 4008 });

    // Nobody came back to fight: the survivors stay, the stopped ones stay away.
    await sleep(500);
    const devices = (await api(h, 'GET', '/api/v1/clients/alice')).body.devices as { deviceId: string; state: string }[];
    expect(
      devices
        .filter((x) => x.state === 'attached')
        .map((x) => x.deviceId)
        .sort(),
    ).toEqual(['tablet', 'watch']);
    expect(first.welcomes).toHaveLength(1);
    expect(phone.welcomes).toHaveLength(1);
    expect(second.welcomes).toHaveLength(1);
  });

  it('leave() closes and unregisters the device', async () => {
    await using h = await startTestHerald(FAST);
    using r = await sdk(h, 'alice', 'laptop', transport);
    await r.conn.whenOpen();
    await r.conn.leave();
    expect(r.conn.closedInfo).toMatchObject({ reason: 'left' });
    await until(async () => (await api(h, 'GET', '/api/v1/clients/alice')).body.devices.length === 0, 2000, 'the device to be gone');
  });

  it('refreshes its token through getToken on token-expired and keeps receiving', async () => {
    await using h = await startTestHerald({ ...FAST, JWT_CLOCK_SKEW_MS: 0, TOKEN_GRACE_MS: 2000 });
    let calls = 0;
    const getToken = async () => (++calls === 1 ? token('alice', 2) : token('alice', 3600));
    using r = await sdk(h, 'alice', 'laptop', transport, { getToken });
    const expired: unknown[] = [];
    r.conn.on('token-expired', (f) => expired.push(f));
    await r.conn.whenOpen();
    await until(() => expired.length === 1, 4000, 'token-expired');
    await until(() => calls === 2 && r.conn.state === 'open' && r.welcomes.length === 2, 3000, 'the reconnect with a fresh token');
    await publishTo(h, 'alice', { title: 'n1', message: 'after the refresh' });
    await untilCount(r, 1);
    await sleep(2200); // past the old token's grace: nothing closes the new stream
    expect(r.conn.state).toBe('open');
    expect(r.disconnects.map((d) => d.reason)).toEqual(['token-refresh']);
  });

  it('with a static token that expires, ends as unauthorized (1008) instead of retrying', async () => {
    await using h = await startTestHerald({ ...FAST, JWT_CLOCK_SKEW_MS: 0, TOKEN_GRACE_MS: 200 });
    using r = await sdk(h, 'alice', 'laptop', transport, { token: await token('alice', 2) });
    await r.conn.whenOpen();
    await until(() => r.conn.state === 'closed', 5000, 'closed');
    expect(r.conn.closedInfo).toMatchObject({ reason: 'unauthorized', code: 1008 });
  });
});

describe('the SDK against a misbehaving peer (real sockets)', () => {
  async function peer(onConnection: (ws: WebSocket) => void) {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      onConnection(ws);
    });
    const url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    return {
      url,
      connections: () => connections,
      async [Symbol.asyncDispose]() {
        for (const c of wss.clients) c.terminate();
        await new Promise((r) => wss.close(r));
      },
    };
  }
  const welcome = (hb = { intervalMs: 50, timeoutMs: 50 }) =>
    JSON.stringify({ type: 'welcome', connectionId: 'a:b', heartbeat: hb, resumed: true, pending: 0 });

  it('declares a silent server gone (interval × misses + timeout) and reconnects', async () => {
    await using p = await peer((ws) => ws.send(welcome()));
    using r = record(connect({ url: p.url, device: 'b', token: 'x', WebSocket, heartbeatMisses: 2, backoff: { baseMs: 10, maxMs: 10 } }));
    await until(() => p.connections() >= 3, 3000, 'reconnects after silence');
    expect(r.disconnects[0]).toMatchObject({ code: null, reason: 'timeout', reconnect: true });
  });

  it('counts any data as liveness: a server that only sends data is never declared gone', async () => {
    await using p = await peer((ws) => {
      ws.send(welcome());
      const t = setInterval(() => ws.send(JSON.stringify({ type: 'pong', ts: Date.now() })), 60);
      ws.on('close', () => clearInterval(t));
    });
    using r = record(connect({ url: p.url, device: 'b', token: 'x', WebSocket, heartbeatMisses: 1 }));
    await r.conn.whenOpen();
    await sleep(800);
    expect(p.connections()).toBe(1);
    expect(r.disconnects).toEqual([]);
  });

  it('delivers a notification that arrives twice once (dedupe by id)', async () => {
    const n = (id: string, title: string) =>
      JSON.stringify({ type: 'notification', id, cursor: `c-${id}`, clientId: 'a', title, message: 'm', service: 's', ts: 1 });
    await using p = await peer((ws) => {
      ws.send(welcome({ intervalMs: 10_000, timeoutMs: 10_000 }));
      for (const f of [n('1', 'one'), n('2', 'two'), n('1', 'one'), n('3', 'three'), n('2', 'two')]) ws.send(f);
    });
    using r = record(connect({ url: p.url, device: 'b', token: 'x', WebSocket }));
    await untilCount(r, 3);
    await sleep(100);
    expect(titles(r)).toEqual(['one', 'two', 'three']);
    expect(r.conn.cursor).toBe('c-2');
  });

  it('keeps retrying with backoff while nothing listens, and connects once something does', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const port = (free.address() as AddressInfo).port;
    await new Promise((r) => free.close(r));
    using r = record(connect({ url: `http://127.0.0.1:${port}`, device: 'b', token: 'x', WebSocket, backoff: { baseMs: 40, maxMs: 80 } }));
    await until(() => r.disconnects.length >= 3, 3000, 'failed attempts');
    expect(r.disconnects.every((d) => d.reconnect && d.delayMs !== null && d.delayMs < 80)).toBe(true);
    expect(r.conn.state).toBe('reconnecting');
    const wss = new WebSocketServer({ port, host: '127.0.0.1' });
    wss.on('connection', (ws) => ws.send(welcome({ intervalMs: 10_000, timeoutMs: 10_000 })));
    try {
      await r.conn.whenOpen();
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((res) => wss.close(res));
    }
  });

  it('keeps the last cursor in the given storage and resumes from it on the next start', async () => {
    const urls: string[] = [];
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws, req) => {
      urls.push(req.url ?? '');
      ws.send(welcome({ intervalMs: 10_000, timeoutMs: 10_000 }));
      ws.send(JSON.stringify({ type: 'notification', id: 'n1', cursor: 'cursor-after-n1', clientId: 'a', title: 't', message: 'm', service: 's', ts: 1 }));
    });
    const url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const saved = new Map<string, string>();
    const storage = { getItem: (k: string) => saved.get(k) ?? null, setItem: (k: string, v: string) => void saved.set(k, v) };
    // A JWT-shaped token: the storage key names its subject.
    const jwt = `e30.${Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url')}.sig`;
    try {
      const first = record(connect({ url, device: 'b', token: jwt, WebSocket, storage, ackDelayMs: 10 }));
      await untilCount(first, 1);
      await until(() => saved.get('herald:cursor:alice:b') === 'cursor-after-n1', 2000, 'the cursor in storage');
      first.conn.close();
      using second = record(connect({ url, device: 'b', token: jwt, WebSocket, storage }));
      await second.conn.whenOpen();
      expect(new URL(urls[0], url).searchParams.get('cursor')).toBeNull();
      expect(new URL(urls[1], url).searchParams.get('cursor')).toBe('cursor-after-n1');
    } finally {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    }
  });

  it('says what Node 20 lacks instead of failing later', () => {
    const g = globalThis as { WebSocket?: unknown };
    if (g.WebSocket === undefined) expect(() => connect({ url: 'http://127.0.0.1:1', device: 'b', token: 'x' })).toThrow(/pass \{ WebSocket \}/);
    expect(() => connect({ url: 'ftp://x', device: 'b', token: 'x', WebSocket })).toThrow(/url/);
    expect(() => connect({ url: 'http://x', device: '', token: 'x', WebSocket })).toThrow(/device/);
    expect(() => connect({ url: 'http://x', device: 'b', WebSocket })).toThrow(/token/);
  });
});
