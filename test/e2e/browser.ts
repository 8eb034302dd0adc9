import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import { registerDemoRoutes } from '../../src/api/demo.js';
import type { Herald } from '../../src/server.js';
import { token } from '../support/herald.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Debian's Chromium, with exactly these switches (plus a fresh profile and a DevTools port). */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts Chromium ourselves and attaches Playwright over CDP with `noDefaults`. Not
 * `chromium.launch()`: Playwright then enables focus emulation on every page, which keeps the page
 * "visible", and Chromium never freezes a visible page — `Page.setWebLifecycleState {frozen}`
 * would answer `{}` and change nothing (the page's timers and sockets keep running).
 */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'herald-chromium-'));
  const child = spawn(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(profile, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    const endpoint = await devtoolsEndpoint(child);
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true, isLocal: true, timeout: 20_000 });
    const context = browser.contexts()[0];
    return {
      browser,
      context,
      async close() {
        await browser.close().catch(() => {});
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function devtoolsEndpoint(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${err}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`chromium exited (${code}):\n${err}`)));
    child.stderr?.on('data', (d: Buffer) => {
      // Keep reading after the endpoint shows: a full pipe would block Chromium.
      if (err.length > 100_000) return;
      err += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
}

/**
 * A second origin serving the demo page (the page a Herald node serves with `--demo`): the page
 * then reaches Herald cross-origin, as an application's page would, CORS preflights included.
 */
export async function startDemoHost(): Promise<{ url: string; close(): Promise<void> }> {
  await ensureSdkBuilt();
  const app = Fastify({ logger: false });
  registerDemoRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, close: () => app.close() };
}

/** The SDK and the wire protocol it imports: each source with its compiled file. */
const SDK_SOURCES = () =>
  ['client', 'protocol'].flatMap((dir) =>
    readdirSync(join(ROOT, 'src', dir))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => [join(ROOT, 'src', dir, f), join(ROOT, 'dist', dir, f.replace(/\.ts$/, '.js'))]),
  );

function sdkStale(): boolean {
  return SDK_SOURCES().some(([src, out]) => !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs);
}

const execFileP = promisify(execFile);
let building: Promise<void> | null = null;

/**
 * The page loads the SDK from dist/ (what `npm test` builds first). When dist/client is missing or
 * older than src/client — a test run without the build — compile just the SDK (and the wire
 * protocol it imports) into dist, under a lock shared by parallel test files.
 */
export function ensureSdkBuilt(): Promise<void> {
  building ??= (async () => {
    if (!sdkStale()) return;
    const lock = join(tmpdir(), `herald-sdk-build-${createHash('sha1').update(ROOT).digest('hex').slice(0, 8)}.lock`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`SDK build lock ${lock} held too long`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    try {
      if (!sdkStale()) return;
      const tsc = join(ROOT, 'node_modules/.bin/tsc');
      const opts = ['--ignoreConfig', '--outDir', 'dist', '--rootDir', 'src', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
      const more = ['--lib', 'es2023,dom,dom.iterable,esnext.disposable', '--strict', '--skipLibCheck', '--declaration', '--sourceMap', '--types', 'node'];
      await execFileP(tsc, [...opts, ...more, 'src/client/index.ts'], { cwd: ROOT });
    } finally {
      rmdirSync(lock);
    }
  })();
  return building;
}

export type Transport = 'ws' | 'sse';

/** One demo page: one device. */
export class DevicePage {
  readonly page: Page;
  readonly context: BrowserContext;
  #cdp: CDPSession | null = null;

  constructor(context: BrowserContext, page: Page) {
    this.context = context;
    this.page = page;
  }

  async cdp(): Promise<CDPSession> {
    this.#cdp ??= await this.context.newCDPSession(this.page);
    return this.#cdp;
  }

  /** Titles of the notifications the page shows, in order (read from the DOM). */
  titles(): Promise<string[]> {
    return this.page.$$eval('#notifications li', (els) => els.map((e) => (e as HTMLElement).dataset.title ?? ''));
  }

  /** The state the page shows. */
  state(): Promise<string | undefined> {
    return this.page.$eval('#state', (e) => (e as HTMLElement).dataset.state);
  }

  events(): Promise<{ type: string; at: number; [k: string]: unknown }[]> {
    return this.page.evaluate(() => (window as unknown as { heraldDemo: { events: { type: string; at: number }[] } }).heraldDemo.events);
  }

  /**
   * Waits for `n` notifications on the page. Polls on a timer, not on animation frames: a page
   * that was frozen stays hidden, and hidden pages run no animation frames.
   */
  async waitForCount(n: number, timeout = 10_000): Promise<string[]> {
    await this.page.waitForFunction((count) => document.querySelectorAll('#notifications li').length >= count, n, { polling: 50, timeout });
    return this.titles();
  }

  async waitForState(state: string, timeout = 10_000): Promise<void> {
    await this.page.waitForFunction((s) => document.getElementById('state')?.dataset.state === s, state, { polling: 50, timeout });
  }

  async close(): Promise<void> {
    await this.#cdp?.detach().catch(() => {});
    await this.page.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Opens the demo page as device `device` of `clientId` and waits until it shows `open`. */
export async function openDevicePage(
  browser: Chromium,
  demoUrl: string,
  h: Herald | string,
  p: { clientId: string; device: string; transport: Transport; token?: string },
): Promise<DevicePage> {
  const page = await browser.context.newPage();
  const q = new URLSearchParams({
    url: typeof h === 'string' ? h : h.url,
    token: p.token ?? (await token(p.clientId)),
    device: p.device,
    transport: p.transport,
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const d = new DevicePage(browser.context, page);
  try {
    await page.goto(`${demoUrl}/demo/?${q}`);
    await d.waitForState('open');
  } catch (err) {
    await d.close();
    throw new Error(`the demo page did not open: ${String(err)}\npage errors: ${errors.join('\n')}`);
  }
  return d;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
