import type { FastifyInstance } from 'fastify';
import type { Auth } from '../auth/auth.js';
import type { HeraldNode } from '../core/node.js';
import { GrpcTransport } from './grpc/server.js';
import { SseTransport } from './sse.js';
import { WsTransport } from './ws.js';

export interface TransportContext {
  node: HeraldNode;
  auth: Auth;
  app: FastifyInstance;
}

export interface TransportsHandle {
  /** The gRPC port when gRPC is on. */
  grpcPort: number | null;
  /** Stops accepting and destroys what is left (end of shutdown). */
  close(): Promise<void>;
}

/**
 * Every device transport. `register` runs before the HTTP server listens (routes, upgrade
 * handler); `start` after it (listeners of their own, such as gRPC's port).
 */
export function registerTransports(ctx: TransportContext): { start(): Promise<TransportsHandle> } {
  const { node, auth, app } = ctx;
  const cfg = node.config;
  // A closed stream's last bytes get about one pong timeout to leave, within [1 s, 10 s].
  const closeLingerMs = Math.min(10_000, Math.max(1000, cfg.HEARTBEAT_TIMEOUT_MS));
  const ws = new WsTransport(node, auth, { closeLingerMs });
  ws.attach(app.server);
  // A device whose stream dropped counts as gone after a pong timeout; an EventSource comes back
  // well within it (capped at 3 s, the browsers' own default).
  const sse = new SseTransport(node, auth, { retryMs: Math.min(3000, cfg.HEARTBEAT_TIMEOUT_MS), closeLingerMs });
  sse.register(app);
  return {
    async start() {
      let grpc: GrpcTransport | null = null;
      let grpcPort: number | null = null;
      if (cfg.GRPC_PORT !== 'off') {
        grpc = new GrpcTransport(node, auth, {
          host: cfg.HOST,
          port: cfg.GRPC_PORT,
          // HTTP/2 PINGs find dead TCP peers; they are no substitute for the application heartbeat
          // (a frozen app's network stack still answers them), and too eager a timeout would drop
          // live connections on a busy event loop.
          keepaliveTimeMs: Math.max(500, cfg.HEARTBEAT_INTERVAL_MS),
          keepaliveTimeoutMs: Math.max(1000, cfg.HEARTBEAT_TIMEOUT_MS),
          shutdownGraceMs: closeLingerMs,
        });
        grpcPort = await grpc.listen();
      }
      return {
        grpcPort,
        async close() {
          ws.detach(app.server);
          ws.close();
          sse.close();
          await grpc?.close();
        },
      };
    },
  };
}
