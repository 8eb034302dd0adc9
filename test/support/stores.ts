import { afterAll, beforeAll } from 'vitest';
import type { Store } from '../../src/core/types.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { RedisStore } from '../../src/store/redis-store.js';
import { startRedis, type TestRedis, uniquePrefix } from './redis.js';

/** Retention a store-contract test asks for; each store's defaults otherwise (1000 messages, 24 h). */
export interface StoreRetention {
  retentionMessages?: number;
  retentionMs?: number;
  /** Inbox events (state changes, updates, deletes) kept per stream. @default retentionMessages */
  retentionEvents?: number;
}

export type StoreFactory = (r?: StoreRetention) => Promise<Store>;

export interface StoreFactories {
  /** `[name, factory]` for `describe.each`: every store the contract suites run against. */
  readonly list: [string, StoreFactory][];
  /** The plain redis-server the Redis factory uses (started in `beforeAll`). */
  redis(): TestRedis;
  /** The cluster-mode redis-server (one node owning every slot: CROSSSLOT scripts fail). */
  clustered(): TestRedis;
}

/**
 * Every Store implementation, for the contract suites (test/store/*-contract.test.ts and
 * contract.test.ts). Call it at the top level of a test file: it registers the hooks that start
 * and stop the Redis servers of that file. A new store joins every suite with one line here.
 *
 * Time is the explicit `now` the Store interface takes; key expiry runs on Redis's clock, so the
 * Redis stores get a long stream TTL to keep it out of the way.
 */
export function storeFactories(): StoreFactories {
  let redis: TestRedis | undefined;
  let clustered: TestRedis | undefined;
  beforeAll(async () => {
    [redis, clustered] = await Promise.all([startRedis(), startRedis({ cluster: true })]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), clustered?.stop()]);
  });
  const server = (s: TestRedis | undefined): TestRedis => {
    if (!s) throw new Error('the test Redis servers start in beforeAll');
    return s;
  };
  const redisStore =
    (get: () => TestRedis): StoreFactory =>
    async (r = {}) =>
      RedisStore.connect({
        url: get().url,
        prefix: uniquePrefix(),
        retentionMessages: r.retentionMessages ?? 1000,
        retentionMs: r.retentionMs ?? 86_400_000,
        retentionEvents: r.retentionEvents,
        streamTtlMs: 3_600_000,
      });
  return {
    list: [
      [
        'memory',
        async (r = {}) =>
          new MemoryStore({ retentionMessages: r.retentionMessages ?? 1000, retentionMs: r.retentionMs ?? 86_400_000, retentionEvents: r.retentionEvents }),
      ],
      ['redis', redisStore(() => server(redis))],
      // A cluster-mode node refuses any script whose keys span slots (CROSSSLOT): the hash tags are proven.
      ['redis (cluster mode)', redisStore(() => server(clustered))],
    ],
    redis: () => server(redis),
    clustered: () => server(clustered),
  };
}
