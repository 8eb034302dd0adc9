import type { FastifyInstance } from 'fastify';
import type { Auth } from '../api/auth.js';
import type { HeraldNode } from '../core/node.js';
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
  const ws = new WsTransport(node, auth, { closeLingerMs: Math.min(10_000, Math.max(1000, cfg.HEARTBEAT_TIMEOUT_MS)) });
  ws.attach(app.server);
  return {
    async start() {
      return {
        grpcPort: null,
        async close() {
          ws.detach(app.server);
          ws.close();
        },
      };
    },
  };
}
