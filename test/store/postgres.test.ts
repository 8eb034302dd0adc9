import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { comparePos } from '../../src/core/cursor.js';
import type { PublishInput, StoredNotification, Target } from '../../src/core/types.js';
import { checkSchemaName } from '../../src/store/postgres/migrate.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres-store.js';
import { startPostgres, type TestPostgres, uniqueSchema } from '../support/postgres.js';

/**
 * What the PostgreSQL store adds to the store contract (test/store/contract.test.ts): migrations
 * under an advisory lock, several nodes on one database, restarts, transactional publishes from
 * SQL, the devices table, and an outage. A real PostgreSQL, a schema per test.
 */
let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.destroy();
});

const T0 = 1_700_000_000_000;
const alice: Target = { kind: 'client', clientId: 'alice' };
const msg = (title: string, extra: Partial<PublishInput> = {}): PublishInput => ({ title, message: `${title} body`, ...extra });

function open(schema: string, extra: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  return PostgresStore.connect({
    url: server.url,
    schema,
    retentionMessages: 1000,
    retentionMs: 86_400_000,
    transactional: 'off',
    maintenanceMs: 0,
    poolSize: 4,
    ...extra,
  });
}

/** The application's own connection, as a backend would hold it. */
async function app(): Promise<pg.Client & AsyncDisposable> {
  const c = new pg.Client({ connectionString: server.url });
  c.on('error', () => {});
  await c.connect();
  return Object.assign(c, { [Symbol.asyncDispose]: () => c.end() });
}

