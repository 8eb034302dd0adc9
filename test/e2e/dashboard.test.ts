import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardFeed } from '../../src/api/dashboard.js';
import type { Herald } from '../../src/server.js';
import { API_KEY, connectDevice, JWT_SECRET, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { startRedis } from '../support/redis.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.js';

/**
 * The operator dashboard in headless Chromium against a real node with real WebSocket devices:
 * sign-in, the live device tree, test notifications, remove (4003), and 5 000 devices held by a
 * child process (so neither process nears its file limit) while frame times are measured.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');

let h: Herald;
let ctx: BrowserContext;
let page: Page;
let userDir: string;
/** Every request the browser made: the key must never appear in a URL. */
const requested: string[] = [];
/** Uncaught errors in the page: none expected. */
const pageErrors: string[] = [];

const row = (client: string, device: string) => `.vrow:not([hidden])[data-client="${client}"][data-device="${device}"]`;

/** Milliseconds until `selector` is attached (or detached), polled every animation frame. */
async function timeUntil(selector: string, state: 'attached' | 'detached', timeout = 3000): Promise<number> {
  const t0 = Date.now();
  await page.waitForSelector(selector, { state, timeout });
  return Date.now() - t0;
}

/** Opens the dashboard of `url` and signs in if it asks (each test can run alone with -t). */
async function openDashboard(url = h.url): Promise<void> {
  if (!page.url().startsWith(`${url}/dashboard`)) await page.goto(`${url}/dashboard/`);
  if (await page.isVisible('#login-form')) {
    await page.fill('#api-key', API_KEY);
    await page.click('#login-form button[type=submit]');
  }
  await page.waitForFunction(() => document.querySelector('#stream')?.getAttribute('data-state') === 'live');
}

async function filterList(q: string, state = ''): Promise<void> {
  await page.fill('#filter', q);
  await page.selectOption('#state-filter', state);
  await page.waitForFunction(
    (q) => (document.querySelector('#list-summary')?.textContent ?? '').length > 0 && (document.querySelector('#filter') as HTMLInputElement).value === q,
    q,
  );
  // The filter is debounced (200 ms) and then fetched.
  await page.waitForTimeout(350);
}

beforeAll(async () => {
  h = await startTestHerald({ HEARTBEAT_INTERVAL_MS: 2000, HEARTBEAT_TIMEOUT_MS: 5000 });
  userDir = mkdtempSync(join(tmpdir(), 'herald-dashboard-chromium-'));
  ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: CHROMIUM_ARGS,
  });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (err) => pageErrors.push(String(err)));
}, 60_000);

afterAll(async () => {
  await ctx?.close();
  if (userDir) rmSync(userDir, { recursive: true, force: true });
  await h?.close();
}, 60_000);

