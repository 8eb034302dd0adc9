import type { CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceEvent } from '../../src/core/presence.js';
import type { Herald } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { publishAfterRestart, range } from '../client/helpers.js';
import { publishTo, startTestHerald, until } from '../support/herald.js';
import { type Chromium, type DevicePage, launchChromium, openDevicePage, startDemoHost, type Transport } from './browser.js';

/**
 * The server's zombie bound: a device that stops answering is closed within
 * interval × misses + timeout (300 ms here) of its last answer.
 */
const HB = { HEARTBEAT_INTERVAL_MS: 100, HEARTBEAT_TIMEOUT_MS: 100, HEARTBEAT_MAX_MISSED: 2 };
const ZOMBIE_BOUND_MS = HB.HEARTBEAT_INTERVAL_MS * HB.HEARTBEAT_MAX_MISSED + HB.HEARTBEAT_TIMEOUT_MS;
/**
 * The server's scheduling granularity: its timer wheel ticks every 12 ms here, and on a loaded
 * machine (this suite shares two CPUs with a browser and other test files) its event loop lags.
 */
const LAG_MS = 250;
/** Measured from the test's side: plus the CDP call that cuts the page off. */
const SLACK_MS = 500;

let browser: Chromium;
let demo: { url: string; close(): Promise<void> };

