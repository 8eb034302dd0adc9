import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { startHerald as StartHerald } from '../../src/server.js';
import { runServer } from './control.js';
import { BENCH_API_KEY, BENCH_JWT_SECRET } from './kinds.js';

/**
 * Herald as `npm run build` leaves it (dist/, not the TypeScript sources through a loader), so the
 * profile and the numbers are those of the shipped code. `BENCH_HERALD_DIST` (the bench's
 * `--herald-dist`) points at another build, to measure a candidate change beside the same peers.
 */
const DIST_SERVER = process.env.BENCH_HERALD_DIST
  ? pathToFileURL(resolve(process.env.BENCH_HERALD_DIST, 'server.js')).href
  : new URL('../../dist/server.js', import.meta.url).href;

runServer(async (s) => {
  const dist = s.dist ? pathToFileURL(resolve(s.dist, 'server.js')).href : DIST_SERVER;
  const { startHerald } = (await import(dist)) as { startHerald: typeof StartHerald };
  const herald = await startHerald({
    HOST: '127.0.0.1',
    PORT: 0,
    GRPC_PORT: s.grpc ? 0 : 'off',
    ...(s.redisUrl ? { REDIS_URL: s.redisUrl } : {}),
    ...(s.redisCluster ? { REDIS_CLUSTER: 'true' } : {}),
    ...(s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : {}),
    ...(s.nodeId ? { NODE_ID: s.nodeId } : {}),
    API_KEY: BENCH_API_KEY,
    JWT_SECRET: BENCH_JWT_SECRET,
    LOG_LEVEL: 'warn',
    HEARTBEAT_INTERVAL_MS: s.heartbeatMs,
    HEARTBEAT_TIMEOUT_MS: s.heartbeatTimeoutMs,
  });
  const c = herald.config;
  return {
    port: herald.port,
    info: {
      grpcPort: herald.grpcPort,
      node: c.NODE_ID,
      dist,
      store: herald.node.store.kind,
      maxConnections: c.MAX_CONNECTIONS,
      sendQueueMessages: c.SEND_QUEUE_MESSAGES,
      heartbeatMs: c.HEARTBEAT_INTERVAL_MS,
    },
  };
});
