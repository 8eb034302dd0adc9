import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { decodeWire, entryFrame } from '../../src/cluster/wire.js';
import type { Publication, PublishInput, Target } from '../../src/core/types.js';
import type { Herald } from '../../src/server.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { API_KEY, connectDevice, startTestHerald, until } from '../support/herald.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/**
 * Issue 17: what a publish costs Redis in a cluster, read off Redis itself (MONITOR shows every
 * command a client sent, and, marked `lua`, every command a script ran).
 */

interface Seen {
  /** Commands sent by clients (a script call is one). */
  sent: string[];
  /** Commands scripts ran inside Redis. */
  inScripts: string[];
}

/** Records what Redis executes until `stop()`: MONITOR on a connection of its own. */
async function monitor(url: string): Promise<{ seen: Seen; stop(): Promise<void> }> {
  const admin = new Redis(url);
  const mon = await admin.monitor();
  const seen: Seen = { sent: [], inScripts: [] };
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    const name = String(args[0]).toLowerCase();
    if (source === 'lua') seen.inScripts.push(name);
    else seen.sent.push(name);
  });
  return {
    seen,
    stop: async () => {
      mon.disconnect();
      admin.disconnect();
    },
  };
}

async function publish(h: Herald, path: string, body: object): Promise<{ delivered: number }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { delivered: number };
}

