import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/server.js';
import { API_KEY, connectDevice, startTestHerald, type TestDevice, until } from '../support/herald.js';
import { startRedis, startRedisCluster, type TestRedisCluster } from '../support/redis.js';

/**
 * Issue 17: Herald on a Redis Cluster of three shards (REDIS_CLUSTER=true), each shard its own
 * redis-server. Every key and channel of a client is in the client's slot, so a publish is one
 * script on the shard that owns it, and its message goes out on that shard only (sharded pub/sub).
 */

async function publish(h: Herald, path: string, body: object): Promise<{ delivered: number; cursor: string }> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as { delivered: number; cursor: string };
}

describe('REDIS_CLUSTER set wrong: a clear error at start, not a bare MOVED or a silent fallback', () => {
  it('a plain client on a node of a sharded cluster, the flag on a single server, the flag without a URL', async () => {
    await using shards = await startRedisCluster(3);
    await using single = await startRedis();
    await expect(startTestHerald({ REDIS_URL: shards.url, NODE_ID: 'rc-wrong-1' })).rejects.toThrow(/Redis Cluster of 3 shards: set REDIS_CLUSTER=true/);
    await expect(startTestHerald({ REDIS_URL: single.url, REDIS_CLUSTER: 'true', NODE_ID: 'rc-wrong-2' })).rejects.toThrow(
      /REDIS_CLUSTER=true: is REDIS_URL a node of a Redis Cluster/,
    );
    await expect(startTestHerald({ REDIS_CLUSTER: 'true' })).rejects.toThrow(/REDIS_CLUSTER=true needs REDIS_URL/);
  });
});

describe('Herald on a three-shard Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let shards: Redis[];
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    shards = cluster.nodes.map((n) => new Redis(n.url));
  });
  afterAll(async () => {
    for (const s of shards ?? []) s.disconnect();
    await cluster?.stop();
  });

  /** The shard (index) that owns a key's slot. */
  const owner = async (key: string): Promise<number> => {
    const slot = (await shards[0].call('CLUSTER', 'KEYSLOT', key)) as number;
    const ranges = (await shards[0].call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const port = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    return cluster.nodes.findIndex((n) => n.port === port);
  };

  it('delivers across nodes, one script per publish on the owning shard, its message on that shard only; resumes; releases subscriptions', async () => {
    const cfg = { REDIS_URL: cluster.url, REDIS_CLUSTER: 'true', NODE_HEARTBEAT_MS: 200, NODE_DEAD_AFTER_MS: 2000 };
    const [a, b] = await Promise.all([startTestHerald({ ...cfg, NODE_ID: 'rc-a' }), startTestHerald({ ...cfg, NODE_ID: 'rc-b' })]);
    const devices: TestDevice[] = [];
    try {
      const clients = Array.from({ length: 9 }, (_, i) => `user${i}`);
      const owners = await Promise.all(clients.map((c) => owner(`herald:{${c}}:s`)));
      expect(new Set(owners).size).toBeGreaterThan(1); // the clients really are spread over shards
      for (const c of clients) devices.push(await connectDevice(b, c, 'phone'));
      // Each client's channel is subscribed on the shard that owns its slot, and only there.
      for (const [i, c] of clients.entries()) {
        const counts = await Promise.all(shards.map(async (s) => ((await s.call('PUBSUB', 'SHARDNUMSUB', `herald:{${c}}:ch`)) as [string, number])[1]));
        expect(counts, c).toEqual(shards.map((_, k) => (k === owners[i] ? 1 : 0)));
      }
      for (const s of shards) await s.config('RESETSTAT');
      for (const c of clients) expect((await publish(a, `/api/v1/clients/${c}/notifications`, { title: 't', message: `to ${c}` })).delivered).toBe(1);
      for (const [i, d] of devices.entries()) expect((await d.waitForNotifications(1))[0].message).toBe(`to ${clients[i]}`);
      // The publishes ran where their clients live: one script call on the owning shard each, its
      // SPUBLISH on that shard, nothing of it on the others.
      const stats = await Promise.all(shards.map(async (s) => (await s.info('commandstats')) as string));
      const calls = (text: string, cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(text)?.[1] ?? 0);
      for (let k = 0; k < shards.length; k++) {
        const mine = owners.filter((o) => o === k).length;
        expect(calls(stats[k], 'spublish'), `shard ${k}`).toBe(mine);
        expect(calls(stats[k], 'evalsha') + calls(stats[k], 'eval'), `shard ${k}`).toBe(mine);
      }
      // A broadcast reaches the other node; a device resumes by cursor on the cluster.
      await publish(a, '/api/v1/broadcast', { title: 't', message: 'to all' });
      await until(() => devices.every((d) => d.notifications.length === 2), 5000, 'the broadcast everywhere');
      const cursor = devices[0].notifications[1].cursor as string;
      devices[0].ws.terminate();
      await devices[0].closed;
      for (let i = 0; i < 3; i++) await publish(a, '/api/v1/clients/user0/notifications', { title: 't', message: `missed ${i}` });
      devices[0] = await connectDevice(a, 'user0', 'phone', { cursor });
      expect((await devices[0].waitForNotifications(3)).map((f) => f.message)).toEqual(['missed 0', 'missed 1', 'missed 2']);
      // Everyone leaves: every client channel is released on every shard (the broadcast channel stays).
      for (const d of devices) {
        d.close();
        await d.closed;
      }
      await until(
        async () =>
          (await Promise.all(shards.map(async (s) => ((await s.call('PUBSUB', 'SHARDCHANNELS', 'herald:{user*')) as string[]).length))).every((n) => n === 0),
        5000,
        'client channels released',
      );
    } finally {
      for (const d of devices) d.ws.terminate();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
