import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { api, connectDevice, startTestHerald, token, until } from '../support/herald.js';

const fast = { HEARTBEAT_INTERVAL_MS: 50, HEARTBEAT_TIMEOUT_MS: 40, HEARTBEAT_MAX_MISSED: 2 };

describe('application heartbeats', () => {
  it('closes a device that stops answering pings with 4004 within interval × misses + timeout (+ a tick)', async () => {
    await using h = await startTestHerald(fast);
    await using d = await connectDevice(h, 'alice', 'phone');
    d.autoPong = false;
    const t0 = Date.now();
    expect(await d.closed).toEqual({ code: 4004, reason: 'zombie' });
    const elapsed = Date.now() - t0;
    const bound = fast.HEARTBEAT_INTERVAL_MS * fast.HEARTBEAT_MAX_MISSED + fast.HEARTBEAT_TIMEOUT_MS + h.node.hub.wheel.tickMs;
    // Scheduling slack for a loaded 2-core machine; the bound itself is what the contract states.
    expect(elapsed).toBeLessThanOrEqual(bound + 60);
    expect(d.frames.filter((f) => f.type === 'ping').length).toBe(fast.HEARTBEAT_MAX_MISSED);
    const hb = (await api(h, 'GET', '/health/heartbeats')).body;
    expect(hb).toMatchObject({ zombies: 1, missed: 2 });
    expect(h.node.hub.stats.disconnects.zombie).toBe(1);
  });

  it('never closes a device that answers', async () => {
    await using h = await startTestHerald(fast);
    await using d = await connectDevice(h, 'alice', 'phone');
    await until(() => d.frames.filter((f) => f.type === 'ping').length >= 12, 5000, '12 pings');
    expect(d.ws.readyState).toBe(WebSocket.OPEN);
    const hb = (await api(h, 'GET', '/health/heartbeats')).body;
    expect(hb.zombies).toBe(0);
    expect(hb.answered).toBeGreaterThanOrEqual(11);
    expect(h.node.hub.device('alice', 'phone')?.rttMs).not.toBeNull();
  });

  it('any inbound frame counts as liveness (acks and pings, not only pongs)', async () => {
    await using h = await startTestHerald(fast);
    await using d = await connectDevice(h, 'alice', 'phone');
    d.autoPong = false;
    const timer = setInterval(() => d.send({ type: 'ping' }), 20);
    await until(() => d.frames.filter((f) => f.type === 'ping').length >= 8, 5000, '8 server pings');
    clearInterval(timer);
    expect(d.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('detects a device whose socket is paused (kernel buffers full, nothing read)', async () => {
    await using h = await startTestHerald(fast);
    await using d = await connectDevice(h, 'alice', 'phone');
    (d.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    // Keep the server writing so its buffers fill too.
    for (let i = 0; i < 20; i++) await api(h, 'POST', '/api/v1/clients/alice/notifications', { title: 'x', message: 'y'.repeat(8000) });
    await until(() => h.node.hub.connectionCount === 0, 3000, 'the paused device to be closed');
    const reasons = h.node.hub.stats.disconnects;
    expect((reasons.zombie ?? 0) + (reasons['slow-consumer'] ?? 0)).toBe(1);
    expect(h.node.hub.device('alice', 'phone')?.state).toBe('detached');
  });

  it('closes a device idle past IDLE_TIMEOUT_MS with 4010 (pongs do not count as activity)', async () => {
    await using h = await startTestHerald({ ...fast, HEARTBEAT_INTERVAL_MS: 20, IDLE_TIMEOUT_MS: 150 });
    await using d = await connectDevice(h, 'alice', 'phone');
    expect(await d.closed).toEqual({ code: 4010, reason: 'idle' });
    expect(d.frames.filter((f) => f.type === 'ping').length).toBeGreaterThan(2);
  });

  it('tells a device its token expired, then closes it 1008 after the grace', async () => {
    await using h = await startTestHerald({ JWT_CLOCK_SKEW_MS: 0, TOKEN_GRACE_MS: 100 });
    await using d = await connectDevice(h, 'alice', 'phone', { token: await token('alice', 1) });
    const warned = await d.waitFor((f) => f.type === 'token-expired', 3000);
    expect(warned.graceMs).toBe(100);
    const t0 = Date.now();
    expect(await d.closed).toEqual({ code: 1008, reason: 'unauthorized' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
  });
});

describe('one scheduler for all connections', () => {
  it('5 000 idle connections cost one timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    await using h = await startTestHerald({ HEARTBEAT_INTERVAL_MS: 1000, HEARTBEAT_TIMEOUT_MS: 800 });
    const before = timers();
    const sockets: WebSocket[] = [];
    try {
      for (let batch = 0; batch < 50; batch++) {
        const opened = await Promise.all(
          Array.from({ length: 100 }, async (_, i) => {
            const t = await token(`c${batch * 100 + i}`);
            const ws = new WebSocket(`${h.url.replace('http', 'ws')}/ws?device=phone&token=${t}`);
            ws.on('error', () => {});
            ws.on('message', (m) => {
              if (m.toString().includes('"type":"ping"')) ws.send('{"type":"pong"}');
            });
            sockets.push(ws);
            return new Promise((r) => ws.once('message', r));
          }),
        );
        expect(opened).toHaveLength(100);
      }
      expect(h.node.hub.connectionCount).toBe(5000);
      // Let a full interval of pings and pongs pass.
      await until(() => h.node.hub.stats.heartbeatsAnswered >= 4000, 10_000, 'pongs');
      expect(timers() - before).toBeLessThanOrEqual(1);
      expect(h.node.hub.wheel.size).toBe(5000);
    } finally {
      for (const s of sockets) s.terminate();
    }
    await until(() => h.node.hub.connectionCount === 0, 10_000, 'all closed');
    expect(h.node.hub.wheel.size).toBe(0);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