describe('dashboard in Chromium', () => {
  it('asks for the API key once, keeps it for the tab, never puts it in a URL', async () => {
    await page.goto(`${h.url}/dashboard`);
    await page.waitForSelector('#login-form', { state: 'visible' });
    expect(await page.isHidden('#app')).toBe(true);
    await page.fill('#api-key', 'wrong-key');
    await page.click('#login-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#login-error')?.textContent?.includes('refused'));
    await page.fill('#api-key', API_KEY);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app', { state: 'visible' });
    await page.waitForFunction(() => document.querySelector('#stream')?.getAttribute('data-state') === 'live');
    expect(await page.evaluate(() => sessionStorage.getItem('herald.dashboard.apiKey'))).toBe(API_KEY);
    // A reload stays signed in (same tab), and the live feed is back.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#stream')?.getAttribute('data-state') === 'live');
    await page.waitForFunction((id) => document.querySelector('#node-id')?.textContent === id, h.config.NODE_ID);
    expect(await page.isHidden('#login')).toBe(true);
    expect(requested.length).toBeGreaterThan(5);
    for (const url of requested) expect(url).not.toContain(API_KEY);
    expect(requested.some((u) => u.includes('/api/v1/events'))).toBe(true);
  });

  it('lists devices that connect and drops ones that leave, each within a second', async () => {
    await openDashboard();
    await filterList('e2e-list-');
    const t0 = Date.now();
    await using phone = await connectDevice(h, 'e2e-list-alice', 'phone');
    await page.waitForSelector(row('e2e-list-alice', 'phone'), { timeout: 3000 });
    const appeared = Date.now() - t0;
    expect(appeared).toBeLessThan(1000);
    const cells = await page.$eval(row('e2e-list-alice', 'phone'), (el) => [...el.querySelectorAll('[role=cell]')].map((c) => c.textContent));
    expect(cells[0]).toContain('e2e-list-alice');
    expect(cells.slice(1, 5)).toEqual(['phone', 'ws', h.config.NODE_ID, 'attached']);

    // A second device of the same client joins the tree under it.
    await using laptop = await connectDevice(h, 'e2e-list-alice', 'laptop');
    expect(await timeUntil(row('e2e-list-alice', 'laptop'), 'attached')).toBeLessThan(1000);
    await page.waitForFunction(() => document.querySelector('#list-summary')?.textContent?.startsWith('2 devices · 1 client'));

    // Leaving: its stream ends, the registration stays (detached) for DETACHED_TTL_MS.
    let t1 = Date.now();
    laptop.close();
    await page.waitForSelector(`${row('e2e-list-alice', 'laptop')} .state-detached`, { timeout: 3000 });
    const detached = Date.now() - t1;
    expect(detached).toBeLessThan(1000);

    // With the "attached" filter, a device that leaves is gone from the list.
    await filterList('e2e-list-', 'attached');
    await page.waitForSelector(row('e2e-list-alice', 'phone'));
    expect(await page.$(row('e2e-list-alice', 'laptop'))).toBeNull();
    t1 = Date.now();
    phone.close();
    await page.waitForSelector(row('e2e-list-alice', 'phone'), { state: 'detached', timeout: 3000 });
    const gone = Date.now() - t1;
    expect(gone).toBeLessThan(1000);

    // A device that logs out (DELETE /me/devices/<id>) is gone from the full list too.
    await filterList('e2e-list-');
    const t = await token('e2e-list-bob');
    await using tab = await connectDevice(h, 'e2e-list-bob', 'tab', { token: t });
    await page.waitForSelector(row('e2e-list-bob', 'tab'), { timeout: 3000 });
    t1 = Date.now();
    const res = await fetch(`${h.url}/me/devices/tab`, { method: 'DELETE', headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(204);
    await page.waitForSelector(row('e2e-list-bob', 'tab'), { state: 'detached', timeout: 3000 });
    const loggedOut = Date.now() - t1;
    expect(loggedOut).toBeLessThan(1000);
    expect((await tab.closed).code).toBe(4003);
    console.log(`[dashboard] shown after connect ${appeared} ms; detached shown ${detached} ms; gone after leave ${gone} ms; after logout ${loggedOut} ms`);
  });

  it('sends a test notification that reaches a connected device', async () => {
    await openDashboard();
    await using device = await connectDevice(h, 'e2e-send-carol', 'phone');
    await using other = await connectDevice(h, 'e2e-send-carol', 'watch');
    // From the client panel (cluster-wide search), with the operator's own title.
    await page.fill('#client-id', 'e2e-send-carol');
    await page.click('#client-form button[type=submit]');
    await page.waitForSelector('#cv-devices li[data-device="phone"]');
    await page.waitForSelector('#cv-devices li[data-device="watch"]');
    expect(await page.textContent('#cv-online')).toBe('online');
    await page.fill('#send-title', 'Hello from e2e');
    await page.fill('#send-message', 'via the dashboard');
    await page.click('#send-button');
    const n = await device.waitFor((f) => f.type === 'notification' && f.title === 'Hello from e2e');
    expect(n).toMatchObject({ clientId: 'e2e-send-carol', message: 'via the dashboard', service: 'herald-dashboard' });
    await other.waitFor((f) => f.type === 'notification' && f.title === 'Hello from e2e');
    await page.waitForFunction(() => [...document.querySelectorAll('.toast')].some((t) => t.textContent?.includes('delivered to 2 devices')));

    // From a row of the device tree.
    await filterList('e2e-send-carol');
    await page.click(`${row('e2e-send-carol', 'phone')} button[data-action=test]`);
    await device.waitFor((f) => f.type === 'notification' && f.title === 'Test from the Herald dashboard');
    // The list shows the count going up.
    await page.waitForFunction((sel) => Number(document.querySelector(`${sel} .count`)?.textContent) >= 2, row('e2e-send-carol', 'phone'), { timeout: 3000 });
  });

  it('remove closes that device with 4003 and it leaves the list', async () => {
    await openDashboard();
    await using device = await connectDevice(h, 'e2e-rm-dave', 'phone');
    await using keep = await connectDevice(h, 'e2e-rm-dave', 'laptop');
    await filterList('e2e-rm-dave');
    const btn = `${row('e2e-rm-dave', 'phone')} button[data-action=remove]`;
    await page.waitForSelector(btn);
    await page.click(btn);
    // The first click only arms the button.
    expect(await page.textContent(btn)).toBe('Confirm');
    expect(device.ws.readyState).toBe(1);
    const t0 = Date.now();
    await page.click(btn);
    const closed = await device.closed;
    expect(closed.code).toBe(4003);
    await page.waitForSelector(row('e2e-rm-dave', 'phone'), { state: 'detached', timeout: 3000 });
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await page.$(row('e2e-rm-dave', 'laptop'))).not.toBeNull();
    expect(keep.ws.readyState).toBe(1);
    expect((await h.node.clientView('e2e-rm-dave')).devices.map((d) => d.deviceId)).toEqual(['laptop']);

    // And from the client panel.
    await page.fill('#client-id', 'e2e-rm-dave');
    await page.click('#client-form button[type=submit]');
    const panelBtn = '#cv-devices li[data-device="laptop"] button';
    await page.waitForSelector(panelBtn);
    await page.click(panelBtn);
    await page.click(panelBtn);
    expect((await keep.closed).code).toBe(4003);
    await page.waitForSelector('#cv-devices li[data-device="laptop"]', { state: 'detached', timeout: 3000 });
  });

  it("shows a client's inbox items with their state", async () => {
    await openDashboard();
    const c = 'e2e-inbox-erin';
    await using phone = await connectDevice(h, c, 'phone');
    const id = async (body: object, device?: string) => (await publishTo(h, c, body, device)).body.id as string;
    const read = await id({ title: 'read one', message: 'm' });
    const archived = await id({ title: 'archived one', message: 'm' });
    await id({ title: 'for the phone', message: 'm' }, 'phone');
    await id({ title: 'new one', message: 'm' });
    const state = (body: object) =>
      fetch(`${h.url}/api/v1/clients/${c}/notifications/state`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await state({ ids: [read], read: true })).status).toBe(200);
    expect((await state({ ids: [archived], archived: true })).status).toBe(200);
    await phone.waitFor((f) => f.type === 'state' && (f as { archived?: boolean }).archived === true);
    await page.fill('#client-id', c);
    await page.click('#client-form button[type=submit]');
    await page.waitForFunction(() => document.querySelectorAll('#cv-items li').length === 4);
    const items = await page.$$eval('#cv-items li', (els) =>
      els.map((e) => `${e.querySelector('b')?.textContent}|${(e as HTMLElement).dataset.state}|${e.querySelector('.where')?.textContent}`),
    );
    expect(items).toEqual(['new one|unseen|all devices', 'for the phone|unseen|→ phone', 'archived one|archived|all devices', 'read one|read|all devices']);
    expect(await page.textContent('#cv-counts')).toBe('2 unread · 2 unseen');
    // A change shows on the next read (at most 2 s behind the feed, or at once with ↻).
    expect((await state({ all: true, seen: true })).status).toBe(200);
    await page.click('#cv-inbox-refresh');
    await page.waitForFunction(() => document.querySelector('#cv-counts')?.textContent === '2 unread · 0 unseen');
    expect(await page.$$eval('#cv-items li', (els) => els.map((e) => (e as HTMLElement).dataset.state))).toEqual(['seen', 'seen', 'archived', 'read']);
  });
});

