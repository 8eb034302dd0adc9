import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBroker, type RedisBrokerOptions } from '../../src/cluster/redis-broker.js';
import { ClusterScripts } from '../../src/cluster/redis-scripts.js';
import { resolveConfig } from '../../src/core/config.js';
import type { CloseReason } from '../../src/core/disconnect.js';
import { jsonEncoder } from '../../src/core/frames.js';
import { Hub } from '../../src/core/hub.js';
import { silentLogger } from '../../src/core/logger.js';
import { HeraldNode } from '../../src/core/node.js';
import type { PresenceEvent } from '../../src/core/presence.js';
import type { TransportConnection } from '../../src/core/session.js';
import { createStore } from '../../src/store/create.js';
import { until } from '../support/herald.js';
import { startRedis, type TestRedis, uniquePrefix } from '../support/redis.js';

/** A transport that keeps nothing: these tests look at the cluster side only. */
class NullConn implements TransportConnection {
  readonly kind = 'ws' as const;
  readonly encoder = jsonEncoder;
  ended: CloseReason | null = null;
  write(_frames: Buffer[]): void {}
  bufferedBytes(): number {
    return 0;
  }
  writable(): boolean {
    return true;
  }
  end(reason: CloseReason): void {
    this.ended = reason;
  }
}

const config = (nodeId: string) =>
  resolveConfig({ NODE_ID: nodeId, PRESENCE_GRACE_MS: 0, DRAIN_TIMEOUT_MS: 50, FLUSH_TIMEOUT_MS: 10, FORCE_CLOSE_TIMEOUT_MS: 500, JWT_SECRET: 'x'.repeat(32) });

/** A transport that keeps what it was written, as text. */
class RecordingConn extends NullConn {
  readonly texts: string[] = [];
  override write(frames: Buffer[]): void {
    for (const f of frames) this.texts.push(f.toString());
  }
}

/** A node on its own key prefix (or a given one, to share a cluster), not started. */
async function clusterNode(url: string, nodeId = `node-${Math.random().toString(36).slice(2, 8)}`, extra: Partial<RedisBrokerOptions> = {}) {
  const cfg = config(nodeId);
  const store = await createStore(cfg, silentLogger);
  const prefix = extra.prefix ?? sharedPrefix.get(url) ?? uniquePrefix();
  if (extra.shardedPubSub === false) sharedPrefix.set(url, prefix);
  const broker = new RedisBroker({
    url,
    nodeId,
    store,
    prefix,
    nodeHeartbeatMs: 200,
    nodeDeadAfterMs: 600,
    detachedTtlMs: 60_000,
    presenceGraceMs: 0,
    maxDevicesPerClient: 5,
    clientLimitPolicy: 'evict-oldest',
    log: silentLogger,
    ...extra,
  });
  const node = new HeraldNode(cfg, store, broker, silentLogger);
  return { node, broker, prefix, nodeId, [Symbol.asyncDispose]: () => node.shutdown() };
}

/**
 * Holds back the first call of `target[method]` whose arguments `matches` until `letGo()`, as a
 * Redis Cluster client holds a command for a shard whose connection is not ready yet (or sends a
 * redirected one again) and writes it after later ones. `restore()` puts the method back.
 */
function holdFirstCall<T extends object>(target: T, method: keyof T & string, matches: (args: unknown[]) => boolean) {
  const slot = target as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = slot[method];
  let letGo = () => {};
  const held = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  let first = true;
  slot[method] = function (this: unknown, ...args: unknown[]) {
    if (!first || !matches(args)) return original.apply(this, args);
    first = false;
    return held.then(() => original.apply(this, args));
  };
  return {
    letGo,
    restore: () => {
      slot[method] = original;
    },
  };
}

