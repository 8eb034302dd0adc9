import { Counter, type Registry } from 'prom-client';

/** The parts of a node that may talk to Redis, by the `component` label they are counted under. */
export interface RedisComponents {
  store: unknown;
  broker: unknown;
  push: unknown;
}

/**
 * Anything that counts its failed Redis commands: `RedisStore`, `RedisBroker` and
 * `RedisPushSubscriptionStore` each keep `stats.redisErrors`. Read structurally, so the memory
 * store, the local broker and the memory push store simply count 0.
 */
function redisErrors(component: unknown): number | undefined {
  return stat(component, 'redisErrors');
}

function stat(component: unknown, name: 'redisErrors' | 'redisCommands'): number | undefined {
  const n = (component as { stats?: Record<string, unknown> } | null | undefined)?.stats?.[name];
  return typeof n === 'number' ? n : undefined;
}

/**
 * `herald_redis_errors_total{component="store"|"broker"|"push"}`: Redis commands that failed, and
 * `herald_redis_commands_total{component}`: Redis commands written (see store/redis-connection.ts), read
 * at scrape time from the counters the components keep (nothing on the hot path). `components` is
 * called at each scrape because Web Push is wired after the HTTP app is built. Registered only on a
 * node that uses Redis (`REDIS_URL`, or a Redis store or broker handed in): a single node without
 * Redis has nothing to count.
 */
export function registerRedisMetrics(registry: Registry, usesRedis: boolean, components: () => RedisComponents): void {
  const now = components();
  if (!usesRedis && redisErrors(now.store) === undefined && redisErrors(now.broker) === undefined) return;
  new Counter({
    name: 'herald_redis_errors_total',
    help: 'Redis commands that failed, by the component that sent them (store, broker, push)',
    labelNames: ['component'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [component, source] of Object.entries(components())) this.inc({ component }, redisErrors(source) ?? 0);
    },
  });
  new Counter({
    name: 'herald_redis_commands_total',
    help: 'Redis commands written, by the component that sent them (store, broker, push); a script call is one',
    labelNames: ['component'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [component, source] of Object.entries(components())) this.inc({ component }, stat(source, 'redisCommands') ?? 0);
    },
  });
}