/** Holds `clients × perClient` WebSocket devices in a child process; answers pings; churns on request. */
const CHILD = `
import WebSocket from 'ws';
import { SignJWT } from 'jose';
const opts = JSON.parse(process.argv[1]);
const key = new TextEncoder().encode(opts.secret);
const devices = new Map();
let welcomed = 0;
function open(client, device, tok) {
  const ws = new WebSocket(opts.url + '/ws?device=' + device + '&token=' + tok);
  const d = { ws, client, device, tok };
  devices.set(client + ':' + device, d);
  ws.on('error', () => {});
  ws.on('message', (raw) => {
    const f = JSON.parse(raw.toString());
    if (f.type === 'welcome') welcomed++;
    else if (f.type === 'ping') ws.send('{"type":"pong"}');
  });
  return new Promise((r) => { ws.once('open', r); ws.once('close', r); });
}
const tokens = [];
for (let c = 0; c < opts.clients; c++) {
  const client = opts.prefix + String(c).padStart(5, '0');
  tokens.push([client, await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(client).setIssuedAt().setExpirationTime('1h').sign(key)]);
}
const jobs = [];
for (const [client, tok] of tokens) for (let i = 0; i < opts.perClient; i++) jobs.push([client, 'd' + i, tok]);
let next = 0;
await Promise.all(Array.from({ length: 100 }, async () => { while (next < jobs.length) { const j = jobs[next++]; await open(...j); } }));
while (welcomed < jobs.length) await new Promise((r) => setTimeout(r, 20));
process.send({ ready: jobs.length });
let churn = null;
process.on('message', (m) => {
  if (m.churnPerSec !== undefined) {
    clearInterval(churn);
    if (m.churnPerSec > 0) churn = setInterval(() => {
      for (let i = 0; i < m.churnPerSec / 10; i++) {
        const d = [...devices.values()][Math.floor(Math.random() * devices.size)];
        d.ws.close();
        open(d.client, d.device, d.tok);
      }
    }, 100);
  }
  if (m.stop) {
    clearInterval(churn);
    for (const d of devices.values()) d.ws.terminate();
    setTimeout(() => process.exit(0), 50);
  }
});
`;

