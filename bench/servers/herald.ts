import type { startHerald as StartHerald } from '../../src/server.js';
import { runServer } from './control.js';
import { BENCH_API_KEY, BENCH_JWT_SECRET } from './kinds.js';

/**
 * Herald as `npm run build` leaves it (dist/, not the TypeScript sources through a loader), so the
 * profile and the numbers are those of the shipped code.
 */
const DIST_SERVER = new URL('../../dist/server.js', import.meta.url).href;

runServer(async (s) => {
  const { startHerald } = (await import(DIST_SERVER)) as { startHerald: typeof StartHerald };
  const herald = await startHerald({
    HOST: '127.0.0.1',
    PORT: 0,
    GRPC_PORT: 'off',
    API_KEY: BENCH_API_KEY,
    JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'warn',
    HEARTBEAT_INTERVAL_MS: s.heartbeatMs,
    HEARTBEAT_TIMEOUT_MS: s.heartbeatTimeoutMs,
  });
  const c = herald.config;
  return {
    port: herald.port,
    info: { store: herald.node.store.kind, maxConnections: c.MAX_CONNECTIONS, sendQueueMessages: c.SEND_QUEUE_MESSAGES, heartbeatMs: c.HEARTBEAT_INTERVAL_MS },
  };
});
