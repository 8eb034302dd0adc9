import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDemoRoutes } from '../../src/api/demo.js';
import { ensureSdkBuilt } from './browser.js';

/** The static route behind `herald serve --demo`: the page, and the SDK as the browser loads it. */
describe('demo routes', () => {
  const app = Fastify({ logger: false });
  beforeAll(async () => {
    await ensureSdkBuilt();
    registerDemoRoutes(app);
    await app.ready();
  });
  afterAll(() => app.close());

  it('serve the page, its script and the compiled SDK with the close-code table it imports', async () => {
    const page = await app.inject('/demo/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('src="./demo.js"');
    const script = await app.inject('/demo/demo.js');
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.body).toContain("from './sdk/client/index.js'");
    const sdk = await app.inject('/demo/sdk/client/index.js');
    expect(sdk.statusCode).toBe(200);
    expect(sdk.headers['content-type']).toMatch(/^text\/javascript/);
    const reconnect = await app.inject('/demo/sdk/client/reconnect.js');
    expect(reconnect.body).toContain("from '../protocol/close-codes.js'");
    const table = await app.inject('/demo/sdk/protocol/close-codes.js');
    expect(table.statusCode).toBe(200);
    expect(table.body).toContain('DISCONNECTS');
  });

  it('keep the query string when adding the trailing slash', async () => {
    const res = await app.inject('/demo?device=a&transport=sse');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/demo/?device=a&transport=sse');
  });

  it('serve nothing outside their folders', async () => {
    for (const path of [
      '/demo/..%2Fpackage.json',
      '/demo/sdk/client/..%2F..%2Fpackage.json',
      '/demo/sdk/client/index.ts',
      '/demo/sdk/client/index.js.map',
      '/demo/sdk/core/node.js',
      '/demo/.env',
      '/demo/missing.js',
    ]) {
      expect((await app.inject(path)).statusCode, path).toBe(404);
    }
  });
});
