import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, publishTo, startTestHerald } from '../support/herald.js';
import { type Chromium, type DevicePage, launchChromium, openDevicePage, startDemoHost } from './browser.js';

/**
 * The demo page's inbox in Chromium, through the SDK as the browser loads it: two tabs are two
 * devices of one client (one over WebSocket, one over SSE), on another origin than Herald's.
 * What one tab does to an item shows in the other's list and badge.
 */

let browser: Chromium;
let demo: { url: string; close(): Promise<void> };

beforeAll(async () => {
  [browser, demo] = await Promise.all([launchChromium(), startDemoHost()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

/** Waits until the tab's unread badge says `n` (polled on a timer: a background tab runs no animation frames). */
const badge = (tab: DevicePage, n: number) =>
  tab.page.waitForFunction((n) => document.getElementById('unread')?.dataset.count === String(n), n, { polling: 50, timeout: 5000 });

/** The inbox as the tab shows it: title → read/archived flags. */
const shown = (tab: DevicePage) =>
  tab.page.$$eval('#inbox li', (els) =>
    els.map((e) => `${(e as HTMLElement).dataset.title}:${(e as HTMLElement).dataset.read === 'true' ? 'read' : 'unread'}`),
  );

/** Clicks in `tab`, brought to the front first: Playwright's click waits for animation frames, which a background tab does not run. */
async function click(tab: DevicePage, selector: string): Promise<void> {
  await tab.page.bringToFront();
  await tab.page.click(selector, { timeout: 5000 });
}

const item = (title: string, action: string) => `#inbox li[data-title="${title}"] button[data-action="${action}"]`;

describe('the demo page inbox in Chromium', () => {
  it('two tabs of one client stay in sync: read in one, the other badge drops; archive and mark all read too', async () => {
    await using h = await startTestHerald({ HEARTBEAT_INTERVAL_MS: 1000, HEARTBEAT_TIMEOUT_MS: 2000 });
    await publishTo(h, 'erin', { title: 'before', message: 'listed when the page opens' });
    await using a = await openDevicePage(browser, demo.url, h, { clientId: 'erin', device: 'tab-a', transport: 'ws' });
    await using b = await openDevicePage(browser, demo.url, h, { clientId: 'erin', device: 'tab-b', transport: 'sse' });
    // `before` was published before either device registered: pending for the first, in the listing of both.
    await Promise.all([badge(a, 1), badge(b, 1)]);
    for (const t of ['n1', 'n2']) expect((await publishTo(h, 'erin', { title: t, message: 'live' })).status).toBe(202);
    await Promise.all([badge(a, 3), badge(b, 3)]);
    expect(await shown(a)).toEqual(['n2:unread', 'n1:unread', 'before:unread']);

    await click(a, item('n1', 'read'));
    await badge(b, 2);
    await b.page.waitForSelector('#inbox li[data-title="n1"][data-read="true"]', { timeout: 3000 });
    expect(await shown(b)).toEqual(['n2:unread', 'n1:read', 'before:unread']);
    await badge(a, 2);

    await click(b, item('before', 'archive'));
    await a.page.waitForSelector('#inbox li[data-title="before"]', { state: 'detached', timeout: 3000 });
    await badge(a, 1);

    await click(a, '#read-all');
    await Promise.all([badge(a, 0), badge(b, 0)]);
    expect(await shown(b)).toEqual(['n2:read', 'n1:read']);
    // What the pages show is what the server holds.
    const server = await api(h, 'GET', '/api/v1/clients/erin/notifications?device=tab-a&filter=all');
    expect(server.body).toMatchObject({ unseen: 0, unread: 0 });
    expect(server.body.items.map((i: { title: string; archivedAt: number | null }) => `${i.title}:${i.archivedAt === null ? '' : 'archived'}`)).toEqual([
      'n2:',
      'n1:',
      'before:archived',
    ]);
    for (const tab of [a, b]) expect((await tab.events()).filter((e) => e.type === 'error')).toEqual([]);
  });
});
