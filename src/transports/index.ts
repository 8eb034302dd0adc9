import type { TransportKind } from '../core/session.js';
import { connectTransport } from './connect/index.js';
import { grpcTransport } from './grpc/index.js';
import { sseTransport } from './sse.js';
import { closeLingerMs } from './teardown.js';
import type { DeviceTransport, RegisteredTransport, TransportContext } from './transport.js';
import { wsTransport } from './ws.js';

/**
 * Every device transport, the one place they are registered: a new transport is a file or folder
 * exporting a {@link DeviceTransport}, and one line here. Their kinds key every count by
 * transport (stats, metrics, the dashboard), in this order.
 */
export const TRANSPORTS: readonly DeviceTransport[] = [wsTransport, sseTransport, grpcTransport, connectTransport];

/** The kinds of {@link TRANSPORTS}: for what must list them before a node starts (API schemas). */
export const TRANSPORT_KINDS: readonly TransportKind[] = TRANSPORTS.map((t) => t.kind);

/** The started transports, as the node's shutdown closes them. */
export interface TransportsHandle {
  /** The port each transport with a listener of its own bound, by kind. */
  ports: Readonly<Record<TransportKind, number>>;
  /** The gRPC port when gRPC is on (`Herald.grpcPort`). */
  grpcPort: number | null;
  /** Stops accepting and destroys what is left (end of shutdown). */
  close(): Promise<void>;
}

/**
 * Plugs every transport into the node. `register` (now) runs before the HTTP server listens
 * (routes, upgrade handler); `start` after it (listeners of their own, such as gRPC's port).
 */
export function registerTransports(ctx: Omit<TransportContext, 'closeLingerMs'>): { start(): Promise<TransportsHandle> } {
  const full: TransportContext = { ...ctx, closeLingerMs: closeLingerMs(ctx.node.config) };
  const registered: [TransportKind, RegisteredTransport][] = TRANSPORTS.map((t) => {
    ctx.node.hub.addTransportKind(t.kind);
    return [t.kind, t.register(full)];
  });
  return {
    async start() {
      const ports: Record<TransportKind, number> = {};
      for (const [kind, t] of registered) {
        const port = (await t.start?.()) ?? null;
        if (port !== null) ports[kind] = port;
      }
      return {
        ports,
        grpcPort: ports[grpcTransport.kind] ?? null,
        async close() {
          for (const [, t] of registered) await t.close();
        },
      };
    },
  };
}
