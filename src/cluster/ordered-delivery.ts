import type { BrokerContext } from '../core/broker.js';
import { Outgoing } from '../core/frames.js';
import type { Hub } from '../core/hub.js';
import type { StoredNotification } from '../core/types.js';
import { StreamOrder } from './stream-order.js';

/** Counters and error reports of the delivery (the Redis broker counts them; a local broker logs). */
export interface OrderedDeliveryHooks {
  /** A store read for a gap repair succeeded. */
  repaired?(): void;
  /** A store read failed. */
  failed(what: string, err: unknown): void;
}

/**
 * The hub's sessions fed in stream order ({@link StreamOrder}) whatever order entries reach this
 * node in: pub/sub from other nodes, or this node's own publishes and inbox changes, which may
 * resolve out of order (a `state` event waits for its counts read; a pooled store answers
 * concurrent appends in any order). Gaps are read from the store with counts for this node's
 * devices; an entry that arrives lacking counts for one of them is counted before it goes in.
 */
export class OrderedDelivery {
  readonly order: StreamOrder;
  readonly #ctx: BrokerContext;
  readonly #hooks: OrderedDeliveryHooks;

  constructor(hub: Hub, ctx: BrokerContext, hooks: OrderedDeliveryHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.order = new StreamOrder({
      holds: (clientId) => (clientId === null ? hub.connectionCount > 0 : hub.hasSessions(clientId)),
      range: async (clientId, after, upTo) => ctx.counted(await ctx.store.range(clientId, after, upTo, Date.now())),
      head: async (clientId) => {
        const heads = await ctx.store.heads(clientId ?? '-');
        return clientId === null ? heads.b : heads.c;
      },
      deliver: (n) => hub.deliver(new Outgoing(n)),
      repaired: () => hooks.repaired?.(),
      failed: (what, err) => hooks.failed(what, err),
    });
    hub.on('detached', (s) => this.order.sessionLeft(s.device.clientId));
    hub.on('live', (s, head) => this.order.sessionLive(s.device.clientId, head));
  }

  /**
   * An entry routed by this node: its `state` counts were read for every device attached here
   * when it was routed (one that attached since replays it, or is placed after it), so it goes in
   * as it is. Returns how many local sessions got it now.
   */
  routed(n: StoredNotification): number {
    return this.order.arrived(n);
  }

  /** An entry from another node: counted first when it lacks counts for a device attached here. */
  received(n: StoredNotification): void {
    if (!this.#ctx.needsCounts(n)) {
      this.order.arrived(n);
      return;
    }
    // What arrives meanwhile sees a gap and repairs it from the store (counted there); this one
    // is then a duplicate and dropped, so the order holds either way.
    this.#ctx.counted([n]).then(
      ([counted]) => this.order.arrived(counted),
      (err) => this.#hooks.failed('inbox counts', err),
    );
  }
}
