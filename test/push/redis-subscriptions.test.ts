import { describe, expect, it } from 'vitest';
import { RedisPushSubscriptionStore } from '../../src/push/redis-subscriptions.js';
import { MemoryPushSubscriptionStore, type PushSubscriptionRecord, type PushSubscriptionStore } from '../../src/push/subscriptions.js';
import { startRedis } from '../support/redis.js';

const sub = (deviceId: string, endpoint: string): PushSubscriptionRecord => ({
  clientId: 'alice',
  deviceId,
  endpoint,
  p256dh: 'BAAA',
  auth: 'AAAA',
  expirationTime: null,
  hostAllowed: true,
  createdAt: 1,
});

async function contract(store: PushSubscriptionStore): Promise<void> {
  await store.put(sub('phone', 'https://push.example/1'));
  await store.put(sub('laptop', 'https://push.example/2'));
  expect((await store.get('alice', 'phone'))?.endpoint).toBe('https://push.example/1');
  expect((await store.list('alice')).map((s) => s.deviceId).sort()).toEqual(['laptop', 'phone']);
  await store.put(sub('phone', 'https://push.example/3'));
  // A 410 for the old endpoint must not delete the device's newer subscription.
  expect(await store.remove('alice', 'phone', 'https://push.example/1')).toBe(false);
  expect((await store.get('alice', 'phone'))?.endpoint).toBe('https://push.example/3');
  expect(await store.remove('alice', 'phone')).toBe(true);
  expect(await store.get('alice', 'phone')).toBeNull();
  expect(await store.list('bob')).toEqual([]);
}

describe('push subscription stores', () => {
  it('memory', async () => {
    await contract(new MemoryPushSubscriptionStore());
  });

  it('redis (cluster-mode server: one slot per client)', async () => {
    await using redis = await startRedis({ cluster: true });
    const store = new RedisPushSubscriptionStore(redis.url, `t${Date.now()}:`);
    try {
      await contract(store);
    } finally {
      await store.close();
    }
  });
});