beforeAll(async () => {
  [browser, demo] = await Promise.all([launchChromium(), startDemoHost()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

const zombies = (h: Herald) => h.node.hub.stats.disconnects.zombie ?? 0;

/**
 * Cuts the page off with `cut`, publishes `total` notifications while it is away — half before the
 * server has judged it a zombie (they go into a socket nobody reads), half after (stored only).
 * Returns how long the server took: from the cut, and from the device's last answer to the close.
 */
async function publishWhileAway(h: Herald, clientId: string, deviceId: string, total: number, cut: () => Promise<void>) {
  let silentFor = Number.NaN;
  const onEvent = (e: PresenceEvent) => {
    if (e.type !== 'device.disconnected' || e.deviceId !== deviceId || e.reason !== 'zombie') return;
    silentFor = e.ts - (h.node.hub.device(clientId, deviceId)?.lastHeartbeatAt ?? Number.NaN);
  };
  h.node.hub.presence.on('event', onEvent);
  const before = zombies(h);
  const cutAt = Date.now();
  await cut();
  let detectedAt = 0;
  const detected = until(() => zombies(h) > before, 5000, 'the server to close the zombie').then(() => {
    detectedAt = Date.now();
  });
  try {
    for (let i = 1; i <= total / 2; i++) expect((await publishTo(h, clientId, { title: `n${i}`, message: 'while away' })).status).toBe(202);
    await detected;
    for (let i = total / 2 + 1; i <= total; i++) expect((await publishTo(h, clientId, { title: `n${i}`, message: 'while away' })).status).toBe(202);
  } finally {
    h.node.hub.presence.off('event', onEvent);
  }
  return { fromCut: detectedAt - cutAt, silentFor };
}

/** The server closed the zombie within its configured bound. */
function expectInBound(d: { fromCut: number; silentFor: number }): void {
  const what = `zombie closed ${d.silentFor} ms after its last answer, ${d.fromCut} ms after the cut`;
  expect(d.silentFor, what).toBeLessThanOrEqual(ZOMBIE_BOUND_MS + LAG_MS);
  expect(d.fromCut, what).toBeLessThanOrEqual(ZOMBIE_BOUND_MS + SLACK_MS);
}

async function expectAllOnce(tab: DevicePage, total: number): Promise<void> {
  const shown = await tab.waitForCount(total);
  // Everything, in publish order, nothing twice — and nothing more arrives later.
  expect(shown).toEqual(range(1, total));
  await new Promise((r) => setTimeout(r, 300));
  expect(await tab.titles()).toEqual(range(1, total));
  await tab.waitForState('open');
}

describe.each<Transport>(['ws', 'sse'])('a suspended mobile tab over %s', (transport) => {
  it('frozen tab: the server closes the zombie in bound, keeps what it missed, and the page shows all 20 once, in order', async () => {
    await using h = await startTestHerald(HB);
    await using tab = await openDevicePage(browser, demo.url, h, { clientId: 'erin', device: 'phone', transport });
    const cdp: CDPSession = await tab.cdp();
    const detection = await publishWhileAway(h, 'erin', 'phone', 20, async () => {
      await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    });
    expectInBound(detection);
    const device = () => h.node.hub.device('erin', 'phone');
    expect(device()?.session ?? null).toBeNull();
    // Frozen means frozen: the page has acknowledged none of it.
    expect((await h.node.store.getDeviceCursor('erin', 'phone'))?.c ?? null).toBeNull();
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    await expectAllOnce(tab, 20);
    const events = await tab.events();
    expect(events.filter((e) => e.type === 'welcome').at(-1)).toMatchObject({ resumed: true });
    expect(events.some((e) => e.type === 'disconnected')).toBe(true);
  });

  it('network drop: offline, 20 published, online — the page shows all 20 once, in order', async () => {
    await using h = await startTestHerald(HB);
    await using tab = await openDevicePage(browser, demo.url, h, { clientId: 'frank', device: 'phone', transport });
    const cdp = await tab.cdp();
    await cdp.send('Network.enable');
    const conditions = { latency: 0, downloadThroughput: -1, uploadThroughput: -1 };
    const detection = await publishWhileAway(h, 'frank', 'phone', 20, async () => {
      await cdp.send('Network.emulateNetworkConditions', { offline: true, ...conditions });
    });
    expectInBound(detection);
    // Long enough offline for the page's own liveness check and a few failed attempts.
    await new Promise((r) => setTimeout(r, 1500));
    const onlineAt = Date.now();
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...conditions });
    await expectAllOnce(tab, 20);
    // The `online` event sent it back at once, not after its backoff.
    const welcome = (await tab.events()).filter((e) => e.type === 'welcome').at(-1);
    expect(welcome?.at).toBeGreaterThanOrEqual(onlineAt);
    expect((welcome?.at ?? 0) - onlineAt).toBeLessThan(1000);
  });

  it('server restart: the node drains, the page reconnects after the hint and misses nothing', async () => {
    const store = new MemoryStore({ retentionMessages: 1000, retentionMs: 3_600_000 });
    const h1 = await startTestHerald({ ...HB, HEARTBEAT_TIMEOUT_MS: 400, DRAIN_TIMEOUT_MS: 600, FLUSH_TIMEOUT_MS: 200 }, { store });
    const port = h1.port;
    let h2: Herald | null = null;
    try {
      await using tab = await openDevicePage(browser, demo.url, h1, { clientId: 'gina', device: 'laptop', transport });
      for (let i = 1; i <= 5; i++) await publishTo(h1, 'gina', { title: `n${i}`, message: 'before' });
      await tab.waitForCount(5);
      const closing = h1.close();
      // Accepted while the node drains (the flush window), delivered or kept.
      for (let i = 6; i <= 8; i++) expect((await publishTo(h1, 'gina', { title: `n${i}`, message: 'during the drain' })).status).toBe(202);
      await closing;
      h2 = await startTestHerald({ ...HB, HEARTBEAT_TIMEOUT_MS: 400, PORT: port }, { store });
      for (let i = 9; i <= 12; i++) await publishAfterRestart(h2, 'gina', { title: `n${i}`, message: 'after' });
      await expectAllOnce(tab, 12);
      const events = await tab.events();
      const shutdown = events.find((e) => e.type === 'shutdown') as { at: number; reconnectAfterMs: number } | undefined;
      expect(shutdown).toBeDefined();
      const lost = events.find((e) => e.type === 'disconnected') as unknown as { at: number; code: number; reason: string; delayMs: number };
      expect(lost).toMatchObject({ code: 1012, reason: 'restart' });
      // The reconnect waited for the hint (counted from the shutdown frame), not less.
      const hintEnds = (shutdown?.at ?? 0) + (shutdown?.reconnectAfterMs ?? 0);
      expect(lost.at + lost.delayMs).toBeGreaterThanOrEqual(hintEnds - 5);
      const welcomes = events.filter((e) => e.type === 'welcome');
      expect(welcomes).toHaveLength(2);
      expect(welcomes[1].at).toBeGreaterThanOrEqual(hintEnds - 5);
    } finally {
      await h1.close();
      await h2?.close();
    }
  });
});
