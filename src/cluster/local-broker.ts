import type { Broker, BrokerContext } from '../core/broker.js';
import { Outgoing } from '../core/frames.js';
import type { Hub } from '../core/hub.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { StoredNotification } from '../core/types.js';
import { OrderedDelivery } from './ordered-delivery.js';

/**
 * Single node: a publish goes straight to this process's hub, in stream order. Entries can resolve
 * out of order even here (a `state` event waits for its counts; a pooled store answers concurrent
 * appends in any order), so they go through the same {@link OrderedDelivery} as a cluster's: in
 * the common case that is a map lookup and a comparison, and a gap is read from the store.
 */
export class LocalBroker implements Broker {
  readonly kind = 'local' as const;
  readonly #log: Logger;
  #hub: Hub | null = null;
  #delivery: OrderedDelivery | null = null;

  constructor(log: Logger = silentLogger) {
    this.#log = log;
  }

  async start(hub: Hub, ctx?: BrokerContext): Promise<void> {
    this.#hub = hub;
    if (ctx) this.#delivery = new OrderedDelivery(hub, ctx, { failed: (what, err) => this.#log.warn({ err }, `local broker: ${what} failed`) });
  }

  async route(n: StoredNotification): Promise<number> {
    const hub = this.#hub;
    if (!hub) return 0;
    if (!this.#delivery) return hub.deliver(new Outgoing(n));
    // Handed over now, or (waiting for a gap) a moment later: `delivered` counts its targets either way.
    return this.#delivery.routed(n) || hub.countTargets(n);
  }

  async close(): Promise<void> {
    this.#hub = null;
  }
}
