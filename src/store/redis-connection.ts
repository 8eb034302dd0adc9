import type { Redis } from 'ioredis';

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

/** Whether two ioredis clients talk to the same server and database (what one Lua script can reach). */
export function sameServer(a: Redis, b: Redis): boolean {
  const x = a.options;
  const y = b.options;
  return x.host === y.host && x.port === y.port && (x.db ?? 0) === (y.db ?? 0) && x.path === y.path;
}
