import type { Redis } from 'ioredis';
import type { Hub } from '../core/hub.js';
import type { ClusterKeys } from './keys.js';

/**
 * This node's subscriptions to stream channels (issue 17: route by channel): the broadcast
 * stream's from start to close, and each client's while the node holds a session of it, so a
 * publish is one message to the nodes that hold its client, with no registry read to route it.
 *
 * Sharded pub/sub (`SSUBSCRIBE`, Redis ≥ 7) keeps a channel on the shard that owns its slot (the
 * client's `{client}` slot, where its stream lives); classic `SUBSCRIBE` otherwise. Both run on the
 * pub/sub connection, whose commands Redis answers in order: a subscribe after an unsubscribe of
 * the same channel leaves it subscribed. ioredis subscribes again after a reconnect.
 */
export class StreamChannels {
  readonly #sub: Redis;
  readonly #keys: ClusterKeys;
  readonly #hub: Hub;
  readonly #sharded: boolean;
  /** Clients whose channel is subscribed (or being subscribed): the subscription's reply. */
  readonly #held = new Map<string, Promise<void>>();
  /**
   * Unsubscribes not yet answered, by client: a new subscription of the same channel is written
   * after the answer, not beside it. On one connection Redis answers in order anyway; a Redis
   * Cluster client may hold or resend a command for a shard (registry.ts saw a claim written after
   * a later one), and an unsubscribe run after the subscribe would leave a device here unfollowed.
   */
  readonly #leaving = new Map<string, Promise<void>>();

  constructor(sub: Redis, keys: ClusterKeys, hub: Hub, sharded: boolean) {
    this.#sub = sub;
    this.#keys = keys;
    this.#hub = hub;
    this.#sharded = sharded;
  }

  /** The broadcast channel, for the node's whole life. */
  async start(): Promise<void> {
    await this.#subscribe(this.#keys.channel(null));
  }

  /**
   * Subscribes to the client's channel unless it is already (a session of it attached here);
   * resolves once Redis confirmed. Rejects at once while the pub/sub connection is down (nothing
   * is queued: the stream is closed for a retry rather than left waiting for Redis). A failed
   * subscription is forgotten, so the next attempt retries.
   */
  follow(clientId: string): Promise<void> {
    let p = this.#held.get(clientId);
    if (p) return p;
    if (!this.#hub.hasSessions(clientId)) return Promise.resolve();
    if (this.#sub.status !== 'ready') return Promise.reject(new Error(`redis pub/sub connection is ${this.#sub.status}: cannot follow ${clientId}`));
    const leaving = this.#leaving.get(clientId);
    const channel = this.#keys.channel(clientId);
    p = (leaving ? leaving.then(() => this.#subscribe(channel)) : this.#subscribe(channel)).catch((err: unknown) => {
      if (this.#held.get(clientId) === p) this.#held.delete(clientId);
      throw err;
    });
    this.#held.set(clientId, p);
    return p;
  }

  /** A session of the client ended here: unsubscribes when it was the last. */
  left(clientId: string, failed: (err: unknown) => void): void {
    if (this.#hub.hasSessions(clientId) || !this.#held.delete(clientId)) return;
    const channel = this.#keys.channel(clientId);
    const done = (this.#sharded ? this.#sub.sunsubscribe(channel) : this.#sub.unsubscribe(channel)).then(
      () => {},
      (err: unknown) => failed(err),
    );
    this.#leaving.set(clientId, done);
    void done.then(() => {
      if (this.#leaving.get(clientId) === done) this.#leaving.delete(clientId);
    });
  }

  async #subscribe(channel: string): Promise<void> {
    await (this.#sharded ? this.#sub.ssubscribe(channel) : this.#sub.subscribe(channel));
  }
}
