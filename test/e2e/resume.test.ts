import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/core/config.js';
import { type Cursor, comparePos, decodeCursor, type StreamPos } from '../../src/core/cursor.js';
import type { Store } from '../../src/core/types.js';
import type { Herald } from '../../src/server.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { API_KEY, api, connectDevice, type Frame, JWT_SECRET, publishTo, startTestHerald, type TestDevice, until } from '../support/herald.js';
import { startRedis, type TestRedis, uniquePrefix } from '../support/redis.js';

/**
 * Nothing lost (issue 5), over real WebSocket devices, against the memory store and a real
 * redis-server: resume by cursor and by stored cursor while publishing goes on, pending for a new
 * device, idempotent publish, resumed=false past retention, and a SIGKILLed process restarted
 * against the same Redis.
 */
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** A store whose next replay first runs `beforeReplay` (to publish while a device is replaying). */
interface HookedStore {
  store: Store;
  beforeNextReplay(fn: () => Promise<void>): void;
}

function hooked(inner: Store): HookedStore {
  let pending: (() => Promise<void>) | null = null;
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'replay') {
        return async (...args: Parameters<Store['replay']>) => {
          const fn = pending;
          pending = null;
          if (fn) await fn();
          return target.replay(...args);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store, beforeNextReplay: (fn) => (pending = fn) };
}

type StoreKind = 'memory' | 'redis';

async function startWith(kind: StoreKind, cfg: ConfigInput = {}): Promise<{ h: Herald; hook: HookedStore }> {
  const retention = { retentionMessages: Number(cfg.RETENTION_MESSAGES ?? 1000), retentionMs: Number(cfg.RETENTION_MS ?? 86_400_000) };
  const base = kind === 'memory' ? new MemoryStore(retention) : await RedisStore.connect({ url: redis.url, prefix: uniquePrefix(), ...retention });
  const hook = hooked(base);
  return { h: await startTestHerald(cfg, { store: hook.store }), hook };
}

/** Client-stream position of a notification frame (its cursor's `c` half). */
function posOf(f: Frame): StreamPos {
  return (decodeCursor(f.cursor as string) as Cursor).c as StreamPos;
}

function expectIncreasing(frames: Frame[]): void {
  for (let i = 1; i < frames.length; i++) expect(comparePos(posOf(frames[i]), posOf(frames[i - 1]))).toBeGreaterThan(0);
}

async function publishSeq(h: Herald, clientId: string, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await publishTo(h, clientId, { title: `${label}${i}`, message: 'm' });
    expect(r.status).toBe(202);
    ids.push(r.body.id);
  }
  return ids;
}

/**
 * Publishes `n` notifications in `lanes` concurrent sequences and resolves (`started`) once
 * `waitFor` of them were accepted; `done` resolves with every id when all were.
 */
function publishConcurrently(h: Herald, clientId: string, n: number, lanes: number, waitFor: number) {
  const ids: string[] = [];
  let accepted = 0;
  const lane = async (l: number) => {
    for (let i = l; i < n; i += lanes) {
      const r = await publishTo(h, clientId, { title: `live${i}`, message: 'm' });
      if (r.status !== 202) throw new Error(`publish answered ${r.status}`);
      ids.push(r.body.id);
      accepted++;
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, (_, l) => lane(l))).then(() => ids);
  const started = until(() => accepted >= waitFor, 10_000, `${waitFor} publishes accepted`);
  return { started, done };
}