async function startDeviceHolder(opts: {
  url: string;
  clients: number;
  perClient: number;
  prefix: string;
}): Promise<{ child: ChildProcess; ready: Promise<number> }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, JSON.stringify({ ...opts, secret: JWT_SECRET })], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = new Promise<number>((resolve, reject) => {
    child.on('message', (m: any) => m.ready && resolve(m.ready));
    child.once('exit', (code) => reject(new Error(`device holder exited with ${code}`)));
  });
  return { child, ready };
}

function percentiles(xs: number[]): { p50: number; p99: number; max: number; frames: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: round(at(0.5)), p99: round(at(0.99)), max: round(s[s.length - 1]), frames: s.length };
}
const round = (x: number) => Math.round(x * 10) / 10;

describe('dashboard with 5 000 devices', () => {
  it('renders, updates and scrolls without freezing; saves a screenshot', async () => {
    const total = 5000;
    const holder = await startDeviceHolder({ url: h.url, clients: total / 5, perClient: 5, prefix: 'load-' });
    let publishing: NodeJS.Timeout | undefined;
    try {
      expect(await holder.ready).toBe(total);
      await openDashboard();
      await until(() => h.node.hub.connectionCount >= total, 10_000, `${total} connections`);
      await filterList('');
      await page.waitForFunction((n) => Number(document.querySelector('#c-connections')?.textContent?.replace(/,/g, '')) >= n, total, { timeout: 5000 });
      await page.waitForFunction((n) => Number(document.querySelector('#list-summary')?.textContent?.split(' ')[0].replace(/,/g, '')) >= n, total, {
        timeout: 5000,
      });

      // Live load while measuring: ~50 publishes/s and 20 reconnects/s (registry version moves).
      let i = 0;
      publishing = setInterval(() => {
        void publishTo(h, `load-${String(i++ % (total / 5)).padStart(5, '0')}`, { title: 'load', message: 'm' });
      }, 20);
      holder.child.send({ churnPerSec: 20 });

      // The page's own main-thread time (script, layout, style) next to the frame times: on a
      // busy machine frames can be late for want of a CPU, not because of the page.
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Performance.enable');
      const m0 = (await cdp.send('Performance.getMetrics')).metrics;
      // Frame times while updates arrive (no input): requestAnimationFrame deltas for 5 s.
      const idle = await page.evaluate(async (ms) => {
        const long: number[] = [];
        new PerformanceObserver((l) => {
          for (const e of l.getEntries()) long.push(Math.round(e.duration));
        }).observe({ type: 'longtask' });
        (window as any).__long = long;
        const before = (window as any).heraldDashboard.updates;
        const fetchesBefore = (window as any).heraldDashboard.pageFetches;
        const deltas: number[] = [];
        let last = performance.now();
        const end = last + ms;
        await new Promise<void>((resolve) => {
          const frame = (t: number) => {
            deltas.push(t - last);
            last = t;
            if (t < end) requestAnimationFrame(frame);
            else resolve();
          };
          requestAnimationFrame(frame);
        });
        return { deltas, updates: (window as any).heraldDashboard.updates - before, fetches: (window as any).heraldDashboard.pageFetches - fetchesBefore };
      }, 5000);

      // Frame times while scrolling through the list (90 px a frame, for 3 s and at least 12 000 px:
      // on a loaded machine 3 s can be fewer than the 134 frames that distance takes) as updates arrive.
      const scrolling = await page.evaluate(async (ms) => {
        const list = document.getElementById('vlist') as HTMLElement;
        const deltas: number[] = [];
        let last = performance.now();
        const end = last + ms;
        // Written, never read back in the loop: a read would force a layout the page itself avoids.
        let y = list.scrollTop;
        const far = y + 12_000;
        await new Promise<void>((resolve) => {
          const frame = (t: number) => {
            deltas.push(t - last);
            last = t;
            y += 90;
            list.scrollTop = y;
            if (t < end || y < far) requestAnimationFrame(frame);
            else resolve();
          };
          requestAnimationFrame(frame);
        });
        return { deltas, rowsInDom: list.querySelectorAll('.vrow').length, scrollTop: list.scrollTop, long: (window as any).__long };
      }, 3000);

      const m1 = (await cdp.send('Performance.getMetrics')).metrics;
      await cdp.detach();
      const spent = (name: string) => Math.round(((m1.find((m) => m.name === name)?.value ?? 0) - (m0.find((m) => m.name === name)?.value ?? 0)) * 1000);
      clearInterval(publishing);
      publishing = undefined;
      holder.child.send({ churnPerSec: 0 });
      const idleStats = percentiles(idle.deltas.slice(1));
      const scrollStats = percentiles(scrolling.deltas.slice(1));
      console.log(
        `[dashboard] ${total} devices: idle with live updates p50 ${idleStats.p50} ms, p99 ${idleStats.p99} ms, max ${idleStats.max} ms over ${idleStats.frames} frames ` +
          `(${idle.updates} updates, ${idle.fetches} page fetches); scrolling p50 ${scrollStats.p50} ms, p99 ${scrollStats.p99} ms, max ${scrollStats.max} ms ` +
          `over ${scrollStats.frames} frames; ${scrolling.rowsInDom} row elements in the DOM; long tasks (>50 ms) ${JSON.stringify(scrolling.long)}; ` +
          `page main thread over the 8 s: script ${spent('ScriptDuration')} ms, layout ${spent('LayoutDuration')} ms, style ${spent('RecalcStyleDuration')} ms, ` +
          `all tasks ${spent('TaskDuration')} ms; load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs`,
      );
      expect(idle.updates).toBeGreaterThanOrEqual(4);
      expect(idle.fetches).toBeGreaterThanOrEqual(4);
      // No freeze: frame times are measured and reported above (p99 16.8 ms idle and scrolling on a
      // quiet machine, 33-120 ms with the two CPUs shared by the rest of the suite). The bounds
      // only catch a page that re-renders all 5 000 rows per update (frames of seconds).
      expect(idleStats.p50).toBeLessThan(50);
      expect(idleStats.max).toBeLessThan(1000);
      expect(scrollStats.p50).toBeLessThan(50);
      expect(scrollStats.max).toBeLessThan(1000);
      // The page's own work is a small share of the 8 s measured.
      expect(spent('ScriptDuration') + spent('LayoutDuration') + spent('RecalcStyleDuration')).toBeLessThan(2000);
      // Virtualised: only the visible rows exist.
      expect(scrolling.rowsInDom).toBeLessThan(60);
      expect(scrolling.scrollTop).toBeGreaterThan(10_000);
      // After scrolling stops, the rows on screen are filled in (not placeholders).
      await page.waitForFunction(() => {
        const rows = [...document.querySelectorAll('.vrow:not([hidden])')];
        return rows.length > 10 && rows.every((r) => !r.classList.contains('loading') && r.getAttribute('data-client')?.startsWith('load-'));
      });
      // Back to the top for the screenshot: a readable tree with its clients.
      await page.evaluate(() => {
        (document.getElementById('vlist') as HTMLElement).scrollTop = 0;
      });
      await page.waitForFunction(() => [...document.querySelectorAll('.vrow:not([hidden])')].every((r) => !r.classList.contains('loading')));
      await page.fill('#client-id', 'load-00007');
      await page.click('#client-form button[type=submit]');
      await page.waitForSelector('#cv-devices li[data-device="d4"]');
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'dashboard.png');
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      if (publishing) clearInterval(publishing);
      if (holder.child.exitCode === null) {
        const exited = once(holder.child, 'exit');
        if (holder.child.connected) holder.child.send({ stop: true });
        const hard = setTimeout(() => holder.child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(hard);
      }
    }
    await until(() => h.node.hub.connectionCount < 100, 10_000, 'the load devices to leave');
  }, 90_000);

  it('the live feed stops when the page goes away', async () => {
    await openDashboard();
    const feed = dashboardFeed(h.app);
    expect(feed?.viewerCount).toBe(1);
    expect(feed?.running).toBe(true);
    await page.goto('about:blank');
    await until(() => feed?.viewerCount === 0, 3000, 'the viewer to leave');
    expect(feed?.running).toBe(false);
    expect(pageErrors).toEqual([]);
  });
});