function collect(store: PostgresStore): StoredNotification[] {
  const got: StoredNotification[] = [];
  store.on('external', (n) => got.push(n));
  return got;
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL store: schema and migrations', () => {
  it('two nodes starting together on a fresh schema: one migrates under the advisory lock, both start', async () => {
    const schema = uniqueSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    try {
      await using c = await app();
      const { rows } = await c.query(`SELECT version, name FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
      // Migrating again is a no-op.
      expect(await a.migrate()).toEqual({ applied: [], version: MIGRATIONS.at(-1)?.version });
      await a.append(alice, msg('from a'), T0);
      const r = await b.append(alice, msg('from b'), T0);
      expect(r.notification.prev).toEqual({ ms: T0, seq: 0 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('accepts only plain identifiers as schema names', () => {
    for (const ok of ['herald', 'h_1', '_x']) expect(checkSchemaName(ok)).toBe(ok);
    for (const bad of ['', 'Herald', '1x', 'a-b', 'a"; drop table x; --', 'x'.repeat(49)]) expect(() => checkSchemaName(bad)).toThrow(/DATABASE_SCHEMA/);
  });

  it('cannot start against an unreachable PostgreSQL: connect rejects with the address, not the password', async () => {
    const url = `postgres://herald:secret@127.0.0.1:${server.port + 1}/x`;
    const err = await open(uniqueSchema(), { url }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`127.0.0.1:${server.port + 1}`);
    expect((err as Error).message).not.toContain('secret');
  });
});

describe('PostgreSQL store: several nodes, restarts', () => {
  it('concurrent appends from two nodes to one stream: unique positions, one unbroken prev chain', async () => {
    const schema = uniqueSchema();
    const [a, b] = await Promise.all([open(schema), open(schema)]);
    try {
      const all = await Promise.all(
        Array.from({ length: 400 }, (_, i) => (i % 2 ? a : b).append(alice, msg(`m${i}`), T0 + Math.floor(i / 10)).then((r) => r.notification)),
      );
      const sorted = [...all].sort((x, y) => x.pos.ms - y.pos.ms || x.pos.seq - y.pos.seq);
      expect(new Set(sorted.map((n) => `${n.pos.ms}-${n.pos.seq}`)).size).toBe(400);
      expect(sorted[0].prev).toBeNull();
      for (let i = 1; i < sorted.length; i++) expect(sorted[i].prev).toEqual(sorted[i - 1].pos);
      // Each node's appends resolved in its own position order (the write queue).
      // Both nodes read the same stream.
      const r = await b.replay({ clientId: 'alice', deviceId: 'x', after: { c: null, ce: null, b: null, be: null }, broadcasts: false }, T0 + 100);
      expect(r.items.map((n) => n.id)).toEqual(sorted.map((n) => n.id));
      expect(a.writeStats.batches).toBeLessThan(a.writeStats.items);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('many streams from two nodes, several batches in flight: every stream one chain, each node resolving its appends to a stream in order', async () => {
    const schema = uniqueSchema();
    const [a, b] = await Promise.all([open(schema, { poolSize: 16 }), open(schema, { poolSize: 16 })]);
    try {
      const resolved = new Map<string, StoredNotification[]>();
      const clients = Array.from({ length: 40 }, (_, i) => `c${i}`);
      // Waves of four clients, one per event-loop turn: each wave leaves as its own batch while the
      // waves before it (other clients) are still in flight.
      const all: Promise<void>[] = [];
      for (let w = 0; w < 300; w++) {
        for (let j = 0; j < 4; j++) {
          const node = (w + j) % 3 ? a : b;
          const clientId = clients[(w * 4 + j) % 40];
          all.push(
            node.append({ kind: 'client', clientId }, msg(`m${w}.${j}`), Date.now()).then(({ notification: n }) => {
              const key = `${node === a ? 'a' : 'b'}:${clientId}`;
              resolved.set(key, [...(resolved.get(key) ?? []), n]);
            }),
          );
        }
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(all);
      for (const list of resolved.values()) {
        for (let i = 1; i < list.length; i++) expect(comparePos(list[i].pos, list[i - 1].pos)).toBeGreaterThan(0);
      }
      for (const c of clients) {
        const r = await a.replay({ clientId: c, deviceId: 'x', after: { c: null, ce: null, b: null, be: null }, broadcasts: false }, Date.now());
        expect(r.items).toHaveLength(30);
        expect(r.items[0].prev).toBeNull();
        for (let i = 1; i < r.items.length; i++) expect(r.items[i].prev).toEqual(r.items[i - 1].pos);
      }
      expect(Math.max(a.writeStats.maxInFlight, b.writeStats.maxInFlight)).toBeGreaterThan(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a restarted node sees streams, epochs, cursors and idempotency keys', async () => {
    const schema = uniqueSchema();
    const first = await open(schema);
    const a = await first.append(alice, msg('a', { id: 'k1' }), T0);
    await first.append(alice, msg('b'), T0 + 1);
    await first.saveDeviceCursor('alice', 'phone', { c: a.notification.pos, ce: a.notification.epoch, b: null, be: null });
    await first.close();
    const second = await open(schema);
    try {
      expect((await second.append(alice, msg('a again', { id: 'k1' }), T0 + 2)).duplicate).toBe(true);
      const c = await second.append(alice, msg('c'), T0 + 3);
      expect(c.notification).toMatchObject({ prev: { ms: T0 + 1, seq: 0 }, epoch: a.notification.epoch });
      const cursor = await second.getDeviceCursor('alice', 'phone');
      expect(cursor).toEqual({ c: a.notification.pos, ce: a.notification.epoch, b: null, be: null });
      const r = await second.replay(
        { clientId: 'alice', deviceId: 'phone', after: cursor ?? { c: null, ce: null, b: null, be: null }, broadcasts: true },
        T0 + 4,
      );
      expect(r.items.map((n) => n.title)).toEqual(['b', 'c']);
      expect(r.lost).toBe(false);
    } finally {
      await second.close();
    }
  });

  it('the retention sweep empties idle streams and remembers what it dropped', async () => {
    const s = await open(uniqueSchema(), { retentionMs: 1000 });
    try {
      const a = await s.append(alice, msg('a'), Date.now() - 5000);
      await s.maintain(Date.now());
      const r = await s.replay({ clientId: 'alice', deviceId: 'p', after: { c: null, ce: null, b: null, be: null }, broadcasts: false }, Date.now());
      expect(r).toMatchObject({ items: [], lost: true, head: { c: a.notification.pos } });
      await using c = await app();
      const { rows } = await c.query(`SELECT stored, trimmed_ms FROM "${s.schema}".streams`);
      expect(rows).toEqual([{ stored: 0, trimmed_ms: String(a.notification.pos.ms) }]);
    } finally {
      await s.close();
    }
  });
});

describe('PostgreSQL store: transactional publish', () => {
  it('delivered after commit (well within 1 s), with a position in the client stream; never after a rollback; idempotent by id', async () => {
    const s = await open(uniqueSchema(), { transactional: 'claim', nodeId: 'n1', outboxPollMs: 5000 });
    const got = collect(s);
    try {
      await using c = await app();
      const q = `"${s.schema}"`;
      // Rolled back: never delivered.
      await c.query('BEGIN');
      const rolledBack = (await c.query(`SELECT ${q}.publish('alice', 'nope', 'rolled back') AS id`)).rows[0].id;
      await c.query('ROLLBACK');
      // Committed: delivered after the commit, not before.
      await c.query('BEGIN');
      await c.query(`CREATE TEMP TABLE orders (n int)`);
      const id = (await c.query(`SELECT ${q}.publish('alice', 'Order shipped', 'on its way', '{"order": 42}'::jsonb) AS id`)).rows[0].id;
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      await sleep(300);
      expect(got).toEqual([]);
      const committedAt = Date.now();
      await c.query('COMMIT');
      await until(() => got.length === 1, 1000, 'the committed publish');
      // NOTIFY wakes the claim: far faster than the 5 s poll.
      expect(Date.now() - committedAt).toBeLessThan(1000);
      expect(got[0]).toMatchObject({ id, clientId: 'alice', deviceId: null, title: 'Order shipped', message: 'on its way', data: { order: 42 }, prev: null });
      // It is a normal notification of the stream: replayed, and the next append follows it.
      const next = await s.append(alice, msg('after'), Date.now());
      expect(next.notification.prev).toEqual(got[0].pos);
      const r = await s.replay({ clientId: 'alice', deviceId: 'p', after: { c: null, ce: null, b: null, be: null }, broadcasts: false }, Date.now());
      expect(r.items.map((n) => n.id)).toEqual([id, next.notification.id]);
      expect(r.items.map((n) => n.id)).not.toContain(rolledBack);
      // Idempotent: the same id again (stored already) is the same notification, nothing new.
      expect((await c.query(`SELECT ${q}.publish('alice', 'x', 'y', NULL, $1) AS id`, [id])).rows[0].id).toBe(id);
      // A device-targeted one with its own key, published twice before any claim.
      await c.query('BEGIN');
      await c.query(`SELECT ${q}.publish('alice', 't', 'm', NULL, 'order-7', 'phone')`);
      await c.query(`SELECT ${q}.publish('alice', 't', 'm', NULL, 'order-7', 'phone')`);
      await c.query('COMMIT');
      await until(() => got.length === 2, 1000, 'the device publish');
      expect(got[1]).toMatchObject({ id: 'order-7', deviceId: 'phone' });
      await sleep(200);
      expect(got).toHaveLength(2);
      // Bad input fails the application's statement, like a 400.
      await expect(c.query(`SELECT ${q}.publish('al ice', 't', 'm')`)).rejects.toThrow(/client_id/);
    } finally {
      await s.close();
    }
  });

  it('exactly once across nodes: with a shared broker one node claims each; without, every node delivers to its own', async () => {
    const schema = uniqueSchema();
    const claimers = await Promise.all(['a', 'b', 'c'].map((n) => open(schema, { transactional: 'claim', nodeId: n, outboxPollMs: 200 })));
    const byClaimer = claimers.map(collect);
    try {
      await using c = await app();
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await c.query(`SELECT "${schema}".publish('alice', $1, 'm') AS id`, [`t${i}`])).rows[0].id);
      await until(() => byClaimer.flat().length >= 60, 3000, 'every claim');
      await sleep(300);
      const all = byClaimer.flat();
      expect(all.map((n) => n.id).sort()).toEqual([...ids].sort());
      // In the stream in publish order, each with the one before as prev.
      const ordered = [...all].sort((x, y) => x.pos.ms - y.pos.ms || x.pos.seq - y.pos.seq);
      expect(ordered.map((n) => n.title)).toEqual(ids.map((_, i) => `t${i}`));
    } finally {
      await Promise.all(claimers.map((s) => s.close()));
    }

    const every = await Promise.all(['x', 'y'].map((n) => open(schema, { transactional: 'every-node', nodeId: n, outboxPollMs: 200 })));
    const seen = every.map(collect);
    try {
      await sleep(300); // each reader learned where the external log ends
      await using c = await app();
      for (let i = 0; i < 20; i++) await c.query(`SELECT "${schema}".publish('bob', $1, 'm')`, [`u${i}`]);
      await until(() => seen.every((g) => g.length >= 20), 3000, 'every node to deliver every claim');
      await sleep(300);
      for (const g of seen) expect(g.map((n) => n.title)).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`));
    } finally {
      await Promise.all(every.map((s) => s.close()));
    }
  });
});

describe('PostgreSQL store: devices table', () => {
  const device = (deviceId: string, over: Record<string, unknown> = {}) => ({
    clientId: 'alice',
    deviceId,
    connectionId: `alice:${deviceId}`,
    transport: 'ws',
    state: 'attached' as 'attached' | 'detached',
    node: 'n1',
    connectedAt: T0,
    lastHeartbeatAt: T0 + 10,
    lastNotificationAt: null,
    notificationCount: 0,
    detachedAt: null,
    ...over,
  });

  it('one row per registration, kept current, readable after a restart, purged once gone long enough', async () => {
    const schema = uniqueSchema();
    const s = await open(schema);
    const t = s.deviceTable;
    t.attached(device('phone'));
    t.attached(device('laptop', { transport: 'sse' }));
    t.heartbeats([device('phone', { lastHeartbeatAt: T0 + 800, lastNotificationAt: T0 + 400, notificationCount: 3 })]);
    t.detached(device('laptop', { transport: 'sse', state: 'detached', detachedAt: T0 + 600 }));
    t.attached(device('tablet'));
    t.removed('alice', 'tablet');
    // A late detach from a node the device already left does not overwrite its newer attach.
    t.attached(device('watch', { node: 'n2', connectedAt: T0 + 50, lastHeartbeatAt: T0 + 900 }));
    await t.flush();
    t.detached(device('watch', { node: 'n1', state: 'detached', detachedAt: T0 + 60 }));
    await s.close();

    const again = await open(schema);
    try {
      const view = await again.devices('alice');
      expect(view).toEqual([
        {
          deviceId: 'laptop',
          connectionId: 'alice:laptop',
          transport: 'sse',
          state: 'detached',
          node: 'n1',
          connectedAt: T0,
          lastHeartbeatAt: T0 + 10,
          lastNotificationAt: null,
          notificationCount: 0,
          rttMs: null,
        },
        expect.objectContaining({ deviceId: 'phone', state: 'attached', lastHeartbeatAt: T0 + 800, lastNotificationAt: T0 + 400, notificationCount: 3 }),
        expect.objectContaining({ deviceId: 'watch', state: 'attached', node: 'n2' }),
      ]);
      // Seed 004's cleanup: detached before the cutoff, or attached and not refreshed since (its node died).
      await again.saveDeviceCursor('alice', 'laptop', { c: { ms: T0, seq: 0 }, ce: 'e', b: null, be: null });
      expect(await again.deviceTable.purge(T0 + 700)).toBe(1);
      expect((await again.devices('alice')).map((d) => d.deviceId)).toEqual(['phone', 'watch']);
      expect(await again.getDeviceCursor('alice', 'laptop')).toBeNull();
      expect(again.purgedDevices).toBe(1);
      expect(await again.deviceTable.detachNode('n2', T0 + 700)).toBe(1);
      expect(await again.deviceTable.purge(T0 + 1000)).toBe(2);
    } finally {
      await again.close();
    }
  });
});

describe('PostgreSQL store: an outage', () => {
  it('calls reject while PostgreSQL is down (never a crash) and work again when it is back', async () => {
    const own = await startPostgres();
    try {
      const s = await PostgresStore.connect({
        url: own.url,
        schema: uniqueSchema(),
        retentionMessages: 100,
        retentionMs: 60_000,
        nodeId: 'n1',
        transactional: 'claim',
        outboxPollMs: 100,
        queryTimeoutMs: 2000,
      });
      const got = collect(s);
      try {
        await s.append(alice, msg('before'), Date.now());
        await own.stop();
        await expect(s.append(alice, msg('while down'), Date.now())).rejects.toThrow();
        await expect(
          s.replay({ clientId: 'alice', deviceId: 'p', after: { c: null, ce: null, b: null, be: null }, broadcasts: true }, Date.now()),
        ).rejects.toThrow();
        await own.start();
        await until(() => s.append(alice, msg('after'), Date.now()).then(Boolean, () => false), 10_000, 'appends to work again');
        // The LISTEN connection came back too: a transactional publish is claimed.
        const c = new pg.Client({ connectionString: own.url });
        c.on('error', () => {});
        await c.connect();
        try {
          await c.query(`SELECT "${s.schema}".publish('alice', 'sql', 'm')`);
        } finally {
          await c.end();
        }
        await until(() => got.length === 1, 5000, 'the claim after the outage');
        const r = await s.replay({ clientId: 'alice', deviceId: 'p', after: { c: null, ce: null, b: null, be: null }, broadcasts: false }, Date.now());
        expect(r.items.map((n) => n.title)).toEqual(['before', 'after', 'sql']);
      } finally {
        await s.close();
      }
    } finally {
      await own.destroy();
    }
  });
});