/** The node's `herald_redis_commands_total` by component. */
async function commandsSent(h: Herald): Promise<Record<string, number>> {
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
  const out: Record<string, number> = {};
  for (const m of (await res.text()).matchAll(/^herald_redis_commands_total\{component="(\w+)"[^}]*\} (\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

const count = (list: string[], name: string) => list.filter((n) => n === name).length;
const scriptCalls = (list: string[]) => count(list, 'eval') + count(list, 'evalsha');

/** Two nodes on one Redis (store and cluster), quiet membership so that a window holds only publishes. */
async function twoNodes(url: string): Promise<[Herald, Herald]> {
  const cfg = { REDIS_URL: url, NODE_HEARTBEAT_MS: 30_000, NODE_DEAD_AFTER_MS: 90_000 };
  return Promise.all([startTestHerald({ ...cfg, NODE_ID: 'cost-a' }), startTestHerald({ ...cfg, NODE_ID: 'cost-b' })]);
}

describe('Redis cost of a publish (issue 17)', () => {
  let redis: TestRedis;
  let clustered: TestRedis;
  beforeAll(async () => {
    [redis, clustered] = await Promise.all([startRedis(), startRedis({ cluster: true })]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), clustered?.stop()]);
  });

  it('a targeted publish is one command sent, routed by channel (no registry read to route), with no per-publish PEXPIRE', async () => {
    const [a, b] = await twoNodes(redis.url);
    try {
      await using phone = await connectDevice(b, 'alice', 'phone');
      const before = await commandsSent(a);
      const m = await monitor(redis.url);
      const N = 50;
      const answers: number[] = [];
      for (let i = 0; i < N; i++) answers.push((await publish(a, '/api/v1/clients/alice/notifications', { title: 't', message: `m${i}` })).delivered);
      const got = await phone.waitForNotifications(N);
      await m.stop();
      const after = await commandsSent(a);
      // Exactness first: every one, once, in publish order, counted as delivered cluster-wide.
      expect(got.map((f) => (f as { message?: string }).message)).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
      expect(answers).toEqual(Array(N).fill(1));
      // One script call per publish from the whole cluster (the receiving node sends nothing).
      // (EVAL the first time on a connection, then EVALSHA.)
      expect(m.seen.sent.length).toBeLessThanOrEqual(N + 3);
      expect(scriptCalls(m.seen.sent)).toBe(N);
      // The script publishes once per publish on the client's channel; the stream TTL is renewed
      // once (first append), not per append.
      expect(count(m.seen.inScripts, 'spublish')).toBe(N);
      expect(count(m.seen.inScripts, 'pexpire')).toBeLessThanOrEqual(2);
      // The node's own count of commands it sent agrees.
      expect((after.store ?? 0) - (before.store ?? 0)).toBeGreaterThanOrEqual(N);
      expect((after.store ?? 0) - (before.store ?? 0)).toBeLessThanOrEqual(N + 3);
      expect((after.broker ?? 0) - (before.broker ?? 0)).toBeLessThanOrEqual(3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a broadcast is one command sent and reaches the other node', async () => {
    const [a, b] = await twoNodes(redis.url);
    try {
      await using phone = await connectDevice(b, 'bob', 'phone');
      const m = await monitor(redis.url);
      await publish(a, '/api/v1/broadcast', { title: 't', message: 'to all' });
      await phone.waitForNotifications(1);
      await m.stop();
      expect(m.seen.sent.filter((n) => n !== 'ping').length).toBe(1);
      expect(scriptCalls(m.seen.sent)).toBe(1);
      expect(count(m.seen.inScripts, 'spublish')).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a device flapping on one node while another publishes: each notification once, in order (subscriptions follow the flaps)', async () => {
    const [a, b] = await twoNodes(redis.url);
    try {
      const N = 200;
      const seen: string[] = [];
      let cursor: string | undefined;
      let published = 0;
      const publishing = (async () => {
        for (; published < N; published++) await publish(a, '/api/v1/clients/frank/notifications', { title: 't', message: `m${published}` });
      })();
      // Connect, take what comes for a moment, drop the connection (no goodbye), resume by cursor.
      for (let round = 0; published < N || seen.length < N; round++) {
        const d = await connectDevice(b, 'frank', 'phone', cursor ? { cursor } : {});
        await new Promise((r) => setTimeout(r, 5 + (round % 4) * 10));
        d.ws.terminate();
        await d.closed;
        for (const f of d.notifications) {
          seen.push(f.message as string);
          cursor = f.cursor as string;
        }
        if (round > 2000) throw new Error(`stuck at ${seen.length} of ${N}`);
      }
      await publishing;
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => `m${i}`));
      // After the flaps the node still follows the client: what is published now arrives live.
      await using last = await connectDevice(b, 'frank', 'phone', { cursor });
      for (let i = 0; i < 10; i++) await publish(a, '/api/v1/clients/frank/notifications', { title: 't', message: `live${i}` });
      const live = await last.waitForNotifications(10);
      expect(live.map((f) => f.message)).toEqual(Array.from({ length: 10 }, (_, i) => `live${i}`));
      const admin = new Redis(redis.url);
      expect(await admin.call('PUBSUB', 'SHARDNUMSUB', 'herald:{frank}:ch')).toEqual(['herald:{frank}:ch', 1]);
      admin.disconnect();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('cluster-mode Redis: sharded pub/sub in the stream slot, subscriptions held only while a device is attached', async () => {
    const [a, b] = await twoNodes(clustered.url);
    const admin = new Redis(clustered.url);
    try {
      const channels = async () => ((await admin.call('PUBSUB', 'SHARDCHANNELS')) as string[]).sort();
      const baseline = await channels();
      expect(baseline).toContain('herald:{!broadcast}:ch');
      const devices = [];
      for (let i = 0; i < 10; i++) devices.push(await connectDevice(b, `carol${i}`, 'phone'));
      expect(await channels()).toEqual([...baseline, ...Array.from({ length: 10 }, (_, i) => `herald:{carol${i}}:ch`)].sort());
      // Client and device targets cross to node b through the client's shard channel.
      expect((await publish(a, '/api/v1/clients/carol3/notifications', { title: 't', message: 'client' })).delivered).toBe(1);
      expect((await publish(a, '/api/v1/clients/carol3/devices/phone/notifications', { title: 't', message: 'device' })).delivered).toBe(1);
      expect((await publish(a, '/api/v1/clients/carol3/devices/tablet/notifications', { title: 't', message: 'nobody' })).delivered).toBe(0);
      const got = await devices[3].waitForNotifications(2);
      expect(got.map((f) => (f as { message?: string }).message)).toEqual(['client', 'device']);
      // Churn: each client's channel goes when its last device leaves.
      for (const d of devices) {
        d.close();
        await d.closed;
      }
      await until(async () => (await channels()).length === baseline.length, 5000, 'subscriptions back to baseline');
      expect(await channels()).toEqual(baseline);
    } finally {
      admin.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe("the Redis store's published entry (issue 17)", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('decodes on the other nodes to exactly the notification the append returned, every optional field included', async () => {
    const store = await RedisStore.connect({ url: redis.url, retentionMessages: 100, retentionMs: 60_000 });
    const sub = new Redis(redis.url);
    const admin = new Redis(redis.url);
    try {
      const keys = new ClusterKeys('herald:');
      const got: unknown[] = [];
      sub.on('smessageBuffer', (_c: Buffer, m: Buffer) => got.push(decodeWire(m)));
      await sub.ssubscribe(keys.channel('dana'), keys.channel(null));
      await admin.hset(keys.reg('dana'), 'phone', '{"n":"n1","s":"s1","st":"a","c":1,"t":"ws"}', 'tv', '{"st":"d","n":"n1","s":"s2","c":1,"t":"sse"}');
      const pub = (clientId: string | null): Publication => ({
        command: 'SPUBLISH',
        channel: keys.channel(clientId),
        registry: clientId === null ? null : keys.reg(clientId),
        ...entryFrame('node-x'),
      });
      const now = Date.now();
      const cases: [Target, PublishInput, number][] = [
        [{ kind: 'client', clientId: 'dana' }, { title: 'plain', message: 'm' }, 1],
        [
          { kind: 'client', clientId: 'dana' },
          { title: 'full "quoted" \u2028', message: 'm', service: 's', data: { a: [1, 'x'] }, priority: 'high', ttlMs: 5000, id: 'id "1"' },
          1,
        ],
        [{ kind: 'client', clientId: 'dana' }, { title: 'first', message: 'm', collapseKey: 'score "k"' }, 1],
        [{ kind: 'client', clientId: 'dana' }, { title: 'second', message: 'm', collapseKey: 'score "k"', excludeDevices: ['phone'] }, 0],
        [{ kind: 'device', clientId: 'dana', deviceId: 'phone' }, { title: 'device', message: 'm' }, 1],
        [{ kind: 'device', clientId: 'dana', deviceId: 'tv' }, { title: 'detached device', message: 'm', ttlMs: 0 }, 0],
        [{ kind: 'broadcast' }, { title: 'all', message: 'm' }, 0],
      ];
      const returned = [];
      for (const [target, input, reached] of cases) {
        const r = await store.append(target, input, now, pub(target.kind === 'broadcast' ? null : target.clientId));
        expect(r.reached, input.title).toBe(reached);
        returned.push({ kind: 'notification', origin: 'node-x', notification: JSON.parse(JSON.stringify(r.notification)) });
      }
      await until(() => got.length === cases.length, 5000, 'every published entry');
      expect(got).toEqual(returned);
      expect((returned[3].notification as { replaces?: string }).replaces).toBe((returned[2].notification as { id: string }).id);
    } finally {
      sub.disconnect();
      admin.disconnect();
      await store.close();
    }
  });
});
