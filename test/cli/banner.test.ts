import { describe, expect, it } from 'vitest';
import { until } from '../support/herald.js';
import { spawnHerald } from '../support/process.js';

describe('herald serve without configured secrets', () => {
  it('prints a banner with the generated secrets, a device URL, the demo page and the dashboard, each served', async () => {
    // Empty values count as unset: the node generates an API key and a JWT secret (loopback only).
    await using p = await spawnHerald({ HERALD_API_KEY: '', HERALD_JWT_SECRET: '' });
    await until(() => p.output().includes('curl -X POST'), 5000, 'the banner');
    const out = p.output();
    const apiKey = /API key: +(\S+)/.exec(out)?.[1];
    expect(apiKey).toBeTruthy();
    expect(out).toMatch(/JWT secret: +\S+/);
    expect(out).toContain(`${p.url.replace('http', 'ws')}/ws?device=laptop&token=`);

    const demo = /the demo page\): (\S+)/.exec(out)?.[1];
    const dashboard = /dashboard[^:]*: (\S+)/.exec(out)?.[1];
    expect(demo).toMatch(new RegExp(`^${p.url}/demo/\\?token=[\\w.-]+&device=browser$`));
    expect(dashboard).toBe(`${p.url}/dashboard/`);
    // Beside each other: the dashboard line follows the demo page's.
    const lines = out.split('\n');
    expect(lines.findIndex((l) => l.includes('/dashboard/'))).toBe(lines.findIndex((l) => l.includes('/demo/?token=')) + 1);

    for (const url of [demo, dashboard] as string[]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toContain('text/html');
    }
    // The printed key opens the dashboard's API.
    const stats = await fetch(`${p.url}/api/v1/stats`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(stats.status).toBe(200);
  });
});
