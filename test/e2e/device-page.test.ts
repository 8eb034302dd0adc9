import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, publishTo, startTestHerald, until } from '../support/herald.js';
import { type Chromium, launchChromium, openDevicePage, sleep, startDemoHost, type Transport } from './browser.js';

/** Short heartbeats (many answered within each test), with room for a loaded machine's page to answer. */
const FAST = { HEARTBEAT_INTERVAL_MS: 100, HEARTBEAT_TIMEOUT_MS: 400, HEARTBEAT_MAX_MISSED: 2 };

let browser: Chromium;
let demo: { url: string; close(): Promise<void> };

beforeAll(async () => {
  [browser, demo] = await Promise.all([launchChromium(), startDemoHost()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

describe.each<Transport>(['ws', 'sse'])('the demo page in Chromium over %s', (transport) => {
  it('receives client, device and broadcast notifications and shows them with its state', async () => {
    await using h = await startTestHerald(FAST);
    await using tab = await openDevicePage(browser, demo.url, h, { clientId: 'alice', device: 'laptop', transport });
    expect(await tab.state()).toBe('open');
    expect((await publishTo(h, 'alice', { title: 'to-client', message: 'for all of alice' })).status).toBe(202);
    expect((await publishTo(h, 'alice', { title: 'to-device', message: 'for this laptop' }, 'laptop')).status).toBe(202);
    expect((await publishTo(h, 'alice', { title: 'elsewhere', message: 'for the phone' }, 'phone')).status).toBe(202);
    expect((await api(h, 'POST', '/api/v1/broadcast', { title: 'to-everyone', message: 'broadcast' })).status).toBe(202);
    expect(await tab.waitForCount(3)).toEqual(['to-client', 'to-device', 'to-everyone']);
    const tags = await tab.page.$$eval('#notifications li', (els) => els.map((e) => e.querySelector('.tag')?.textContent ?? ''));
    expect(tags).toEqual(['', 'this device', 'broadcast']);
    // Several heartbeats later: still the same stream, answered, never taken for a zombie.
    await sleep(500);
    expect(h.node.hub.stats.disconnects.zombie ?? 0, JSON.stringify(await tab.events())).toBe(0);
    expect((await tab.events()).filter((e) => e.type === 'welcome')).toHaveLength(1);
    const device = (await api(h, 'GET', '/api/v1/clients/alice')).body.devices[0];
    expect(device).toMatchObject({ deviceId: 'laptop', transport, state: 'attached' });
    // The ack reached the server: the stored cursor moved.
    await until(async () => (await h.node.store.getDeviceCursor('alice', 'laptop')) !== null, 3000, 'the stored cursor');
  });

  it('two tabs as two devices of one client both receive', async () => {
    await using h = await startTestHerald(FAST);
    await using a = await openDevicePage(browser, demo.url, h, { clientId: 'carol', device: 'tab-a', transport });
    await using b = await openDevicePage(browser, demo.url, h, { clientId: 'carol', device: 'tab-b', transport });
    const client = await publishTo(h, 'carol', { title: 'c1', message: 'both tabs' });
    expect(client.body.delivered).toBe(2);
    await publishTo(h, 'carol', { title: 'd1', message: 'tab b only' }, 'tab-b');
    await api(h, 'POST', '/api/v1/broadcast', { title: 'b1', message: 'everyone' });
    await publishTo(h, 'carol', { title: 'c2', message: 'both tabs' });
    expect(await a.waitForCount(3)).toEqual(['c1', 'b1', 'c2']);
    expect(await b.waitForCount(4)).toEqual(['c1', 'd1', 'b1', 'c2']);
    const body = (await api(h, 'GET', '/api/v1/clients/carol')).body;
    expect(body.online).toBe(true);
    expect(body.devices.map((d: { deviceId: string }) => d.deviceId).sort()).toEqual(['tab-a', 'tab-b']);
  });

  it("a removed device's page stops and says so", async () => {
    await using h = await startTestHerald(FAST);
    await using tab = await openDevicePage(browser, demo.url, h, { clientId: 'dave', device: 'phone', transport });
    expect((await api(h, 'DELETE', '/api/v1/clients/dave/devices/phone')).status).toBe(204);
    await tab.waitForState('closed', 3000);
    const closed = await tab.page.$eval('#closed', (e) => ({
      hidden: (e as HTMLElement).hidden,
      reason: (e as HTMLElement).dataset.reason,
      text: e.textContent,
    }));
    expect(closed).toMatchObject({ hidden: false, reason: 'removed' });
    expect(closed.text).toMatch(/removed/);
    // It does not fight its way back.
    await sleep(800);
    expect(await tab.state()).toBe('closed');
    expect((await tab.events()).filter((e) => e.type === 'welcome')).toHaveLength(1);
    expect((await api(h, 'GET', '/api/v1/clients/dave')).body).toMatchObject({ online: false, devices: [] });
    expect((await publishTo(h, 'dave', { title: 'after', message: 'nobody listens' })).body.delivered).toBe(0);
  });
});
