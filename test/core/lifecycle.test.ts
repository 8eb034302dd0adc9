import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { webhookSignature } from '../../src/api/webhooks.js';
import type { PresenceEvent } from '../../src/core/presence.js';
import { api, connectDevice, publishTo, startTestHerald, TestDevice, token, until, wsUrl } from '../support/herald.js';

const resources = (kind: string) => process.getActiveResourcesInfo().filter((r) => r === kind).length;

describe('slow consumers', () => {
  it('a device that stops reading is closed 4009 while a fast one receives everything', async () => {
    await using h = await startTestHerald({ SEND_QUEUE_BYTES: 512 * 1024, SEND_QUEUE_MESSAGES: 100 });
    await using slow = await connectDevice(h, 'alice', 'slow');
    await using fast = await connectDevice(h, 'alice', 'fast');
    const socket = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    // More than loopback's kernel buffers hold (several MB), so the server's own queue must fill.
    const payload = 'x'.repeat(8000);
    const total = 2000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          const i = next++;
          const r = await publishTo(h, 'alice', { title: `n${i}`, message: payload });
          expect(r.status).toBe(202);
        }
      }),
    );
    await until(() => h.node.hub.stats.disconnects['slow-consumer'] === 1, 10_000, 'the slow consumer to be closed');
    const got = await fast.waitForNotifications(total, 20_000);
    expect(new Set(got.map((n) => n.title)).size).toBe(total);
    socket.resume();
    expect(await slow.closed).toEqual({ code: 4009, reason: 'slow-consumer' });
    expect(fast.ws.readyState).toBe(WebSocket.OPEN);
  });
});

describe('presence', () => {
  it('does not flap across a reconnect within the grace period, and goes offline after it', async () => {
    await using h = await startTestHerald({ PRESENCE_GRACE_MS: 300 });
    const events: PresenceEvent[] = [];
    h.node.hub.presence.on('event', (e) => events.push(e));
    const first = await connectDevice(h, 'alice', 'phone');
    first.close();
    await first.closed;
    await using second = await connectDevice(h, 'alice', 'phone');
    await new Promise((r) => setTimeout(r, 400));
    expect(events.filter((e) => e.type.startsWith('client.')).map((e) => e.type)).toEqual(['client.online']);
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body.online).toBe(true);
    second.close();
    await second.closed;
    await until(() => events.some((e) => e.type === 'client.offline'), 2000, 'offline');
    const offline = events.find((e) => e.type === 'client.offline') as PresenceEvent;
    const lastDisconnect = events.filter((e) => e.type === 'device.disconnected').at(-1) as PresenceEvent;
    expect(offline.ts - lastDisconnect.ts).toBeGreaterThanOrEqual(290);
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body.online).toBe(false);
    const epochs = events.map((e) => e.epoch);
    expect([...epochs].sort((a, b) => a - b)).toEqual(epochs);
  });
});

interface Received {
  body: Record<string, unknown>;
  signatureOk: boolean;
}

