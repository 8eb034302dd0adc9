import { EventEmitter } from 'node:events';
import type { Hub } from '../core/hub.js';
import type { PresenceEvent, PresenceEvents, PresenceTracker } from '../core/presence.js';
import { WheelTimer } from '../core/wheel.js';

export interface ClusterPresenceOptions {
  /** PRESENCE_GRACE_MS: how long a client with no attached device stays online. */
  graceMs: number;
  /** Confirms an offline transition in Redis by its token: the epoch, or 0 when it did not happen. */
  goOffline(clientId: string, token: string): Promise<number>;
  /** A Redis call failed (counted and logged by the broker). */
  failed(what: string, err: unknown): void;
}

/**
 * Presence for a cluster: transitions are decided by the Redis scripts (one online and one offline
 * per client across all nodes, with cluster-wide epochs) and announced by the node that caused
 * them; the hub's own calls are no-ops. The hub is built with it (`Broker.createPresence`), so a
 * listener gets the cluster's events whenever it subscribed.
 */
export class ClusterPresence extends EventEmitter<PresenceEvents> implements PresenceTracker {
  readonly #hub: Hub;
  readonly #o: ClusterPresenceOptions;
  /** Clients whose last device detached on this node, waiting for their grace period to end. */
  readonly #offline = new Map<string, WheelTimer>();

  constructor(hub: Hub, opts: ClusterPresenceOptions) {
    super();
    this.#hub = hub;
    this.#o = opts;
  }

  deviceConnected(): void {}
  deviceDisconnected(): void {}

  isOnline(clientId: string): boolean {
    return this.#hub.hasSessions(clientId);
  }

  epochOf(): number {
    return 0;
  }

  get onlineCount(): number {
    return this.#hub.localClientCount;
  }

  flushPending(): void {}

  /** Emits a transition Redis decided. */
  announce(e: PresenceEvent): void {
    this.emit('event', e);
  }

  /** A device of the client attached again: its pending offline here is moot. */
  cancelOffline(clientId: string): void {
    const pending = this.#offline.get(clientId);
    if (!pending) return;
    this.#hub.wheel.cancel(pending);
    this.#offline.delete(clientId);
  }

  /**
   * The client's last attached device detached: it goes offline after the grace period unless one
   * attaches meanwhile anywhere (Redis drops the token then, and the check does nothing).
   */
  offlineAfterGrace(clientId: string, token: string, now: number): void {
    const check: WheelTimer = new WheelTimer(() => this.#graceEnded(clientId, token, check));
    this.cancelOffline(clientId);
    this.#offline.set(clientId, check);
    if (this.#o.graceMs === 0) check.fire(now);
    else this.#hub.wheel.schedule(check, now + this.#o.graceMs);
  }

  /** The grace period of the client's pending offline (`check`) ended: Redis decides. */
  #graceEnded(clientId: string, token: string, check: WheelTimer): void {
    if (this.#offline.get(clientId) === check) this.#offline.delete(clientId);
    this.#o
      .goOffline(clientId, token)
      .then((epoch) => {
        if (epoch > 0) this.announce({ type: 'client.offline', clientId, ts: Date.now(), epoch });
      })
      .catch((err) => this.#o.failed('offline check', err));
  }

  /** Stops the pending checks (shutdown). */
  close(): void {
    for (const check of this.#offline.values()) this.#hub.wheel.cancel(check);
  }
}
