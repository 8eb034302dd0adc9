import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import { type Cursor, decodeCursor } from '../../src/core/cursor.js';
import type { Herald } from '../../src/server.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { api, connectDevice, publishTo, startTestHerald, type TestDevice, until } from '../support/herald.js';
import { startPostgres, type TestPostgres, uniqueSchema } from '../support/postgres.js';
import { spawnHerald } from '../support/process.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * Herald on PostgreSQL (issue 16), end to end with real WebSocket devices, a real PostgreSQL and
 * (for two nodes) a real redis-server: transactional publishes from the application's own SQL
 * transaction, the devices table behind `GET /api/v1/clients/<c>` after a restart, PostgreSQL
 * stopped under publishing, and a SIGKILLed process restarted on the same database.
 */
let server: TestPostgres;
let redis: TestRedis;
beforeAll(async () => {
  [server, redis] = await Promise.all([startPostgres(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([server?.destroy(), redis?.stop()]);
});

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

function start(schema: string, cfg: ConfigInput = {}): Promise<Herald> {
  return startTestHerald({ DATABASE_URL: server.url, DATABASE_SCHEMA: schema, ...cfg });
}

/** The application's own connection. */
async function app(): Promise<pg.Client & AsyncDisposable> {
  const c = new pg.Client({ connectionString: server.url });
  c.on('error', () => {});
  await c.connect();
  return Object.assign(c, { [Symbol.asyncDispose]: () => c.end() });
}

const titles = (d: TestDevice) => d.notifications.map((f) => f.title);

describe('Herald on PostgreSQL', () => {
  it('a transactional publish reaches the device after commit with a cursor it resumes from; never after a rollback', async () => {
    const schema = uniqueSchema();
    await using h = await start(schema, { NODE_ID: 'solo' });
    expect(h.node.store.kind).toBe('postgres');
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using c = await app();
    await c.query('BEGIN');
    await c.query(`SELECT "${schema}".publish('alice', 'rolled back', 'm')`);
    await c.query('ROLLBACK');
    await c.query('BEGIN');
    const id = (await c.query(`SELECT "${schema}".publish('alice', 'Invoice paid', 'thanks', '{"amount": 12}'::jsonb) AS id`)).rows[0].id;
    await c.query('COMMIT');
    const committed = Date.now();
    const got = await phone.waitFor((f) => f.type === 'notification', 1000);
    expect(Date.now() - committed).toBeLessThan(1000);
    expect(got).toMatchObject({ id, title: 'Invoice paid', message: 'thanks', data: { amount: 12 }, clientId: 'alice' });
    // Ordered with HTTP publishes in the same client stream.
    const http = await publishTo(h, 'alice', { title: 'from http', message: 'm' });
    expect(http.status).toBe(202);
    await phone.waitForNotifications(2);
    expect(titles(phone)).toEqual(['Invoice paid', 'from http']);
    const sqlPos = (decodeCursor(got.cursor as string) as Cursor).c;
    const httpPos = (decodeCursor(http.body.cursor) as Cursor).c;
    expect(sqlPos && httpPos && (httpPos.ms > sqlPos.ms || (httpPos.ms === sqlPos.ms && httpPos.seq > sqlPos.seq))).toBe(true);
    // A device that saw only the SQL one resumes from its cursor and gets the rest.
    await using laptop = await connectDevice(h, 'alice', 'laptop', { cursor: got.cursor as string });
    expect(laptop.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 1 });
    expect((await laptop.waitForNotifications(1)).map((f) => f.title)).toEqual(['from http']);
    // Published once, counted once.
    expect((await api(h, 'GET', '/api/v1/stats')).body.notifications.published).toBe(2);
    expect(titles(phone)).not.toContain('rolled back');
  });

  it('two nodes on Redis and PostgreSQL: each transactional publish reaches every device once, in order, whichever node claims it', async () => {
    const schema = uniqueSchema();
    const cfg = { REDIS_URL: redis.url, PRESENCE_GRACE_MS: 0 };
    await using a = await start(schema, { ...cfg, NODE_ID: `a-${schema}` });
    await using b = await start(schema, { ...cfg, NODE_ID: `b-${schema}` });
    await using onA = await connectDevice(a, 'alice', 'phone');
    await using onB = await connectDevice(b, 'alice', 'laptop');
    await using c = await app();
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      expected.push(`t${i}`);
      await c.query(`SELECT "${schema}".publish('alice', $1, 'm')`, [`t${i}`]);
    }
    await onA.waitForNotifications(30, 5000);
    await onB.waitForNotifications(30, 5000);
    await new Promise((r) => setTimeout(r, 300));
    expect(titles(onA)).toEqual(expected);
    expect(titles(onB)).toEqual(expected);
    const published = (await api(a, 'GET', '/api/v1/stats')).body.notifications.published + (await api(b, 'GET', '/api/v1/stats')).body.notifications.published;
    expect(published).toBe(30);
  });

  it('GET /api/v1/clients/<c> answers from the devices table after a restart; /health/stale counts purged registrations', async () => {
    const schema = uniqueSchema();
    {
      await using h = await start(schema, { NODE_ID: 'first', HEARTBEAT_INTERVAL_MS: 1000 });
      await using phone = await connectDevice(h, 'bob', 'phone');
      await publishTo(h, 'bob', { title: 'hi', message: 'm' });
      await phone.waitForNotifications(1);
      await using c = await app();
      await until(
        async () => (await c.query(`SELECT notification_count FROM "${schema}".devices WHERE connection_id = 'bob:phone'`)).rows[0]?.notification_count === '1',
        5000,
        'the heartbeat batch',
      );
    }
    await using h = await start(schema, { NODE_ID: 'second', DEVICE_RETENTION_MS: 1, STALE_SWEEP_MS: 200 });
    const before = await api(h, 'GET', '/api/v1/clients/bob');
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      clientId: 'bob',
      online: false,
      devices: [{ deviceId: 'phone', connectionId: 'bob:phone', transport: 'ws', state: 'detached', node: 'first', notificationCount: 1 }],
    });
    expect(before.body.devices[0].lastNotificationAt).toBeGreaterThan(0);
    // Detached longer than DEVICE_RETENTION_MS: purged at the next sweep, and counted.
    await until(async () => (await api(h, 'GET', '/health/stale', undefined, null)).body.purged === 1, 5000, 'the purge');
    expect((await api(h, 'GET', '/api/v1/clients/bob')).body.devices).toEqual([]);
  });

  it('PostgreSQL stopped for 3 s under publishing: 503s, devices stay connected, nothing answered 202 is lost, delivery resumes', async () => {
    const schema = uniqueSchema();
    await using h = await start(schema, { NODE_ID: 'fault' });
    await using phone = await connectDevice(h, 'carol', 'phone');
    const accepted: string[] = [];
    const refused: number[] = [];
    let stop = false;
    let n = 0;
    const publisher = (async () => {
      while (!stop) {
        const i = n++;
        const r = await publishTo(h, 'carol', { title: `m${i}`, message: 'm', id: `m${i}` });
        if (r.status === 202) accepted.push(`m${i}`);
        else {
          expect(r).toMatchObject({ status: 503, body: { code: 'HERALD_ERR_STORE_UNAVAILABLE' } });
          refused.push(i);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await until(() => accepted.length >= 10, 5000, 'publishes before the outage');
    await server.stop();
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    await server.start();
    await until(() => refused.length > 0 && accepted.length > 0 && n - 1 > (refused.at(-1) ?? n) + 10, 15_000, 'publishes after the outage');
    stop = true;
    await publisher;
    expect(refused.length).toBeGreaterThan(5);
    expect(Date.now() - down).toBeGreaterThan(3000);
    // The device never left, and got every accepted publish live, in order.
    expect(phone.ws.readyState).toBe(phone.ws.OPEN);
    await phone.waitForNotifications(accepted.length, 5000);
    expect(titles(phone)).toEqual(accepted);
    // And they are stored: a new device with no cursor gets them all as pending.
    await using tablet = await connectDevice(h, 'carol', 'tablet');
    expect(tablet.frames[0]).toMatchObject({ type: 'welcome', pending: accepted.length });
  });

  it('herald migrate and a SIGKILLed herald serve: nothing acknowledged is lost, cursors hold', async () => {
    const schema = uniqueSchema();
    const env = { HERALD_DATABASE_URL: server.url, HERALD_DATABASE_SCHEMA: schema, HERALD_LOG_LEVEL: 'silent' };
    const run = promisify(execFile);
    const migrated = await run(process.execPath, [CLI, 'migrate'], { env: { ...process.env, ...env } });
    const versions = MIGRATIONS.map((m) => m.version);
    expect(migrated.stdout).toMatch(new RegExp(`schema ${schema} at version ${versions.at(-1)} \\(applied ${versions.join(', ')}\\)`));

    const p1 = await spawnHerald({ ...env, HERALD_NODE_ID: 'one' });
    expect(p1.output()).toMatch(/herald listening http=\S+ grpc=off node=one store=postgres\n/);
    const ids: string[] = [];
    const publish = async (url: string, label: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const r = await publishTo({ url }, 'dave', { title: `${label}${i}`, message: 'm' });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    };
    {
      await using phone = await connectDevice({ url: p1.url }, 'dave', 'phone');
      await publish(p1.url, 'one', 10);
      const got = await phone.waitForNotifications(10);
      phone.send({ type: 'ack', cursor: got[5].cursor });
      await using c = await app();
      await until(
        async () => (await c.query(`SELECT c_ms FROM "${schema}".device_cursors WHERE client_id = 'dave' AND device_id = 'phone'`)).rowCount === 1,
        5000,
        'the ack in PostgreSQL',
      );
      await publish(p1.url, 'two', 10);
      p1.child.kill('SIGKILL');
      await p1.exited;
    }
    await using p2 = await spawnHerald({ ...env, HERALD_NODE_ID: 'two' });
    // No cursor: the stored one from before the kill, so everything after the acknowledged one.
    await using phone2 = await connectDevice({ url: p2.url }, 'dave', 'phone');
    expect(phone2.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 14 });
    expect((await phone2.waitForNotifications(14)).map((f) => f.id)).toEqual(ids.slice(6));
    // The killed node's registration is in the table (the new node's own view of it replaced it).
    const view = await api({ url: p2.url }, 'GET', '/api/v1/clients/dave');
    expect(view.body.devices).toMatchObject([{ deviceId: 'phone', state: 'attached', node: 'two' }]);
  });
});
