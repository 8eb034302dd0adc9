import { GRPC_WEB_KIND } from '../connect/connection.js';
import type { DeviceTransport } from '../transport.js';
import { GRPC_KIND } from './connection.js';
import { GrpcTransport } from './server.js';

/**
 * `herald.v1.Notifications` on a port of its own (`GRPC_PORT`, `off` to leave it out), started
 * once the HTTP server listens (src/transports/index.ts registers it).
 */
export const grpcTransport: DeviceTransport = {
  kind: GRPC_KIND,
  register({ node, auth, closeLingerMs }) {
    const cfg = node.config;
    let grpc: GrpcTransport | null = null;
    return {
      async start() {
        if (cfg.GRPC_PORT === 'off') return null;
        grpc = new GrpcTransport(node, auth, {
          host: cfg.HOST,
          port: cfg.GRPC_PORT,
          // HTTP/2 PINGs find dead TCP peers; they are no substitute for the application heartbeat
          // (a frozen app's network stack still answers them), and too eager a timeout would drop
          // live connections on a busy event loop.
          keepaliveTimeMs: Math.max(500, cfg.HEARTBEAT_INTERVAL_MS),
          keepaliveTimeoutMs: Math.max(1000, cfg.HEARTBEAT_TIMEOUT_MS),
          shutdownGraceMs: closeLingerMs,
          ackKinds: [GRPC_WEB_KIND],
        });
        return grpc.listen();
      },
      async close() {
        await grpc?.close();
      },
    };
  },
};
