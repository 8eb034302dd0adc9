import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardFeed } from '../../src/api/dashboard.js';
import type { DashboardUpdate } from '../../src/api/dashboard-feed.js';
import type { Herald } from '../../src/server.js';
import { API_KEY, api, connectDevice, publishTo, startTestHerald, token, until } from '../support/herald.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/** The dashboard's data API and its live feed, over real HTTP (the page itself: test/e2e/dashboard.test.ts). */

interface SseEvent {
  event: string;
  data: any;
  at: number;
}

/** Reads `GET /api/v1/events` with fetch() as the page does; `close()` aborts the request. */
async function openFeed(h: Pick<Herald, 'url'>, key: string | null = API_KEY) {
  const ctl = new AbortController();
  const res = await fetch(`${h.url}/api/v1/events`, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: ctl.signal });
  const events: SseEvent[] = [];
  let done: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    done = (async () => {
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += value;
          for (let i = buf.indexOf('\n\n'); i !== -1; i = buf.indexOf('\n\n')) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
          }
        }
      } catch {}
    })();
  }
  const of = (name: string) => events.filter((e) => e.event === name);
  return {
    res,
    events,
    of,
    /** The first `name` event matching `pred` received after event number `since` (default: from now). */
    async next(name: string, pred: (d: any) => boolean = () => true, timeoutMs = 4000, since = events.length): Promise<any> {
      const match = () => events.slice(since).find((e) => e.event === name && pred(e.data));
      await until(() => match() !== undefined, timeoutMs, `a ${name} event`);
      return match()?.data;
    },
    async close() {
      ctl.abort();
      await done;
    },
  };
}