let redis: TestRedis;
/** Nodes of one test cluster share a key prefix (by Redis URL). */
const sharedPrefix = new Map<string, string>();

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe('RedisBroker in one process', () => {
  it("presence is the cluster's from the hub's birth: a listener subscribed before start hears every transition", async () => {
    await using c = await clusterNode(redis.url);
    const events: PresenceEvent[] = [];
    c.node.hub.presence.on('event', (e) => events.push(e));
    await c.node.start();
    const conn = new NullConn();
    const s = c.node.connect({ clientId: 'alice', deviceId: 'phone', conn, tokenExpiresAt: null });
    await until(() => events.length === 2, 5000, 'online and connected');
    s?.close('normal');
    await until(() => events.length === 4, 5000, 'disconnected and offline');
    expect(events.map((e) => e.type)).toEqual(['client.online', 'device.connected', 'device.disconnected', 'client.offline']);
    expect(c.broker.stats.redisErrors).toBe(0);
  });

  it("a device's claims run in Redis in the order its streams came and went, even when one is written late", async () => {
    await using c = await clusterNode(redis.url);
    await c.node.start();
    const r = new Redis(redis.url);
    const client = `late-${Math.random().toString(36).slice(2, 8)}`;
    // The first stream's claim is held back. Seen in the three-shard churn test: that claim ran
    // after the next stream's and closed the new stream 4002 before its welcome.
    const late = holdFirstCall(ClusterScripts.prototype, 'claim', ([a]) => (a as { clientId: string }).clientId === client);
    try {
      const old = c.node.connect({ clientId: client, deviceId: 'phone', conn: new NullConn(), tokenExpiresAt: null });
      old?.close('normal');
      const conn = new NullConn();
      const current = c.node.connect({ clientId: client, deviceId: 'phone', conn, tokenExpiresAt: null });
      if (!current) throw new Error('not attached');
      // Time for the new stream's claim to be written; then the held one goes out.
      await new Promise((resolve) => setTimeout(resolve, 100));
      late.letGo();
      await until(() => c.broker.registryChangesInFlight === 0, 5000, 'the claims and releases to settle');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(conn.ended).toBeNull();
      expect(current.state).not.toBe('closed');
      const entry = JSON.parse((await r.hget(`${c.prefix}{${client}}:reg`, 'phone')) ?? 'null');
      expect(entry).toMatchObject({ n: c.nodeId, s: current.sid, st: 'a' });
      expect(await r.sismember(`${c.prefix}node:${c.nodeId}:conns`, current.device.connectionId)).toBe(1);
    } finally {
      late.restore();
      r.disconnect();
    }
  });

  it('refuses to start on a hub not built with its presence', async () => {
    await using c = await clusterNode(redis.url);
    const other = new Hub({ ...c.node.hub.opts, presence: undefined }, silentLogger);
    await expect(c.broker.start(other)).rejects.toThrow(/createPresence/);
    other.stop();
  });

  it('drops and counts a malformed pub/sub message, and keeps serving', async () => {
    await using c = await clusterNode(redis.url);
    await c.node.start();
    const pub = new Redis(redis.url);
    try {
      await pub.publish(`${c.prefix}inbox:${c.nodeId}`, 'not json');
      await pub.publish(`${c.prefix}inbox:${c.nodeId}`, '{"k":"kick","c":"alice"}');
      await until(() => c.broker.stats.malformedMessages === 2, 5000, 'two malformed messages');
      const r = await c.node.publish({ kind: 'client', clientId: 'alice' }, { title: 't', message: 'm' });
      expect(r.delivered).toBe(0);
      expect(c.broker.stats.redisErrors).toBe(0);
    } finally {
      pub.disconnect();
    }
  });
});

describe('RedisBroker without Redis', () => {
  it('counts every failed Redis call (the node set and the claim included) and still shuts down', async () => {
    await using gone = await startRedis();
    await using c = await clusterNode(gone.url);
    await c.node.start();
    await gone.stop();
    await until(() => c.broker.stats.redisErrors >= 1, 5000, 'the heartbeat to fail');
    const before = c.broker.stats.redisErrors;
    const conn = new NullConn();
    c.node.connect({ clientId: 'alice', deviceId: 'phone', conn, tokenExpiresAt: null });
    // sadd to the node's set and the claim script: two failures, neither silent.
    await until(() => c.broker.stats.redisErrors >= before + 2, 5000, 'the claim to fail');
    await c.node.shutdown();
    expect(c.broker.stats.redisErrors).toBeGreaterThanOrEqual(before + 3);
  });

  it('a stream that cannot follow its client channel (pub/sub down, store up) is closed for a retry at once, not left waiting for Redis', async () => {
    await using gone = await startRedis();
    await using c = await clusterNode(gone.url);
    await c.node.start();
    await gone.stop();
    await until(() => c.broker.stats.redisErrors >= 1, 5000, 'Redis to be noticed gone');
    const conn = new NullConn();
    // The memory store answers the replay's reads; only the subscription is impossible.
    c.node.connect({ clientId: 'alice', deviceId: 'phone', conn, tokenExpiresAt: null });
    await until(() => conn.ended !== null, 2000, 'the stream to be closed');
    expect(conn.ended).toBe('restart');
  });
});

