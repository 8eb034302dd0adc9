import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterKeys } from '../../src/cluster/keys.js';
import { decodeFigures, encodeFigures } from '../../src/cluster/membership.js';
import { ClusterScripts } from '../../src/cluster/redis-scripts.js';
import { decodeRegistryEntry, encodeRegistryEntry, parseHolder } from '../../src/cluster/registry-entry.js';
import { decodeWire, encodeWire, entryFrame, ownNotification, type WireMessage } from '../../src/cluster/wire.js';
import type { StoredNotification } from '../../src/core/types.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const notification: StoredNotification = {
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  clientId: 'alice',
  deviceId: null,
  title: 'Hello',
  message: 'world',
  service: 'default',
  data: { a: [1, 'x'] },
  ts: 1_700_000_000_000,
  expiresAt: null,
  pos: { ms: 1_700_000_000_000, seq: 2 },
  prev: { ms: 1_700_000_000_000, seq: 1 },
  epoch: 'k3j2h1g0',
};

/** A `state` event as a node routes it: with the counts it read for the client's devices. */
const stateEvent: StoredNotification = {
  ...notification,
  title: '',
  message: '',
  service: '',
  data: null,
  kind: 'state',
  event: { ids: ['a'], read: true, by: 'phone', scope: 'phone' },
  counts: { base: { unseen: 1, unread: 2 }, devices: { phone: { unseen: 3, unread: 4 } } },
};

describe('pub/sub wire codec', () => {
  it('keeps the bytes other nodes read: one-letter fields in the same order', () => {
    expect(encodeWire({ kind: 'notification', origin: 'node-1', notification })).toBe(JSON.stringify({ k: 'n', o: 'node-1', n: notification }));
    expect(encodeWire({ kind: 'kick', clientId: 'alice', deviceId: 'phone', sessionId: 's1', reason: 'replaced', epoch: 17 })).toBe(
      '{"k":"kick","c":"alice","d":"phone","s":"s1","r":"replaced","e":17}',
    );
    const cursor = { c: { ms: 10, seq: 1 }, ce: 'e1', b: null, be: null };
    expect(encodeWire({ kind: 'answer', clientId: 'alice', deviceId: 'phone', sessionId: 's1', cursor })).toBe(
      '{"k":"answer","c":"alice","d":"phone","s":"s1","cur":"e1.a.1~0"}',
    );
    expect(encodeWire({ kind: 'answer', clientId: 'alice', deviceId: 'phone', sessionId: 's1', cursor: null })).toBe(
      '{"k":"answer","c":"alice","d":"phone","s":"s1","cur":null}',
    );
  });

  it('decodes what it encodes, from a string or a Buffer', () => {
    const messages: WireMessage[] = [
      { kind: 'notification', origin: 'node-1', notification },
      { kind: 'notification', origin: 'node-2', notification: { ...notification, clientId: null, prev: null, expiresAt: 5 } },
      // Inbox fields travel as they are: a collapse, excluded devices, and events with their counts.
      { kind: 'notification', origin: 'node-1', notification: { ...notification, version: 1, collapseKey: 'k', replaces: 'old', excludeDevices: ['tv'] } },
      { kind: 'notification', origin: 'node-1', notification: stateEvent },
      { kind: 'notification', origin: 'node-1', notification: { ...stateEvent, kind: 'delete', event: { id: 'x' }, counts: undefined } },
      { kind: 'kick', clientId: 'alice', deviceId: 'phone', sessionId: 's1', reason: 'client-limit', epoch: 1_700_000_000_000_001 },
      { kind: 'kick', clientId: 'alice', deviceId: 'phone', sessionId: 's1', reason: 'removed', epoch: 0 },
      { kind: 'answer', clientId: 'alice', deviceId: 'phone', sessionId: 's1', cursor: { c: null, ce: null, b: { ms: 3, seq: 0 }, be: 'b1' } },
      { kind: 'answer', clientId: 'alice', deviceId: 'phone', sessionId: 's1', cursor: null },
    ];
    for (const m of messages) {
      expect(decodeWire(encodeWire(m))).toEqual(m);
      expect(decodeWire(Buffer.from(encodeWire(m)))).toEqual(m);
    }
  });

  it('rejects malformed input with null, never a throw', () => {
    const bad = [
      '',
      'not json',
      'null',
      '[]',
      '42',
      '{}',
      '{"k":"x","c":"a","d":"b","s":"c"}',
      '{"k":"n","o":"node-1"}',
      JSON.stringify({ k: 'n', o: 1, n: notification }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, pos: { ms: '1', seq: 2 } } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, prev: 'x' } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, clientId: 3 } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, epoch: undefined } }),
      '{"k":"kick","c":"a","d":"b","s":"c","r":"because","e":1}',
      '{"k":"kick","c":"a","d":"b","s":"c","r":"replaced"}',
      '{"k":"kick","c":"a","s":"c","r":"replaced","e":1}',
      '{"k":"answer","c":"a","d":"b","s":"c","cur":"not-a-cursor"}',
      '{"k":"answer","c":"a","d":"b","s":"c","cur":5}',
      '{"k":"answer","c":"a","d":"b","s":"c"}',
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...stateEvent, kind: 'read' } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...stateEvent, event: 'x' } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...stateEvent, counts: { base: { unseen: 1 }, devices: {} } } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...stateEvent, counts: { base: { unseen: 1, unread: 1 }, devices: { phone: null } } } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, excludeDevices: 'tv' } }),
      JSON.stringify({ k: 'n', o: 'node-1', n: { ...notification, replaces: 7 } }),
      // Stream-entry messages (the Redis store's append script): position, prev, epoch, body, fields.
      '{"k":"e","o":"node-1","p":"12-x","v":"","e":"ep","j":{},"t":{}}',
      '{"k":"e","o":"node-1","p":"12-0","v":"nope","e":"ep","j":{},"t":{}}',
      '{"k":"e","o":"node-1","p":"12-0","v":"","e":"ep","j":"body","t":{}}',
      '{"k":"e","o":"node-1","p":"12-0","v":"","e":"ep","j":{"id":"a","title":"t","message":"m","service":"s","ts":1},"t":{"clientId":"c","deviceId":null}}',
      '{"k":"e","o":"node-1","p":"12-0","v":"","e":"ep","j":{"id":"a","title":"t","message":"m","service":"s","ts":1},"t":{"clientId":"c","deviceId":null,"expiresAt":null},"r":5}',
      '{"k":"e","o":7,"p":"12-0","v":"","e":"ep","j":{"id":"a","title":"t","message":"m","service":"s","ts":1},"t":{"clientId":"c","deviceId":null,"expiresAt":null}}',
    ];
    for (const raw of bad) expect(decodeWire(raw), raw).toBeNull();
  });
});