describe('dashboard on a Redis cluster', () => {
  it('lists the nodes with their connections', async () => {
    await using redis = await startRedis();
    const cfg = { REDIS_URL: redis.url, NODE_HEARTBEAT_MS: 200, NODE_DEAD_AFTER_MS: 1000 };
    await using a = await startTestHerald({ ...cfg, NODE_ID: 'e2e-node-a' });
    await using b = await startTestHerald({ ...cfg, NODE_ID: 'e2e-node-b' });
    await using d1 = await connectDevice(b, 'e2e-cl-erin', 'phone');
    await using d2 = await connectDevice(b, 'e2e-cl-erin', 'laptop');
    await using d3 = await connectDevice(a, 'e2e-cl-frank', 'tv');
    // Another node is another origin: the key is asked for again (sessionStorage is per origin).
    await openDashboard(a.url);
    await page.waitForFunction(() => document.querySelectorAll('#nodes tr').length === 2, undefined, { timeout: 5000 });
    await page.waitForFunction(() => document.querySelector('#nodes tr[data-node="e2e-node-b"] td.num')?.textContent === '2', undefined, { timeout: 5000 });
    expect(await page.textContent('#nodes tr[data-node="e2e-node-a"] td.num')).toBe('1');
    expect(await page.getAttribute('#nodes tr[data-node="e2e-node-a"]', 'class')).toBe('self');
    expect(await page.textContent('#broker')).toContain('redis');
    // "Find a client" is cluster-wide: devices on the other node are listed with it.
    await page.fill('#client-id', 'e2e-cl-erin');
    await page.click('#client-form button[type=submit]');
    await page.waitForSelector('#cv-devices li[data-device="laptop"]');
    expect(await page.textContent('#cv-devices li[data-device="laptop"] .where')).toContain('e2e-node-b');
    await page.goto('about:blank');
    expect([d1, d2, d3].every((d) => d.ws.readyState === 1)).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
