import type { FastifyInstance } from 'fastify';
import type { Auth } from '../auth/auth.js';
import type { HeraldNode } from '../core/node.js';
import type { TransportKind } from '../core/session.js';

/** What every transport is given to plug itself into a node. */
export interface TransportContext {
  node: HeraldNode;
  auth: Auth;
  /** The HTTP server's app: routes, and its `server` for upgrade handlers. */
  app: FastifyInstance;
  /**
   * How long an ended stream's last bytes (close frame, final message) get to leave before the
   * stream is destroyed; the same for every transport (see ./teardown.ts).
   */
  closeLingerMs: number;
}

/**
 * A device transport as src/transports/index.ts registers it: a kind and a way to plug into a
 * node. A new transport is a folder exporting one of these, and one line in index.ts.
 */
export interface DeviceTransport {
  /** Its name in device views, stats keys and metric labels ('ws'). */
  readonly kind: TransportKind;
  /** Runs before the HTTP server listens: routes, upgrade handlers, nothing that accepts yet. */
  register(ctx: TransportContext): RegisteredTransport;
}

/** A transport plugged into a node. */
export interface RegisteredTransport {
  /** After the HTTP server listens: listeners of its own. Resolves with the port it bound, if it did. */
  start?(): Promise<number | null>;
  /** Stops accepting and destroys what is left (end of shutdown, after the drain). */
  close(): Promise<void> | void;
}
