import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A component's Redis counters (`stats` of RedisStore, RedisBroker, RedisPushSubscriptionStore). */
export interface RedisCommandCount {
  /** Commands written to Redis on a ready connection (a script call is one; what it runs inside Redis is not counted). */
  redisCommands: number;
}

/**
 * Counts every command `redis` writes to its server in `stats.redisCommands`, served as
 * `herald_redis_commands_total{component}` on /metrics: the round trips a node costs Redis
 * (issue 17's "commands per publish"). Counted where ioredis hands a command to a ready connection
 * (`sendCommand`, which pipelines and transactions go through command by command), so a command
 * queued while the connection is down counts once, when it is written.
 */
export function countCommands(redis: Redis, stats: RedisCommandCount): void {
  const send = redis.sendCommand;
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    if (this.status === 'ready') stats.redisCommands++;
    return send.apply(this, args);
  } as Redis['sendCommand'];
}

/**
 * Commands `redis` is given in one turn of the event loop leave in one socket write: the socket is
 * corked at the first and uncorked when the turn's I/O callbacks have run (`setImmediate`). Each
 * HTTP publish arrives in a callback of its own, so ioredis's auto-pipelining, which flushes per
 * callback (`process.nextTick`), writes them one by one; here the publishes read in one poll of the
 * event loop share one write, and Redis reads them with one `read` and answers with one `write`.
 * Redis's own CPU per command is mostly that I/O (issue 17: Redis CPU per targeted delivery in the
 * `cluster` bench, 79 / 67 µs → 51 / 58 µs in alternating quick runs). Order is unchanged (the socket
 * buffers in order; ioredis matches replies by order). A command waits at most until the turn's
 * immediates run, which is before the loop can wait for I/O again.
 *
 * A Redis Cluster client gets this on each of its shards' connections as they are made.
 * Subscriber connections need none: they send only (un)subscribes.
 */
export function coalesceWrites(redis: Redis): void {
  const client = redis as Redis | Cluster;
  if (client instanceof Cluster) {
    client.on('+node', (node: Redis) => coalesceWrites(node));
    for (const node of client.nodes('all')) coalesceWrites(node);
    return;
  }
  if (coalesced.has(redis)) return;
  coalesced.add(redis);
  const send = redis.sendCommand;
  let corked: Corkable | null = null;
  const flush = () => {
    const s = corked;
    corked = null;
    s?.uncork();
  };
  redis.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    // A pipeline's commands (a second argument) are written by the pipeline as one string.
    if (corked === null && args[1] === undefined && this.status === 'ready') {
      const stream = (this as unknown as { stream?: Corkable }).stream;
      if (stream?.writable) {
        corked = stream;
        stream.cork();
        setImmediate(flush);
      }
    }
    return send.apply(this, args);
  } as Redis['sendCommand'];
}

interface Corkable {
  writable: boolean;
  cork(): void;
  uncork(): void;
}

const coalesced = new WeakSet<Redis>();

/**
 * Whether two ioredis clients talk to the same server and database, or the same Redis Cluster
 * (what one Lua script can reach, given keys in one slot).
 */
export function sameServer(a: Redis, b: Redis): boolean {
  const sa = clusterSeeds.get(a);
  const sb = clusterSeeds.get(b);
  if (sa !== undefined || sb !== undefined) return sa === sb;
  const x = a.options;
  const y = b.options;
  return x.host === y.host && x.port === y.port && (x.db ?? 0) === (y.db ?? 0) && x.path === y.path;
}

/**
 * A client for `url`: one connection (`new Redis`), or, with `cluster`, an ioredis `Cluster`
 * seeded from it, with the same options for each node's connection and sharded pub/sub handled
 * per shard. Typed as `Redis` because a Cluster answers the same commands (every key of one call
 * in one slot, which Herald's key layout guarantees); `instanceof Cluster` tells them apart.
 */
export function connectRedis(url: string | undefined, options: RedisOptions, cluster = false): Redis {
  if (!cluster) return url ? new Redis(url, options) : new Redis(options);
  const u = new URL(url ?? 'redis://127.0.0.1:6379');
  // Each shard's connection queues while it connects (the slot map is read through it); failing
  // fast is the Cluster's own `enableOfflineQueue`.
  // The Cluster connects its shards itself (its own `lazyConnect`).
  const { lazyConnect: _lazy, ...rest } = options;
  const nodeOptions: RedisOptions = { ...rest, enableOfflineQueue: true };
  if (u.username) nodeOptions.username = decodeURIComponent(u.username);
  if (u.password) nodeOptions.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') nodeOptions.tls = {};
  const client = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    redisOptions: nodeOptions,
    lazyConnect: options.lazyConnect ?? false,
    enableOfflineQueue: options.enableOfflineQueue ?? true,
    shardedSubscribers: true,
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
  }) as unknown as Redis;
  clusterSeeds.set(client, `${u.hostname}:${u.port || 6379}`);
  return client;
}

/** The seed address of each Cluster client made by {@link connectRedis}. */
const clusterSeeds = new WeakMap<object, string>();

/**
 * Throws a clear error when `redis` (a plain client) is connected to one node of a Redis Cluster of
 * several shards, where its first key of another shard would fail with a bare `MOVED`: such a
 * cluster needs REDIS_CLUSTER=true. A single server, cluster-mode or not, owning every slot passes.
 */
export async function refuseShardedCluster(redis: Redis, where: string): Promise<void> {
  const info = await redis.info('cluster').catch(() => '');
  if (!/cluster_enabled:1/.test(info)) return;
  const ranges = (await redis.call('CLUSTER', 'SLOTS').catch(() => [])) as [number, number, [string, number]][];
  const masters = new Set(ranges.map((r) => `${r[2]?.[0]}:${r[2]?.[1]}`));
  if (masters.size <= 1) return;
  throw new Error(`the Redis at ${where} is a node of a Redis Cluster of ${masters.size} shards: set REDIS_CLUSTER=true (HERALD_REDIS_CLUSTER)`);
}
