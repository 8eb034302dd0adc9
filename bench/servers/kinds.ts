/**
 * The servers a run compares, as the orchestrator sees them: which wrapper to fork, how devices
 * speak to it, and where its publish endpoints are. Herald is driven through its public API; the
 * peers get the same endpoints on plain `node:http` (see peer-http.ts), so every publish crosses
 * one HTTP request in every server.
 */
export type ServerId = 'herald' | 'socketio' | 'ws';

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
};

export const SERVER_ORDER: ServerId[] = ['herald', 'socketio', 'ws'];

/** What a scenario may set when it starts a server. */
export interface ServerSettings {
  /** Application heartbeat interval (Herald ping, Socket.IO pingInterval, raw ws app ping). */
  heartbeatMs: number;
  /** How long a ping may wait for its pong. */
  heartbeatTimeoutMs: number;
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = { heartbeatMs: 30_000, heartbeatTimeoutMs: 10_000 };