describe('own-notification test (a node drops the echo of its publishes unread)', () => {
  const entry = (origin: string) => {
    const { head, tail } = entryFrame(origin);
    return Buffer.from(`${head}12-0","v":"","e":"ep","j":{"id":"a"},"t":{"clientId":"c"}${tail}`);
  };
  it('is true for both kinds of notification message from this node, false for other nodes and other kinds', () => {
    const own = ownNotification('node-1');
    expect(own(entry('node-1'))).toBe(true);
    expect(own(Buffer.from(encodeWire({ kind: 'notification', origin: 'node-1', notification })))).toBe(true);
    // Another node, one whose id starts with this one's, or one this id starts with.
    for (const other of ['node-2', 'node-10', 'node-', '"node-1"']) {
      expect(own(entry(other)), other).toBe(false);
      expect(own(Buffer.from(encodeWire({ kind: 'notification', origin: other, notification }))), other).toBe(false);
    }
    // Kicks and answers to this node are never dropped; nor is a bare prefix.
    expect(own(Buffer.from(encodeWire({ kind: 'kick', clientId: 'node-1', deviceId: 'node-1', sessionId: 's', reason: 'removed', epoch: 0 })))).toBe(false);
    expect(own(Buffer.from(encodeWire({ kind: 'answer', clientId: 'node-1', deviceId: 'd', sessionId: 's', cursor: null })))).toBe(false);
    expect(own(Buffer.from(entryFrame('node-1').head))).toBe(false);
    expect(own(Buffer.alloc(0))).toBe(false);
  });
  it('copes with ids JSON escapes', () => {
    const id = 'n"ode\\é\u2028';
    const own = ownNotification(id);
    expect(own(entry(id))).toBe(true);
    expect(own(Buffer.from(encodeWire({ kind: 'notification', origin: id, notification })))).toBe(true);
    expect(own(entry('node-1'))).toBe(false);
  });
});

