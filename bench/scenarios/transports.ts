import { pairTarget } from '../lib/targets.js';
import type { ServerId } from '../servers/kinds.js';
import { broadcastFanout } from './broadcast-fanout.js';
import { idleMemory } from './idle-memory.js';
import type { Scenario } from './types.js';

/**
 * Issue 6: the same idle-memory and fan-out measurements as issue 4's, for Herald's SSE and gRPC
 * transports and gRPC-Web on the HTTP port (issue 18) beside its WebSocket, and a plain node:http SSE server (servers/sse-node.ts) as the
 * SSE baseline. SSE devices use a raw-HTTP SSE reader, gRPC devices @grpc/grpc-js with raw codecs
 * (load/streams.ts), so the load generator does the same byte checks on every transport.
 */
const TRANSPORT_SERVERS: ServerId[] = ['herald', 'herald-sse', 'herald-grpc', 'herald-grpc-web', 'sse-node'];
const RATIOS: [ServerId, ServerId][] = [
  ['herald-sse', 'sse-node'],
  ['herald-sse', 'herald'],
  ['herald-grpc', 'herald'],
  ['herald-grpc-web', 'herald'],
  ['herald-grpc-web', 'herald-grpc'],
];

export const transportMemory: Scenario = {
  ...idleMemory,
  id: 'transport-memory',
  title: 'Idle memory per connection by transport: WebSocket, SSE, gRPC (after GC)',
  servers: TRANSPORT_SERVERS,
  ratios: RATIOS,
  targets: [],
};

export const transportFanout: Scenario = {
  ...broadcastFanout,
  id: 'transport-fanout',
  title: 'Broadcast fan-out by transport, one broadcast at a time',
  servers: TRANSPORT_SERVERS,
  ratios: RATIOS,
  targets: [
    pairTarget('sse-fanout-vs-node', "Herald's SSE fan-out ≥ 1.0 × plain node:http SSE (deliveries/s)", 'deliveriesPerSec', 'herald-sse', '>=', 1, 'sse-node'),
    pairTarget('sse-fanout-p99-vs-node', "Herald's SSE fan-out p99 ≤ 1.1 × plain node:http SSE", 'p99', 'herald-sse', '<=', 1.1, 'sse-node'),
  ],
  charts: [
    { title: 'Broadcast fan-out by transport', unit: 'deliveries/s', keys: [{ key: 'deliveriesPerSec', label: 'deliveries/s' }] },
    {
      title: 'Fan-out latency by transport',
      unit: 'ms',
      log: true,
      keys: [
        { key: 'p50', label: 'p50' },
        { key: 'p99', label: 'p99' },
      ],
    },
  ],
};
