/**
 * The servers a run compares, as the orchestrator sees them: which wrapper to fork, how devices
 * speak to it, and where its publish endpoints are. Herald is driven through its public API; the
 * peers get the same endpoints on plain `node:http` (see peer-http.ts), so every publish crosses
 * one HTTP request in every server.
 */
export type ServerId =
  | 'herald'
  | 'socketio'
  | 'ws'
  // issue 6: the other transports, and a plain node:http SSE server as their baseline
  | 'herald-sse'
  | 'herald-grpc'
  | 'herald-grpc-web'
  | 'sse-node'
  // issue 5: Herald on the Redis store; Socket.IO with connection-state recovery
  | 'herald-redis'
  | 'socketio-recovery'
  // issue 7: three nodes on one Redis each
  | 'herald-cluster'
  | 'socketio-cluster'
  // issue 16: Herald on the PostgreSQL store
  | 'herald-postgres';

/** How the bench's devices reach a server. */
export type Transport = 'ws' | 'sse' | 'grpc' | 'grpc-web';

export interface ServerKind {
  id: ServerId;
  label: string;
  /** Wrapper module, relative to bench/servers/. */
  script: string;
  paths: {
    broadcast: string;
    client(clientId: string): string;
    batch: string;
  };
  headers: Record<string, string>;
  /** How devices connect. @default 'ws' */
  transport?: Transport;
  /** Which device protocol of load/protocols.ts (WebSocket and SSE kinds). @default id */
  protocol?: ServerId;
  /** Settings every start of this kind gets (a scenario's own settings win). */
  settings?: Partial<ServerSettings>;
  /** Needs a private redis-server; the orchestrator starts one unless the settings name one. */
  redis?: boolean;
  /** Needs a private PostgreSQL; the orchestrator starts one unless the settings name one. */
  postgres?: boolean;
}

/** Shared secrets of the bench run (loopback only, never a real deployment). */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';
export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';

export const SERVER_KINDS: Record<ServerId, ServerKind> = {
  herald: {
    id: 'herald',
    label: 'Herald',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
  },
  socketio: {
    id: 'socketio',
    label: 'Socket.IO 4',
    script: 'socketio.ts',
    paths: { broadcast: '/broadcast', client: (c) => `/publish/${c}`, batch: '/batch' },
    headers: {},
  },
  ws: {
    id: 'ws',
    label: 'raw ws',
    script: 'raw-ws.ts',
    paths: { broadcast: '/broadcast', client: (c) => `/publish/${c}`, batch: '/batch' },
    headers: {},
  },
  'herald-sse': {
    id: 'herald-sse',
    label: 'Herald SSE',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    transport: 'sse',
  },
  'herald-grpc': {
    id: 'herald-grpc',
    label: 'Herald gRPC',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    transport: 'grpc',
    settings: { grpc: true },
  },
  'herald-grpc-web': {
    id: 'herald-grpc-web',
    label: 'Herald gRPC-Web',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    transport: 'grpc-web',
  },
  'sse-node': {
    id: 'sse-node',
    label: 'node:http SSE',
    script: 'sse-node.ts',
    paths: { broadcast: '/broadcast', client: (c) => `/publish/${c}`, batch: '/batch' },
    headers: {},
    transport: 'sse',
  },
  'herald-redis': {
    id: 'herald-redis',
    label: 'Herald + Redis store',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    protocol: 'herald',
    redis: true,
  },
  'socketio-recovery': {
    id: 'socketio-recovery',
    label: 'Socket.IO 4 + state recovery',
    script: 'socketio.ts',
    paths: { broadcast: '/broadcast', client: (c) => `/publish/${c}`, batch: '/batch' },
    headers: {},
    protocol: 'socketio',
    settings: { recovery: true },
  },
  'herald-cluster': {
    id: 'herald-cluster',
    label: 'Herald ×3 + Redis',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    protocol: 'herald',
    redis: true,
  },
  'herald-postgres': {
    id: 'herald-postgres',
    label: 'Herald + PostgreSQL store',
    script: 'herald.ts',
    paths: { broadcast: '/api/v1/broadcast', client: (c) => `/api/v1/clients/${c}/notifications`, batch: '/api/v1/batch' },
    headers: { authorization: `Bearer ${BENCH_API_KEY}` },
    protocol: 'herald',
    postgres: true,
  },
  'socketio-cluster': {
    id: 'socketio-cluster',
    label: 'Socket.IO ×3 + redis-adapter',
    script: 'socketio.ts',
    paths: { broadcast: '/broadcast', client: (c) => `/publish/${c}`, batch: '/batch' },
    headers: {},
    protocol: 'socketio',
    redis: true,
  },
};

/** The servers of issue 4's comparison: a scenario that names no servers runs against these. */
export const SERVER_ORDER: ServerId[] = ['herald', 'socketio', 'ws'];
/** Every server a run can pick (`--servers`); the later ones only in the scenarios that name them. */
export const ALL_SERVERS: ServerId[] = [
  ...SERVER_ORDER,
  'herald-sse',
  'herald-grpc',
  'herald-grpc-web',
  'sse-node',
  'herald-redis',
  'socketio-recovery',
  'herald-cluster',
  'socketio-cluster',
  'herald-postgres',
];

/** What a scenario may set when it starts a server. */
export interface ServerSettings {
  /** Application heartbeat interval (Herald ping, Socket.IO pingInterval, raw ws app ping). */
  heartbeatMs: number;
  /** How long a ping may wait for its pong. */
  heartbeatTimeoutMs: number;
  /** Herald: also serve gRPC (on a free port, reported as `info.grpcPort`). */
  grpc?: boolean;
  /** Herald: the Redis store and cluster broker; Socket.IO: the redis adapter. */
  redisUrl?: string;
  /** Herald: `redisUrl` is a seed of a Redis Cluster (REDIS_CLUSTER). */
  redisCluster?: boolean;
  /** Herald: the PostgreSQL store (`DATABASE_URL`). */
  databaseUrl?: string;
  /** Herald: `NODE_ID` in a cluster. */
  nodeId?: string;
  /** Socket.IO: `connectionStateRecovery` (in-memory adapter). */
  recovery?: boolean;
  /** Herald: run this build (a `dist/` directory) instead of the one under test (`--baseline-dist`). */
  dist?: string;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = { heartbeatMs: 30_000, heartbeatTimeoutMs: 10_000 };
