import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Herald } from '../../src/server.js';
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
