import type { Redis } from 'ioredis';
import type { Hub } from '../core/hub.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/types.js';
import type { ClusterPresence } from './cluster-presence.js';
import type { ClusterKeys } from './keys.js';
import type { ClusterScripts } from './redis-scripts.js';

/** What the Redis broker is built with (createBroker fills it from the configuration). */
export interface RedisBrokerOptions {
  /** REDIS_URL */
  url: string;
  /** REDIS_CLUSTER: `url` is a seed node of a Redis Cluster. @default false */
  cluster?: boolean;
  /** NODE_ID: names this node's inbox channel and its entries in the registry. */
  nodeId: string;
  /** The message store: gaps and recovery are read from it. */
  store: Store;
  /** @default 'herald:' (same layout rules as the Redis store: no braces) */
  prefix?: string;
  nodeHeartbeatMs: number;
  nodeDeadAfterMs: number;
  detachedTtlMs: number;
  presenceGraceMs: number;
  maxDevicesPerClient: number;
  clientLimitPolicy: 'evict-oldest' | 'reject';
  log: Logger;
  /**
   * Sharded pub/sub for stream channels: by default when the server is Redis ≥ 7; false forces
   * classic PUBLISH/SUBSCRIBE (a proxy or Redis-compatible server without it; tests).
   */
  shardedPubSub?: boolean;
}

/**
 * What the cluster layer counts (`RedisBroker.stats`). `redisErrors` is served as
 * `herald_redis_errors_total{component="broker"}` on /metrics (api/redis-metrics.ts); the others
 * are served by no endpoint: tests and a debugger read them.
 */
export interface ClusterStats {
  /** Every Redis command or script that failed, whatever it was for. */
  redisErrors: number;
  /** Commands written to Redis by both connections (`herald_redis_commands_total{component="broker"}`). */
  redisCommands: number;
  gapsRepaired: number;
  kicksSent: number;
  deadNodesCleaned: number;
  /** Pub/sub messages that were not ours (not JSON, a field missing): dropped. */
  malformedMessages: number;
}

/**
 * What the parts of the Redis broker (registry, control, membership) share: one command
 * connection, the key names, the scripts, the hub, presence, counters, and one way to report a
 * failed Redis call.
 */
export interface ClusterContext {
  readonly opts: RedisBrokerOptions;
  readonly nodeId: string;
  readonly cmd: Redis;
  readonly keys: ClusterKeys;
  readonly scripts: ClusterScripts;
  readonly hub: Hub;
  readonly presence: ClusterPresence;
  readonly stats: ClusterStats;
  readonly log: Logger;
  /** How long a client's registry and presence keys outlive its last attached device. */
  readonly keepMs: number;
  /** A Redis call failed: counted in {@link ClusterStats.redisErrors} and logged with its error. */
  failed(what: string, err: unknown): void;
}
