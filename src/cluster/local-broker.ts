import type { Broker } from '../core/broker.js';
import { Outgoing } from '../core/frames.js';
import type { Hub } from '../core/hub.js';
import type { StoredNotification } from '../core/types.js';

/** Single node: a publish goes straight to this process's hub. */
export class LocalBroker implements Broker {
  readonly kind = 'local' as const;
  #hub: Hub | null = null;

  async start(hub: Hub): Promise<void> {
    this.#hub = hub;
  }

  async route(n: StoredNotification): Promise<number> {
    return this.#hub ? this.#hub.deliver(new Outgoing(n)) : 0;
  }

  async close(): Promise<void> {
    this.#hub = null;
  }
}