describe('registry entry codec', () => {
  it('decodes the JSON the Lua scripts write into readable names', () => {
    expect(decodeRegistryEntry('{"n":"node-1","s":"ab12","st":"a","c":1700000000000,"t":"ws"}')).toEqual({
      node: 'node-1',
      sessionId: 'ab12',
      state: 'attached',
      connectedAt: 1_700_000_000_000,
      transport: 'ws',
      detachedAt: null,
    });
    // cjson writes keys in any order.
    expect(decodeRegistryEntry('{"dt":1700000000500,"t":"grpc","c":1700000000000,"st":"d","s":"ab12","n":"node-2"}')).toEqual({
      node: 'node-2',
      sessionId: 'ab12',
      state: 'detached',
      connectedAt: 1_700_000_000_000,
      transport: 'grpc',
      detachedAt: 1_700_000_000_500,
    });
  });

  it('round-trips, and rejects malformed entries with null', () => {
    const e = { node: 'n', sessionId: 's', state: 'detached', connectedAt: 1, transport: 'sse', detachedAt: 2 } as const;
    expect(decodeRegistryEntry(encodeRegistryEntry(e))).toEqual(e);
    expect(JSON.parse(encodeRegistryEntry({ ...e, state: 'attached', detachedAt: null }))).toEqual({ n: 'n', s: 's', st: 'a', c: 1, t: 'sse' });
    for (const raw of [
      '',
      '{',
      'null',
      '"x"',
      '{"n":"a","s":"b","st":"x","c":1,"t":"ws"}',
      '{"n":"a","s":"b","st":"a","c":"1","t":"ws"}',
      '{"n":"a","s":"b","st":"a","c":1,"t":"smoke"}',
      '{"s":"b","st":"a","c":1,"t":"ws"}',
      '{"n":"a","s":"b","st":"a","c":1,"t":"ws","dt":"x"}',
    ]) {
      expect(decodeRegistryEntry(raw), raw).toBeNull();
    }
  });

  it('parses a holder `node|session`', () => {
    expect(parseHolder('node-1|ab|cd')).toEqual({ node: 'node-1', sessionId: 'ab|cd' });
  });
});

describe('device figures codec', () => {
  it('round-trips, and rejects malformed figures with null', () => {
    const f = { lastHeartbeatAt: 5, lastNotificationAt: null, notificationCount: 3, rttMs: 12 };
    expect(encodeFigures(f)).toBe('[5,null,3,12]');
    expect(decodeFigures(encodeFigures(f))).toEqual(f);
    for (const raw of ['', '{', '{}', '"x"']) expect(decodeFigures(raw)).toBeNull();
  });
});

describe('the scripts and the registry codec agree, on a real Redis', () => {
  let redis: TestRedis;
  let cmd: Redis;
  const keys = new ClusterKeys(`codec-${Math.random().toString(36).slice(2, 8)}:`);
  let scripts: ClusterScripts;

  beforeAll(async () => {
    redis = await startRedis();
    cmd = new Redis(redis.url);
    scripts = new ClusterScripts(cmd, keys);
  });

  afterAll(async () => {
    cmd?.disconnect();
    await redis?.stop();
  });

  const claim = (deviceId: string, sessionId: string, now: number, maxDevices = 5) =>
    scripts.claim({ clientId: 'alice', deviceId, node: 'node-1', sessionId, transport: 'sse', now, maxDevices, policy: 'evict-oldest' });

  it('claim, replace, evict and release: entries decode, replies are typed', async () => {
    const first = await claim('phone', 's1', 1000);
    expect(first).toMatchObject({ rejected: false, replaced: null, evicted: null });
    expect(first.rejected === false && first.onlineEpoch > 0 && first.connectedEpoch > first.onlineEpoch).toBe(true);
    expect(decodeRegistryEntry((await cmd.hget(keys.reg('alice'), 'phone')) as string)).toEqual({
      node: 'node-1',
      sessionId: 's1',
      state: 'attached',
      connectedAt: 1000,
      transport: 'sse',
      detachedAt: null,
    });
    const again = await claim('phone', 's2', 2000);
    expect(again).toMatchObject({ rejected: false, replaced: { node: 'node-1', sessionId: 's1' }, evicted: null, onlineEpoch: 0 });
    const evicting = await claim('laptop', 's3', 3000, 1);
    expect(evicting).toMatchObject({ rejected: false, evicted: { deviceId: 'phone', node: 'node-1', sessionId: 's2' } });
    expect(decodeRegistryEntry((await cmd.hget(keys.reg('alice'), 'phone')) as string)).toMatchObject({ state: 'detached', detachedAt: 3000 });
    const released = await scripts.release({ clientId: 'alice', deviceId: 'laptop', sessionId: 's3', now: 4000, forget: false, token: 't1', keepMs: 60_000 });
    expect(released.epoch).toBeGreaterThan(0);
    expect(released.pendingToken).toBe('t1');
    expect(decodeRegistryEntry((await cmd.hget(keys.reg('alice'), 'laptop')) as string)).toMatchObject({
      state: 'detached',
      detachedAt: 4000,
      connectedAt: 3000,
    });
    expect(await scripts.offline('alice', 'other-token')).toBe(0);
    expect(await scripts.offline('alice', 't1')).toBeGreaterThan(released.epoch);
    expect(await scripts.expireDetached('alice', 'laptop', 3999)).toBe(false);
    expect(await scripts.expireDetached('alice', 'laptop', 4000)).toBe(true);
  });
});