async function webhookReceiver(secret: string, failFirst: number): Promise<{ server: Server; url: string; received: Received[]; attempts: () => number }> {
  const received: Received[] = [];
  let attempts = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    attempts++;
    if (attempts <= failFirst) {
      res.writeHead(503).end();
      return;
    }
    received.push({ body: JSON.parse(raw), signatureOk: req.headers['herald-signature'] === webhookSignature(secret, raw) });
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/hook`, received, attempts: () => attempts };
}

describe('webhooks', () => {
  it('delivers every transition once, signed, in epoch order, and retries while the receiver is down', async () => {
    const secret = 'hook-secret';
    const rx = await webhookReceiver(secret, 5);
    try {
      await using h = await startTestHerald({ WEBHOOK_URL: rx.url, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_MS: 20, PRESENCE_GRACE_MS: 50 });
      const phone = await connectDevice(h, 'alice', 'phone');
      const laptop = await connectDevice(h, 'alice', 'laptop');
      phone.close();
      await phone.closed;
      await until(() => h.node.hub.connectionCount === 1, 2000, 'phone detached');
      laptop.close();
      await laptop.closed;
      await until(() => rx.received.some((r) => r.body.type === 'client.offline'), 10_000, 'the offline webhook');
      expect(rx.attempts()).toBeGreaterThan(5);
      const types = rx.received.map((r) => `${r.body.type}${r.body.deviceId ? `:${r.body.deviceId}` : ''}`);
      expect(types).toEqual([
        'client.online',
        'device.connected:phone',
        'device.connected:laptop',
        'device.disconnected:phone',
        'device.disconnected:laptop',
        'client.offline',
      ]);
      for (const r of rx.received) {
        expect(r.signatureOk).toBe(true);
        expect(r.body).toMatchObject({ clientId: 'alice', id: expect.any(String), ts: expect.any(Number), epoch: expect.any(Number) });
      }
      const epochs = rx.received.map((r) => r.body.epoch as number);
      for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]);
      expect(rx.received.find((r) => r.body.type === 'device.disconnected')?.body.reason).toBe('normal');
      expect(new Set(rx.received.map((r) => r.body.id)).size).toBe(rx.received.length);
    } finally {
      rx.server.close();
    }
  });
});

describe('stale sweep and leaks', () => {
  it('removes detached registrations after DETACHED_TTL_MS and counts them', async () => {
    await using h = await startTestHerald({ STALE_SWEEP_MS: 30, DETACHED_TTL_MS: 100 });
    const d = await connectDevice(h, 'alice', 'phone');
    d.close();
    await d.closed;
    await until(() => h.node.hub.connectionCount === 0, 2000, 'detach');
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body.devices[0].state).toBe('detached');
    await until(async () => (await api(h, 'GET', '/health/stale')).body.cleaned === 1, 2000, 'the sweep');
    expect((await api(h, 'GET', '/api/v1/clients/alice')).body.devices).toEqual([]);
  });

  it('after 2 000 connect/disconnect cycles the registry is empty and no timers or sockets are left', async () => {
    await using h = await startTestHerald({ STALE_SWEEP_MS: 50, DETACHED_TTL_MS: 100, HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 50 });
    const baseTimers = resources('Timeout');
    const baseSockets = resources('TCPSocketWrap');
    const t = await token('churn');
    for (let batch = 0; batch < 40; batch++) {
      const devices = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const d = new TestDevice(new WebSocket(wsUrl(h, { device: `d${(batch * 50 + i) % 5}`, token: t })));
          await Promise.race([d.waitFor((f) => f.type === 'welcome'), d.closed]);
          return d;
        }),
      );
      // Half leave politely, half vanish (socket destroyed): both paths must clean up.
      for (const [i, d] of devices.entries()) {
        if (i % 2) d.ws.close();
        else d.ws.terminate();
      }
      await Promise.all(devices.map((d) => d.closed));
    }
    expect(h.node.hub.stats.connects.ws).toBe(2000);
    await until(() => h.node.hub.connectionCount === 0 && h.node.hub.clientCount === 0, 5000, 'an empty registry');
    expect([...h.node.hub.devices()]).toEqual([]);
    expect(h.node.hub.wheel.size).toBe(0);
    await until(() => resources('TCPSocketWrap') <= baseSockets, 5000, 'sockets back to baseline');
    await until(() => resources('Timeout') <= baseTimers, 5000, 'timers back to baseline');
    // Every exit went through the one cleanup path exactly once.
    const disconnects = Object.values(h.node.hub.stats.disconnects).reduce((a, b) => a + b, 0);
    expect(disconnects).toBe(2000);
  });
});

describe('publishes reach a device only once it is registered', () => {
  it('a device notification for a device that is not connected is stored, delivered 0', async () => {
    await using h = await startTestHerald();
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' }, 'tablet');
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ delivered: 0, stored: true });
  });
});