describe.each(['memory', 'redis'] as StoreKind[])('resume and pending (%s store)', (kind) => {
  it('with its cursor: all 100 missed arrive in order, none twice, while 100 more are published during the replay', async () => {
    const { h, hook } = await startWith(kind);
    await using _h = h;
    const first = await connectDevice(h, 'alice', 'phone');
    const [seen] = await publishSeq(h, 'alice', 1, 'before');
    const cursor = (await first.waitFor((f) => f.id === seen)).cursor as string;
    first.close();
    await first.closed;
    const missed = await publishSeq(h, 'alice', 100, 'missed');

    // Half of the concurrent publishes land before the replay is read (they are in it and also
    // arrive live while the device replays), the rest after: the hand-over must drop each duplicate.
    let concurrent: Promise<string[]> | undefined;
    hook.beforeNextReplay(async () => {
      const p = publishConcurrently(h, 'alice', 100, 8, 50);
      concurrent = p.done;
      await p.started;
    });
    await using again = await connectDevice(h, 'alice', 'phone', { cursor });
    expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed: true });
    expect(again.frames[0].pending as number).toBeGreaterThanOrEqual(150);
    const live = await (concurrent as Promise<string[]>);
    const got = await again.waitForNotifications(200, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(again.notifications).toHaveLength(200);
    expect(got.slice(0, 100).map((f) => f.id)).toEqual(missed);
    expect(new Set(got.slice(100).map((f) => f.id))).toEqual(new Set(live));
    expect(got.some((f) => f.id === seen)).toBe(false);
    expectIncreasing(got);
  });

  it('without a cursor, from the stored cursor its acks advanced: everything after the ack, nothing before it', async () => {
    const { h, hook } = await startWith(kind);
    await using _h = h;
    const first = await connectDevice(h, 'alice', 'phone');
    const before = await publishSeq(h, 'alice', 5, 'before');
    const received = await first.waitForNotifications(5);
    const acked = received[2];
    first.send({ type: 'ack', cursor: acked.cursor });
    first.close();
    await first.closed;
    // The hub flushes a closing session's ack at once; wait until it is in the store.
    await until(
      async () => {
        const c = await h.node.store.getDeviceCursor('alice', 'phone');
        return c !== null && c.c !== null && comparePos(c.c, posOf(acked)) === 0;
      },
      5000,
      'the ack in the store',
    );
    expect((await h.node.store.getClientAcked('alice'))?.pos).toEqual(posOf(acked));
    const missed = await publishSeq(h, 'alice', 100, 'missed');

    let concurrent: Promise<string[]> | undefined;
    hook.beforeNextReplay(async () => {
      const p = publishConcurrently(h, 'alice', 100, 8, 50);
      concurrent = p.done;
      await p.started;
    });
    await using again = await connectDevice(h, 'alice', 'phone');
    expect(again.frames[0]).toMatchObject({ type: 'welcome', resumed: true });
    const live = await (concurrent as Promise<string[]>);
    const got = await again.waitForNotifications(202, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(again.notifications).toHaveLength(202);
    // Received but not acknowledged: sent again (at least once); acknowledged: never again.
    expect(got.slice(0, 102).map((f) => f.id)).toEqual([...before.slice(3), ...missed]);
    expect(new Set(got.slice(102).map((f) => f.id))).toEqual(new Set(live));
    expectIncreasing(got);
  });

  it('a new device gets what is pending for its client: client notifications after the newest ack, no broadcasts', async () => {
    const { h } = await startWith(kind);
    await using _h = h;
    await using phone = await connectDevice(h, 'alice', 'phone');
    const ids = await publishSeq(h, 'alice', 3, 'n');
    const got = await phone.waitForNotifications(3);
    phone.send({ type: 'ack', cursor: got[1].cursor });
    await until(
      async () => {
        h.node.hub.flushAcks(); // not the 250 ms batch window: write it as soon as it arrived
        return (await h.node.store.getClientAcked('alice')) !== null;
      },
      5000,
      'the ack in the store',
    );
    const bc = await api(h, 'POST', '/api/v1/broadcast', { title: 'news', message: 'to all' });
    expect(bc.status).toBe(202);
    const forLaptop = await publishTo(h, 'alice', { title: 'laptop only', message: 'm' }, 'laptop');
    const forTablet = await publishTo(h, 'alice', { title: 'tablet only', message: 'm' }, 'tablet');
    const later = await publishSeq(h, 'alice', 2, 'later');
    await publishSeq(h, 'bob', 2, 'bob');

    await using tablet = await connectDevice(h, 'alice', 'tablet');
    expect(tablet.frames[0]).toMatchObject({ type: 'welcome', resumed: false, pending: 4 });
    const pending = await tablet.waitForNotifications(4);
    expect(pending.map((f) => f.id)).toEqual([ids[2], forTablet.body.id, ...later]);
    expect(pending.some((f) => f.id === bc.body.id || f.id === forLaptop.body.id)).toBe(false);
    // Live from here, broadcasts included.
    const next = await api(h, 'POST', '/api/v1/broadcast', { title: 'news 2', message: 'to all' });
    await tablet.waitFor((f) => f.id === next.body.id);
    await new Promise((r) => setTimeout(r, 30));
    expect(tablet.notifications).toHaveLength(5);
  });

  it('idempotent publish through the HTTP API: the same id and cursor, delivered once', async () => {
    const { h } = await startWith(kind);
    await using _h = h;
    await using phone = await connectDevice(h, 'alice', 'phone');
    const a = await publishTo(h, 'alice', { title: 'order', message: 'paid', id: 'order-42' });
    const b = await publishTo(h, 'alice', { title: 'order', message: 'paid', id: 'order-42' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body).toMatchObject({ id: 'order-42', delivered: 1, stored: true });
    expect(b.body).toMatchObject({ id: 'order-42', cursor: a.body.cursor, delivered: 0, stored: true });
    // Keys are per client: bob's order-42 is a notification of its own.
    const other = await publishTo(h, 'bob', { title: 'order', message: 'paid', id: 'order-42' });
    expect(other.status).toBe(202);
    expect((await publishTo(h, 'bob', { title: 'order', message: 'paid', id: 'order-42' })).body.cursor).toBe(other.body.cursor);
    const marker = await publishTo(h, 'alice', { title: 'after', message: 'm' });
    await phone.waitFor((f) => f.id === marker.body.id);
    expect(phone.notifications.map((f) => f.id)).toEqual(['order-42', marker.body.id]);
    await using laptop = await connectDevice(h, 'alice', 'laptop');
    expect((await laptop.waitForNotifications(2)).map((f) => f.id)).toEqual(['order-42', marker.body.id]);
  });

  it('resumed=false when the device missed more than retention holds; resumed=true when it did not', async () => {
    const { h } = await startWith(kind, { RETENTION_MESSAGES: 5 });
    await using _h = h;
    const first = await connectDevice(h, 'alice', 'phone');
    await publishSeq(h, 'alice', 1, 'seen');
    const cursor = (await first.waitForNotifications(1))[0].cursor as string;
    first.close();
    await first.closed;
    const missed = await publishSeq(h, 'alice', 10, 'missed');
    await using late = await connectDevice(h, 'alice', 'phone', { cursor });
    expect(late.frames[0]).toMatchObject({ type: 'welcome', resumed: false, pending: 5 });
    expect((await late.waitForNotifications(5)).map((f) => f.id)).toEqual(missed.slice(5));

    const recentCursor = late.notifications[4].cursor as string;
    late.close();
    await late.closed;
    const more = await publishSeq(h, 'alice', 3, 'more');
    await using back = await connectDevice(h, 'alice', 'phone', { cursor: recentCursor });
    expect(back.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: 3 });
    expect((await back.waitForNotifications(3)).map((f) => f.id)).toEqual(more);
  });
});

