import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_KEY, type Frame, token, until } from '../support/herald.js';
import { spawnHerald } from '../support/process.js';

interface Device {
  ws: WebSocket;
  frames: Frame[];
  close?: { code: number; at: number };
}

describe('graceful shutdown (SIGTERM)', () => {
  it('with 1 000 devices: readiness 503 first, every device sees shutdown then 1012, flush-window publishes arrive, exit 0 within the drain bound', async () => {
    const drainMs = 2000;
    await using p = await spawnHerald({ HERALD_DRAIN_TIMEOUT_MS: String(drainMs), HERALD_FLUSH_TIMEOUT_MS: '800', HERALD_FORCE_CLOSE_TIMEOUT_MS: '4000' });
    const wsBase = p.url.replace('http', 'ws');
    const devices: Device[] = [];
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const n = batch * 100 + i;
          const ws = new WebSocket(`${wsBase}/ws?device=phone&token=${await token(`c${n}`)}`);
          const d: Device = { ws, frames: [] };
          devices.push(d);
          ws.on('error', () => {});
          ws.on('message', (m) => {
            const f = JSON.parse(m.toString()) as Frame;
            d.frames.push(f);
            if (f.type === 'ping') ws.send('{"type":"pong"}');
          });
          ws.on('close', (code) => (d.close = { code, at: Date.now() }));
          await new Promise((r) => ws.once('message', r));
        }),
      );
    }
    expect((await fetch(`${p.url}/health/ready`)).status).toBe(200);

    const t0 = Date.now();
    p.child.kill('SIGTERM');
    // Readiness flips before any device is closed.
    await until(async () => (await fetch(`${p.url}/health/ready`)).status === 503, 2000, 'readiness 503');
    expect(devices.filter((d) => d.close).length).toBe(0);
    await until(() => devices.every((d) => d.frames.some((f) => f.type === 'shutdown')), 3000, 'every device told');
    // Published inside the flush window: still delivered before the streams close.
    const res = await fetch(`${p.url}/api/v1/broadcast`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'last call', message: 'before the node goes' }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const exit = await p.exited;
    const took = Date.now() - t0;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(took).toBeLessThan(drainMs + 1500);
    await until(() => devices.every((d) => d.close), 3000, 'all closed');
    const hints = new Set<number>();
    for (const d of devices) {
      expect(d.close?.code).toBe(1012);
      const shutdown = d.frames.findIndex((f) => f.type === 'shutdown');
      const last = d.frames.findIndex((f) => f.id === id);
      expect(shutdown).toBeGreaterThanOrEqual(0);
      expect(last).toBeGreaterThan(shutdown);
      const hint = d.frames[shutdown].reconnectAfterMs as number;
      expect(hint).toBeGreaterThanOrEqual(0);
      expect(hint).toBeLessThan(drainMs);
      hints.add(Math.floor(hint / 100));
    }
    // Reconnect hints are spread over the drain window, not one instant.
    expect(hints.size).toBeGreaterThan(10);
    // Closes are paced over the window, not all at once.
    const closeTimes = devices.map((d) => (d.close as { at: number }).at).sort((a, b) => a - b);
    expect(closeTimes[closeTimes.length - 1] - closeTimes[0]).toBeGreaterThan(300);
  });

  it('a second signal exits at once', async () => {
    await using p = await spawnHerald({ HERALD_DRAIN_TIMEOUT_MS: '20000', HERALD_FLUSH_TIMEOUT_MS: '20000' });
    const ws = new WebSocket(`${p.url.replace('http', 'ws')}/ws?device=phone&token=${await token('alice')}`);
    ws.on('error', () => {});
    await new Promise((r) => ws.once('message', r));
    p.child.kill('SIGTERM');
    await until(async () => (await fetch(`${p.url}/health/ready`)).status === 503, 2000, 'draining');
    const t0 = Date.now();
    p.child.kill('SIGINT');
    const exit = await p.exited;
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(exit.code).not.toBe(0);
    ws.terminate();
  });
});

describe('drain from the embedding API', () => {
  it('refuses new handshakes with 503 while draining and keeps accepting publishes in the flush window', async () => {
    const { startTestHerald, connectDevice, refusedHandshake, wsUrl, publishTo } = await import('../support/herald.js');
    await using h = await startTestHerald({ DRAIN_TIMEOUT_MS: 1000, FLUSH_TIMEOUT_MS: 600 });
    await using d = await connectDevice(h, 'alice', 'phone');
    const closing = h.close();
    await d.waitFor((f) => f.type === 'shutdown');
    const refused = await refusedHandshake(wsUrl(h, { device: 'tablet', token: await token('alice') }));
    expect(refused.status).toBe(503);
    expect(refused.body.code).toBe('HERALD_ERR_DRAINING');
    const r = await publishTo(h, 'alice', { title: 'during', message: 'flush' });
    expect(r.status).toBe(202);
    await d.waitFor((f) => f.id === r.body.id);
    expect(await d.closed).toEqual({ code: 1012, reason: 'restart' });
    await closing;
    expect(h.node.state).toBe('closed');
  });
});
