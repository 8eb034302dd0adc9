import { broadcastFanout } from './broadcast-fanout.js';
import { cluster } from './cluster.js';
import { clusterScaling } from './cluster-scaling.js';
import { connectRate } from './connect-rate.js';
import { heartbeatCost } from './heartbeat-cost.js';
import { idleMemory } from './idle-memory.js';
import { inboxFanout } from './inbox-fanout.js';
import { inboxPublish } from './inbox-publish.js';
import { postgresStorePublish } from './postgres-store-publish.js';
import { reconnectStorm } from './reconnect-storm.js';
import { redisStorePublish } from './redis-store-publish.js';
import { sustainedBroadcast } from './sustained-broadcast.js';
import { targetedPublish } from './targeted-publish.js';
import { transportFanout, transportMemory } from './transports.js';
import type { Scenario } from './types.js';

/** Every scenario, in run order: issue 4's comparison, then the transports (6), the Redis store (5), the cluster (7) and its scaling (17), the PostgreSQL store (16) and the inbox (15). */
export const SCENARIOS: Scenario[] = [
  idleMemory,
  connectRate,
  broadcastFanout,
  sustainedBroadcast,
  targetedPublish,
  heartbeatCost,
  transportMemory,
  transportFanout,
  redisStorePublish,
  reconnectStorm,
  cluster,
  clusterScaling,
  postgresStorePublish,
  inboxPublish,
  inboxFanout,
];
