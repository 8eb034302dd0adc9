import type { Redis } from 'ioredis';
import { coalesceWrites, connectRedis, countCommands } from '../store/redis-connection.js';
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
 * Each failed command is counted in `stats.redisErrors` (`herald_redis_errors_total{component="push"}`)
 * and rejected to the caller, which logs it.
 */
export class RedisPushSubscriptionStore implements PushSubscriptionStore {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #prefix: string;
  /** Commands that failed (connection down, timeout), for `/metrics`. */
  readonly stats = { redisErrors: 0, redisCommands: 0 };

  constructor(url: string, prefix = 'herald:', cluster = false) {
    this.#prefix = prefix;
    this.#redis = connectRedis(url, { lazyConnect: false, maxRetriesPerRequest: 0, connectionName: 'herald-push' }, cluster);
    countCommands(this.#redis, this.stats);
    coalesceWrites(this.#redis);
    // Without a listener ioredis prints each failed reconnect. Nothing to do here: ioredis keeps
    // reconnecting, and every command that fails meanwhile is counted and rejected (see #failed).
    this.#redis.on('error', () => {});
    this.#redis.defineCommand('heraldPushRemove', { numberOfKeys: 1, lua: REMOVE_IF_LUA });
  }

  /** Counts a failed command and passes the failure on to the caller. */
  readonly #failed = (err: unknown): never => {
    this.stats.redisErrors++;
    throw err;
  };

  /** The hash of a client's subscriptions (device → record JSON), in the client's `{client}` slot. */
  key(clientId: string): string {
    return `${this.#prefix}{${clientId}}:push`;
  }

  /** The ioredis client (same-server checks, tests). */
  get redis(): Redis {
    return this.#redis;
  }

  async put(sub: PushSubscriptionRecord): Promise<void> {
    await this.#redis.hset(this.key(sub.clientId), sub.deviceId, JSON.stringify(sub)).catch(this.#failed);
  }

  async get(clientId: string, deviceId: string): Promise<PushSubscriptionRecord | null> {
    const raw = await this.#redis.hget(this.key(clientId), deviceId).catch(this.#failed);
    return raw === null ? null : (JSON.parse(raw) as PushSubscriptionRecord);
  }

  async list(clientId: string): Promise<PushSubscriptionRecord[]> {
    return Object.values(await this.#redis.hgetall(this.key(clientId)).catch(this.#failed)).map((raw) => JSON.parse(raw) as PushSubscriptionRecord);
  }

  async remove(clientId: string, deviceId: string, endpoint?: string): Promise<boolean> {
    const removed = await (this.#redis as unknown as { heraldPushRemove: (...a: string[]) => Promise<number> })
      .heraldPushRemove(this.key(clientId), deviceId, endpoint ?? '')
      .catch(this.#failed);
    return removed > 0;
  }

  async close(): Promise<void> {
    // QUIT fails when the connection is already gone: dropping it is all that is left to do.
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