describe('Redis store wiring', () => {
  it('a node with REDIS_URL uses the Redis store; a Redis error on publish is a 503, not a crash', async () => {
    const own = await startRedis();
    try {
      await using h = await startTestHerald({ REDIS_URL: own.url });
      expect(h.node.store.kind).toBe('redis');
      await using phone = await connectDevice(h, 'alice', 'phone');
      const ok = await publishTo(h, 'alice', { title: 'a', message: 'm' });
      expect(ok.status).toBe(202);
      await phone.waitFor((f) => f.id === ok.body.id);
      await own.stop();
      const down = await publishTo(h, 'alice', { title: 'b', message: 'm' });
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('HERALD_ERR_STORE_UNAVAILABLE');
      expect((await api(h, 'GET', '/health')).status).toBe(200);
    } finally {
      await own.stop();
    }
  });
});

// ---- a real process, killed ----

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

interface HeraldProcess {
  child: ChildProcess;
  url: string;
  banner: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `node dist/cli.js serve` with HERALD_* settings; resolves with its printed address. */
async function spawnHerald(env: Record<string, string>): Promise<HeraldProcess> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d) => {
    err += d.toString();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herald did not start: ${out}${err}`)), 15_000);
    child.stdout?.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('herald listening '));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`herald exited with ${code}: ${out}${err}`));
    });
  });
  const http = /http=(\S+)/.exec(banner)?.[1];
  return {
    child,
    url: `http://${http}`,
    banner,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TestDevice against a spawned process. */
async function deviceOn(p: HeraldProcess, clientId: string, deviceId: string, cursor?: string): Promise<TestDevice> {
  return connectDevice({ url: p.url } as Herald, clientId, deviceId, cursor ? { cursor } : {});
}

describe('a Herald process killed with SIGKILL and restarted against the same Redis', () => {
  it('loses nothing the publish API accepted: devices resume by cursor and by stored cursor', async () => {
    await using own = await startRedis();
    const env = {
      HERALD_PORT: '0',
      HERALD_GRPC_PORT: 'off',
      HERALD_HOST: '127.0.0.1',
      HERALD_REDIS_URL: own.url,
      HERALD_API_KEY: API_KEY,
      HERALD_JWT_SECRET: JWT_SECRET,
      HERALD_LOG_LEVEL: 'silent',
    };
    // The test's own view of the same keys (default prefix), to see acks land.
    await using store = Object.assign(await RedisStore.connect({ url: own.url, retentionMessages: 1000, retentionMs: 86_400_000 }), {
      [Symbol.asyncDispose]() {
        return store.close();
      },
    });
    const all: string[] = [];

    await using p1 = await spawnHerald({ ...env, HERALD_NODE_ID: 'first' });
    expect(p1.banner).toMatch(/ store=redis$/);
    await using phone = await deviceOn(p1, 'alice', 'phone');
    await using laptop = await deviceOn(p1, 'alice', 'laptop');
    all.push(...(await publishSeq({ url: p1.url } as Herald, 'alice', 10, 'one')));
    const phoneGot = await phone.waitForNotifications(10);
    await laptop.waitForNotifications(10);
    phone.send({ type: 'ack', cursor: phoneGot[5].cursor });
    await until(
      async () => {
        const c = await store.getDeviceCursor('alice', 'phone');
        return c?.c != null && comparePos(c.c, posOf(phoneGot[5])) === 0;
      },
      5000,
      "the phone's ack in Redis",
    );
    // Accepted (202) immediately before the kill: they must survive it.
    all.push(...(await publishSeq({ url: p1.url } as Herald, 'alice', 20, 'two')));
    p1.child.kill('SIGKILL');
    await p1[Symbol.asyncDispose]();
    await Promise.all([phone.closed, laptop.closed]);
    const laptopCursor = laptop.notifications.at(-1)?.cursor as string;
    const laptopBefore = laptop.notifications.map((f) => f.id);

    await using p2 = await spawnHerald({ ...env, HERALD_NODE_ID: 'second' });
    all.push(...(await publishSeq({ url: p2.url } as Herald, 'alice', 10, 'three')));

    await using laptop2 = await deviceOn(p2, 'alice', 'laptop', laptopCursor);
    expect(laptop2.frames[0]).toMatchObject({ type: 'welcome', resumed: true });
    const missedByLaptop = all.length - laptopBefore.length;
    await laptop2.waitForNotifications(missedByLaptop, 10_000);
    expect([...laptopBefore, ...laptop2.notifications.map((f) => f.id)]).toEqual(all);

    // No cursor: the stored cursor from before the kill; everything after the acked one.
    await using phone2 = await deviceOn(p2, 'alice', 'phone');
    expect(phone2.frames[0]).toMatchObject({ type: 'welcome', resumed: true, pending: all.length - 6 });
    expect((await phone2.waitForNotifications(all.length - 6, 10_000)).map((f) => f.id)).toEqual(all.slice(6));

    // And live on the new process.
    const live = await publishTo({ url: p2.url } as Herald, 'alice', { title: 'live', message: 'm' });
    await phone2.waitFor((f) => f.id === live.body.id);
    await laptop2.waitFor((f) => f.id === live.body.id);
  });
});
