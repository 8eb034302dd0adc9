import { broadcastFanout } from './broadcast-fanout.js';
import { connectRate } from './connect-rate.js';
import { heartbeatCost } from './heartbeat-cost.js';
import { idleMemory } from './idle-memory.js';
import { sustainedBroadcast } from './sustained-broadcast.js';
import { targetedPublish } from './targeted-publish.js';
import type { Scenario } from './types.js';

/** Every scenario, in run order. A new one (SSE, gRPC, Redis store, cluster) is one more import here. */
export const SCENARIOS: Scenario[] = [idleMemory, connectRate, broadcastFanout, sustainedBroadcast, targetedPublish, heartbeatCost];
