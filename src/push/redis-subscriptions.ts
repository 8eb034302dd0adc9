import { Redis } from 'ioredis';
import type { PushSubscriptionRecord, PushSubscriptionStore } from './subscriptions.js';

/** Compare-and-delete: remove the device's field only if it still holds this endpoint. */
const REMOVE_IF_LUA = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if ARGV[2] ~= '' and cjson.decode(raw).endpoint ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
`;

/**
 * Push subscriptions for a cluster: one hash per client (`P{client}:push`, device id → record),
 * beside the client's other keys in its Redis Cluster slot, so any node can push to any device.
 */
export class RedisPushSubscriptionStore implements PushSubscriptionStore {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(url: string, prefix = 'herald:') {
    this.#prefix = prefix;
    this.#redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 0, connectionName: 'herald-push' });
    this.#redis.on('error', () => {});
    this.#redis.defineCommand('heraldPushRemove', { numberOfKeys: 1, lua: REMOVE_IF_LUA });
  }

  #key(clientId: string): string {
    return `${this.#prefix}{${clientId}}:push`;
  }

  async put(sub: PushSubscriptionRecord): Promise<void> {
    await this.#redis.hset(this.#key(sub.clientId), sub.deviceId, JSON.stringify(sub));
  }

  async get(clientId: string, deviceId: string): Promise<PushSubscriptionRecord | null> {
    const raw = await this.#redis.hget(this.#key(clientId), deviceId);
    return raw === null ? null : (JSON.parse(raw) as PushSubscriptionRecord);
  }

  async list(clientId: string): Promise<PushSubscriptionRecord[]> {
    return Object.values(await this.#redis.hgetall(this.#key(clientId))).map((raw) => JSON.parse(raw) as PushSubscriptionRecord);
  }

  async remove(clientId: string, deviceId: string, endpoint?: string): Promise<boolean> {
    const removed = await (this.#redis as unknown as { heraldPushRemove: (...a: string[]) => Promise<number> }).heraldPushRemove(
      this.#key(clientId),
      deviceId,
      endpoint ?? '',
    );
    return removed > 0;
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
