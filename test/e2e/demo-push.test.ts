import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald } from '../support/herald.js';
import { type Chromium, ensureSdkBuilt, launchChromium, openDevicePage } from './browser.js';

describe('demo page: Web Push button', () => {
  let browser: Chromium;
  beforeAll(async () => {
    await ensureSdkBuilt();
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('registers the module service worker (it loads the SDK push helper) and reports the outcome', async () => {
    await using h = await startTestHerald();
    // Served by Herald itself: a service worker must be same-origin with its page.
    await using page = await openDevicePage(browser, h.url, h, { clientId: 'alice', device: 'browser', transport: 'ws' });
    await page.page.click('#push');
    await page.page.waitForFunction(
      () => (window as unknown as { heraldDemo: { events: { type: string }[] } }).heraldDemo.events.some((e) => e.type === 'push'),
      null,
      {
        polling: 50,
        timeout: 15_000,
      },
    );
    const push = (await page.events()).find((e) => e.type === 'push') as unknown as { registered: boolean; error?: string };
    const scope = await page.page.evaluate(async () => (await navigator.serviceWorker.getRegistration('./'))?.scope ?? null);
    expect(scope).toBe(`${h.url}/demo/`);
    // Headless Chromium here has no push service to subscribe with: either outcome is reported,
    // never thrown; with a push service the subscription reaches Herald.
    if (push.registered) expect((await h.push.devicesWithPush('alice')).has('browser')).toBe(true);
    else expect(push.error).toBeTruthy();
  });
});
