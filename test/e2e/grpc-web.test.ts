import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { type Chromium, launchChromium } from './browser.js';

/**
 * gRPC-Web in a real Chromium (issue 18): a page from another origin uses the generated Connect
 * client (`@connectrpc/connect-web`, bundled by esbuild) against Herald's HTTP port with no proxy
 * in between but a TCP relay the test can cut, receives a notification, and after the network
 * drops comes back with its last cursor and gets what it missed.
 */
let browser: Chromium;
let host: { url: string; close(): Promise<void> };

/** The page (test/e2e/grpc-web/page.ts) and its bundle, served from an origin of their own. */
async function startPageHost(): Promise<{ url: string; close(): Promise<void> }> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./grpc-web/page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
  });
  const js = bundle.outputFiles[0].text;
  const app = Fastify({ logger: false });
  app.get('/', async (_req, reply) =>
    reply.type('text/html').send('<!doctype html><title>gRPC-Web device</title><script type="module" src="/page.js"></script>'),
  );
  app.get('/page.js', async (_req, reply) => reply.type('text/javascript').send(js));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => app.close() };
}

/** A TCP relay to `port` whose open connections can be cut at once: the network dropping. */
async function startRelay(port: number): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    const pair: [Socket, Socket] = [down, up];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cut = () => {
    for (const [down, up] of pairs) {
      down.resetAndDestroy();
      up.destroy();
    }
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut,
    close: async () => {
      cut();
      await new Promise((r) => server.close(r));
    },
  };
}

interface PageState {
  events: { type: string; title?: string; cursor?: string; resumed?: boolean; pending?: number; code?: number }[];
  streams: number;
  errors: string[];
}

beforeAll(async () => {
  [browser, host] = await Promise.all([launchChromium(), startPageHost()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

describe('gRPC-Web in Chromium', () => {
  it('receives a notification, and resumes from its cursor after the network drops', async () => {
    await using h = await startTestHerald({ GRPC_PORT: 'off', HEARTBEAT_INTERVAL_MS: 200, HEARTBEAT_TIMEOUT_MS: 1000 });
    const relay = await startRelay(h.port);
    const page = await browser.context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    try {
      const q = new URLSearchParams({ url: relay.url, token: await token('alice'), client: 'alice', device: 'browser' });
      await page.goto(`${host.url}/?${q}`);
      const state = () => page.evaluate(() => (window as unknown as { herald: PageState }).herald);
      const titles = async () => (await state()).events.filter((e) => e.type === 'notification').map((e) => e.title);
      await until(async () => (await state())?.events.some((e) => e.type === 'welcome'), 10_000, `the welcome (${pageErrors.join('; ')})`);
      expect(h.node.hub.device('alice', 'browser')).toMatchObject({ state: 'attached', transport: 'grpc-web' });

      expect((await publishTo(h, 'alice', { title: 'first', message: 'live' })).body.delivered).toBe(1);
      await until(async () => (await titles()).includes('first'), 5000, 'the first notification');
      // Heartbeats are answered with Ack from the page: the device is never taken for a zombie.
      await until(async () => h.node.hub.stats.heartbeatsAnswered >= 2, 5000, 'answered heartbeats');

      // The network drops: the page's stream fails; what is published meanwhile waits in the store.
      relay.cut();
      await until(() => h.node.hub.device('alice', 'browser')?.state === 'detached', 5000, 'the device detached');
      expect((await publishTo(h, 'alice', { title: 'missed', message: 'while away' })).body.delivered).toBe(0);

      // The page comes back by itself, from its last cursor, and gets exactly what it missed.
      await until(async () => (await titles()).includes('missed'), 10_000, 'the missed notification');
      const s = await state();
      expect(s.streams).toBeGreaterThanOrEqual(2);
      const welcomes = s.events.filter((e) => e.type === 'welcome');
      expect(welcomes.at(-1)).toMatchObject({ resumed: true, pending: 1 });
      expect(await titles()).toEqual(['first', 'missed']);
      expect(pageErrors).toEqual([]);

      // Removed by the backend: the page sees close 4003.
      expect((await api(h, 'DELETE', '/api/v1/clients/alice/devices/browser')).status).toBe(204);
      await until(async () => (await state()).events.some((e) => e.type === 'close' && e.code === 4003), 5000, 'close 4003');
    } finally {
      await page.close();
      await relay.close();
    }
  });
});