describe('dashboard data API', () => {
  let h: Herald;
  beforeAll(async () => {
    h = await startTestHerald();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the page loads without a key; every data route needs it', async () => {
    const page = await fetch(`${h.url}/dashboard/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('Herald dashboard');
    for (const file of ['app.js', 'api.js', 'charts.js', 'client-inbox.js', 'device-list.js', 'format.js', 'dashboard.css']) {
      const r = await fetch(`${h.url}/dashboard/${file}`);
      expect(r.status, file).toBe(200);
      await r.arrayBuffer();
    }
    const redirect = await fetch(`${h.url}/dashboard`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('/dashboard/');
    for (const bad of ['..%2Fpackage.json', '.env', 'x.json', '%2E%2E%2Fsrc%2Fapi%2Fapp.ts']) {
      expect((await fetch(`${h.url}/dashboard/${bad}`)).status, bad).toBe(404);
    }
    for (const path of ['/api/v1/devices', '/api/v1/nodes', '/api/v1/events']) {
      expect((await api(h, 'GET', path, undefined, null)).status, path).toBe(401);
      expect((await api(h, 'GET', path, undefined, 'wrong')).status, path).toBe(401);
    }
    expect(dashboardFeed(h.app)?.viewerCount).toBe(0);
  });

  it('pages through the registry sorted by client then device, with search and state filter', async () => {
    const devices = [];
    for (const [c, ds] of [
      ['pg-carol', ['z', 'a']],
      ['pg-alice', ['phone', 'laptop', 'tablet']],
      ['pg-Bob', ['tv']],
    ] as const) {
      for (const d of ds) devices.push(await connectDevice(h, c, d));
    }
    try {
      const all = await api(h, 'GET', '/api/v1/devices?q=pg-&limit=500');
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(6);
      expect(all.body.clients).toBe(3);
      expect(all.body.devices.map((d: any) => d.connectionId)).toEqual([
        'pg-Bob:tv',
        'pg-alice:laptop',
        'pg-alice:phone',
        'pg-alice:tablet',
        'pg-carol:a',
        'pg-carol:z',
      ]);
      expect(all.body.devices.map((d: any) => [d.firstOfClient, d.clientDevices])).toEqual([
        [true, 1],
        [true, 3],
        [false, 3],
        [false, 3],
        [true, 2],
        [false, 2],
      ]);
      const row = all.body.devices[1];
      expect(row).toMatchObject({ clientId: 'pg-alice', deviceId: 'laptop', transport: 'ws', state: 'attached', node: h.config.NODE_ID, notificationCount: 0 });
      expect(row.connectedAt).toBeGreaterThan(Date.now() - 60_000);

      const page = await api(h, 'GET', '/api/v1/devices?q=pg-&offset=2&limit=2');
      expect(page.body.devices.map((d: any) => d.connectionId)).toEqual(['pg-alice:phone', 'pg-alice:tablet']);
      expect(page.body).toMatchObject({ total: 6, offset: 2, limit: 2 });

      const search = await api(h, 'GET', '/api/v1/devices?q=PG-ALICE');
      expect(search.body.total).toBe(3);
      expect((await api(h, 'GET', '/api/v1/devices?q=tablet')).body.devices.map((d: any) => d.connectionId)).toEqual(['pg-alice:tablet']);

      const version = page.body.version;
      devices[0].close(); // pg-carol:z leaves: detached, still registered
      await devices[0].closed;
      await until(async () => (await api(h, 'GET', '/api/v1/devices?q=pg-carol&state=detached')).body.total === 1, 2000, 'detached');
      const attached = await api(h, 'GET', '/api/v1/devices?q=pg-&state=attached&limit=500');
      expect(attached.body.total).toBe(5);
      expect(attached.body.version).toBeGreaterThan(version);

      // A detached registration removed by the backend moves no session counter; the version still changes.
      const before = (await api(h, 'GET', '/api/v1/devices?q=pg-')).body.version;
      expect((await api(h, 'DELETE', '/api/v1/clients/pg-carol/devices/z')).status).toBe(204);
      const after = await api(h, 'GET', '/api/v1/devices?q=pg-');
      expect(after.body.total).toBe(5);
      expect(after.body.version).toBeGreaterThan(before);
    } finally {
      for (const d of devices) await d[Symbol.asyncDispose]();
    }
  });

  it('400 naming the field for a bad page request', async () => {
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['offset=-1', 'offset'],
      ['state=gone', 'state'],
    ]) {
      const r = await api(h, 'GET', `/api/v1/devices?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.body.field, query).toBe(field);
    }
  });

  it('lists this node as the only node with the local broker', async () => {
    await using d = await connectDevice(h, 'nodes-alice', 'phone');
    const r = await api(h, 'GET', '/api/v1/nodes');
    expect(r.status).toBe(200);
    expect(r.body.broker).toBe('local');
    expect(r.body.nodes).toEqual([{ id: h.config.NODE_ID, connections: h.node.hub.connectionCount, self: true, lastSeenAt: expect.any(Number) }]);
    expect(d.ws.readyState).toBe(1);
  });

  it('streams totals and rates at most once a second, and announces registry changes between updates', async () => {
    const feed = await openFeed(h);
    try {
      expect(feed.res.status).toBe(200);
      expect(feed.res.headers.get('content-type')).toContain('text/event-stream');
      await feed.next('update');
      expect(feed.of('history')).toHaveLength(1);
      const first = feed.of('update')[0].data as DashboardUpdate;
      expect(first).toMatchObject({ node: h.config.NODE_ID, broker: 'local', state: 'running' });
      expect(first.nodes).toHaveLength(1);
      for (const k of ['connections', 'rates', 'totals', 'sendQueue', 'rtt'] as const) expect(first[k]).toBeTypeOf('object');

      // Publishes and deliveries per second come from counter deltas between updates.
      await using dev = await connectDevice(h, 'feed-alice', 'phone');
      const change = await feed.next('devices', (d) => d.version > first.version, 1500).catch(() => null);
      const sawChange = change ?? feed.of('update').find((e) => e.data.version > first.version);
      expect(sawChange).toBeTruthy();
      const mark = feed.events.length;
      for (let i = 0; i < 10; i++) expect((await publishTo(h, 'feed-alice', { title: `t${i}`, message: 'm' })).status).toBe(202);
      await dev.waitForNotifications(10);
      // The first update counting all ten covers the last publish, so its rate is not zero.
      const published0 = first.totals.published;
      const busy = (await feed.next('update', (u) => u.totals.published >= published0 + 10, 3000, mark)) as DashboardUpdate;
      expect(busy.rates.publishes).toBeGreaterThan(0);
      await feed.next('update', (u) => u.rates.deliveries > 0, 3000, mark);
      expect(busy.connections.total).toBeGreaterThanOrEqual(1);

      // A device event reaches the stream well within a second.
      const t0 = Date.now();
      const v0 = feed.events.at(-1)?.data.version ?? 0;
      await using dev2 = await connectDevice(h, 'feed-alice', 'laptop');
      await until(() => feed.events.some((e) => e.at >= t0 && (e.data.version ?? 0) > v0), 1000, 'the connect to be announced');
      expect(dev2.ws.readyState).toBe(1);

      await feed.next('update');
      await feed.next('update');
      const updates = feed.of('update').map((e) => e.data.ts as number);
      for (let i = 1; i < updates.length; i++) expect(updates[i] - updates[i - 1]).toBeGreaterThanOrEqual(990);
    } finally {
      await feed.close();
    }
  });

  it('one shared interval for every viewer, stopped when the last one leaves', async () => {
    const feed = dashboardFeed(h.app);
    if (!feed) throw new Error('no dashboard feed');
    await until(() => feed.viewerCount === 0, 2000, 'earlier viewers to leave');
    expect(feed.running).toBe(false);
    const viewers = await Promise.all([openFeed(h), openFeed(h), openFeed(h)]);
    await Promise.all(viewers.map((v) => v.next('update')));
    expect(feed.viewerCount).toBe(3);
    expect(feed.running).toBe(true);
    // Every viewer got the same update (one computation, written to all).
    await Promise.all(viewers.map((v) => v.next('update')));
    const lastTs = viewers.map((v) => v.of('update').at(-1)?.data.ts);
    expect(new Set(lastTs).size).toBeLessThanOrEqual(2);
    await viewers[0].close();
    await until(() => feed.viewerCount === 2, 2000, 'one viewer to leave');
    expect(feed.running).toBe(true);
    await Promise.all(viewers.slice(1).map((v) => v.close()));
    await until(() => feed.viewerCount === 0, 2000, 'every viewer to leave');
    expect(feed.running).toBe(false);
  });

  it('counts connects, disconnects and publishes from events, listening only while someone watches', async () => {
    const feed = dashboardFeed(h.app);
    if (!feed) throw new Error('no dashboard feed');
    await until(() => feed.viewerCount === 0, 2000, 'earlier viewers to leave');
    const hub = h.node.hub;
    const idle = { attached: hub.listenerCount('attached'), detached: hub.listenerCount('detached'), published: h.node.listenerCount('published') };
    const viewer = await openFeed(h);
    try {
      await viewer.next('update');
      expect(hub.listenerCount('attached')).toBe(idle.attached + 1);
      expect(hub.listenerCount('detached')).toBe(idle.detached + 1);
      expect(h.node.listenerCount('published')).toBe(idle.published + 1);
      const mark = viewer.events.length;
      await using d = await connectDevice(h, 'events-alice', 'phone');
      expect((await publishTo(h, 'events-alice', { title: 't', message: 'm' })).status).toBe(202);
      await d.waitForNotifications(1);
      d.close();
      await d.closed;
      const seen = { connects: false, disconnects: false, publishes: false };
      await viewer.next(
        'update',
        (u: DashboardUpdate) => {
          seen.connects ||= u.rates.connects > 0;
          seen.disconnects ||= u.rates.disconnects > 0;
          seen.publishes ||= u.rates.publishes > 0;
          return seen.connects && seen.disconnects && seen.publishes;
        },
        4000,
        mark,
      );
      // The registry changes were announced between updates too.
      expect(viewer.events.slice(mark).some((e) => e.event === 'devices')).toBe(true);
    } finally {
      await viewer.close();
    }
    await until(() => feed.viewerCount === 0, 2000, 'the viewer to leave');
    expect({ attached: hub.listenerCount('attached'), detached: hub.listenerCount('detached'), published: h.node.listenerCount('published') }).toEqual(idle);
  });

  it('a device that logs itself out leaves the list', async () => {
    const t = await token('logout-alice');
    await using d = await connectDevice(h, 'logout-alice', 'phone', { token: t });
    expect((await api(h, 'GET', '/api/v1/devices?q=logout-alice')).body.total).toBe(1);
    const res = await fetch(`${h.url}/me/devices/phone`, { method: 'DELETE', headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(204);
    expect((await d.closed).code).toBe(4003);
    expect((await api(h, 'GET', '/api/v1/devices?q=logout-alice')).body.total).toBe(0);
  });
});

describe('dashboard across a Redis cluster', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('lists every live node with its connection count, in /api/v1/nodes and in the feed', async () => {
    const cfg = { REDIS_URL: redis.url, NODE_HEARTBEAT_MS: 200, NODE_DEAD_AFTER_MS: 1000 };
    await using a = await startTestHerald({ ...cfg, NODE_ID: 'dash-a' });
    await using b = await startTestHerald({ ...cfg, NODE_ID: 'dash-b' });
    await using d1 = await connectDevice(a, 'cl-alice', 'phone');
    await using d2 = await connectDevice(b, 'cl-alice', 'laptop');
    await using d3 = await connectDevice(b, 'cl-bob', 'tv');
    const want = [
      { id: 'dash-a', connections: 1, self: true },
      { id: 'dash-b', connections: 2, self: false },
    ];
    await until(
      async () => {
        const r = await api(a, 'GET', '/api/v1/nodes');
        return JSON.stringify(r.body.nodes.map((n: any) => ({ id: n.id, connections: n.connections, self: n.self }))) === JSON.stringify(want);
      },
      3000,
      'both nodes with their counts',
    );
    const r = await api(a, 'GET', '/api/v1/nodes');
    expect(r.body).toMatchObject({ broker: 'redis', self: 'dash-a' });
    const feed = await openFeed(a);
    try {
      const u = (await feed.next('update')) as DashboardUpdate;
      expect(u.broker).toBe('redis');
      expect(u.nodes.map((n) => [n.id, n.connections])).toEqual([
        ['dash-a', 1],
        ['dash-b', 2],
      ]);
      // The client view the dashboard's search uses is cluster-wide.
      const view = await api(a, 'GET', '/api/v1/clients/cl-alice');
      expect(view.body.devices.map((d: any) => [d.deviceId, d.node]).sort()).toEqual([
        ['laptop', 'dash-b'],
        ['phone', 'dash-a'],
      ]);
      // A node that leaves is gone from the list.
      await b.close();
      await until(async () => (await api(a, 'GET', '/api/v1/nodes')).body.nodes.length === 1, 3000, 'dash-b to leave the list');
    } finally {
      await feed.close();
    }
    expect([d1, d2, d3].length).toBe(3);
  });
});