describe('stream channels: the last device leaving and a new one arriving', () => {
  it('the new subscription is written after the unsubscribe is answered, so a late unsubscribe cannot undo it', async () => {
    await using s = await startRedis();
    await using a = await clusterNode(s.url, 'order-a');
    await using b = await clusterNode(s.url, 'order-b', { prefix: a.prefix });
    const admin = new Redis(s.url);
    // Node b's unsubscribe of bob's channel is held back.
    const late = holdFirstCall(Redis.prototype, 'sunsubscribe', ([channel]) => String(channel).includes('{bob}'));
    try {
      await a.node.start();
      await b.node.start();
      const old = b.node.connect({ clientId: 'bob', deviceId: 'phone', conn: new NullConn(), tokenExpiresAt: null });
      await until(() => old?.state === 'live', 5000, 'the first stream live');
      old?.close('normal');
      const conn = new RecordingConn();
      const session = b.node.connect({ clientId: 'bob', deviceId: 'tablet', conn, tokenExpiresAt: null });
      await new Promise((resolve) => setTimeout(resolve, 100));
      late.letGo();
      await until(() => session?.state === 'live', 5000, 'the second stream live');
      await until(() => b.broker.registryChangesInFlight === 0, 5000, 'the registry to settle');
      expect(await admin.call('PUBSUB', 'SHARDCHANNELS', `${a.prefix}{bob}:ch`)).toEqual([`${a.prefix}{bob}:ch`]);
      // Published on node a, delivered live on node b.
      await a.node.publish({ kind: 'client', clientId: 'bob' }, { title: 't', message: 'after the churn' });
      await until(() => conn.texts.some((t) => t.includes('after the churn')), 5000, 'live delivery on node b');
    } finally {
      late.restore();
      admin.disconnect();
    }
  });
});

describe('RedisBroker with classic pub/sub (Redis 6, or a proxy without sharded pub/sub)', () => {
  it('routes by client channel with PUBLISH/SUBSCRIBE and releases the subscription', async () => {
    await using s = await startRedis();
    const nodes = [await clusterNode(s.url, 'classic-a', { shardedPubSub: false }), await clusterNode(s.url, 'classic-b', { shardedPubSub: false })];
    const [a, b] = nodes;
    const admin = new Redis(s.url);
    try {
      await a.node.start();
      await b.node.start();
      const conn = new RecordingConn();
      const session = b.node.connect({ clientId: 'alice', deviceId: 'phone', conn, tokenExpiresAt: null });
      await until(() => session?.state === 'live', 5000, 'live');
      expect(await admin.call('PUBSUB', 'CHANNELS', `${b.prefix}{alice}:ch`)).toEqual([`${b.prefix}{alice}:ch`]);
      expect(await admin.call('PUBSUB', 'SHARDCHANNELS')).toEqual([]);
      // Node a publishes on the prefix of node b's cluster: the two share one.
      const r = await a.node.publish({ kind: 'client', clientId: 'alice' }, { title: 't', message: 'over classic pub/sub' });
      expect(r.delivered).toBe(1);
      await until(() => conn.texts.some((t) => t.includes('over classic pub/sub')), 5000, 'delivery on node b');
      session?.close('normal');
      await until(async () => ((await admin.call('PUBSUB', 'CHANNELS', `${b.prefix}{alice}:ch`)) as string[]).length === 0, 5000, 'unsubscribed');
    } finally {
      admin.disconnect();
      for (const n of nodes) await n.node.shutdown();
    }
  });
});
