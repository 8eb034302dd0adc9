import type { HeraldConfig } from '../core/config.js';
import { type Cursor, isAfter, type StreamPos } from '../core/cursor.js';
import { invalid } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HeraldNode } from '../core/node.js';
import type { StoredNotification } from '../core/types.js';
import { sameServer } from '../store/redis-connection.js';
import { RedisStore } from '../store/redis-store.js';
import { RedisPushSubscriptionStore } from './redis-subscriptions.js';
import { PushSender, type PushSenderOptions, type PushStats } from './sender.js';
import { parsePushSubscription } from './subscription-input.js';
import { MemoryPushSubscriptionStore, type PushSubscriptionRecord, type PushSubscriptionStore } from './subscriptions.js';
import { resolveVapidKeys, type VapidKeys, VapidSigner } from './vapid.js';

export interface PushOptions extends PushSenderOptions {
  /** Where subscriptions live. @default a {@link MemoryPushSubscriptionStore} */
  store?: PushSubscriptionStore;
  /**
   * Which of a client's devices are attached right now, asked only when a client notification
   * was delivered live to some device (`delivered > 0`). The default reads this node's hub with
   * the local broker and `node.clientView()` (cluster-wide) with another.
   */
  attachedDevices?: (clientId: string) => Set<string> | Promise<Set<string>>;
  /** How long close() lets pushes in flight finish. @default 2000 */
  closeGraceMs?: number;
}

/** Subscription counters (the sender counts the pushes). */
export interface SubscriptionStats {
  added: number;
  removed: number;
}

/**
 * The Web Push fallback of one node (PROTOCOL.md "Web Push"): VAPID keys, the subscription
 * store, the sender, and the trigger. The node emits `published` after routing a notification;
 * each subscribed target device that was not attached then gets it once through Web Push.
 * Broadcasts are never pushed, nor a notification to a device in its `excludeDevices`.
 *
 * @example
 * const push = createPush(node, config, log);
 * registerPushRoutes(app, push);
 * node.onClose(() => push.close());
 */
export class WebPush {
  readonly vapid: VapidKeys;
  readonly store: PushSubscriptionStore;
  readonly sender: PushSender;
  readonly subscriptionStats: SubscriptionStats = { added: 0, removed: 0 };
  readonly allowedPrefixes: readonly string[];
  readonly #node: HeraldNode;
  readonly #log: Logger;
  readonly #attachedDevices: (clientId: string) => Set<string> | Promise<Set<string>>;
  readonly #closeGraceMs: number;
  readonly #ownsStore: boolean;
  #closed: Promise<void> | null = null;

  constructor(node: HeraldNode, config: HeraldConfig, log: Logger, opts: PushOptions = {}) {
    this.#node = node;
    this.#log = log;
    this.vapid = resolveVapidKeys(config);
    this.allowedPrefixes = config.PUSH_ALLOWED_ENDPOINTS;
    this.store = opts.store ?? new MemoryPushSubscriptionStore();
    this.#ownsStore = opts.store === undefined;
    this.#closeGraceMs = opts.closeGraceMs ?? 2000;
    // One node: the hub is the truth, read synchronously at routing time. A cluster: the
    // broker's cluster-wide view, read right after.
    this.#attachedDevices =
      opts.attachedDevices ?? (node.broker.kind === 'local' ? (clientId) => localAttached(node, clientId) : (clientId) => clusterAttached(node, clientId));
    const signer = new VapidSigner(this.vapid, { subject: config.VAPID_SUBJECT });
    const onGone = (sub: PushSubscriptionRecord) => {
      this.#forget(sub.clientId, sub.deviceId, sub.endpoint).catch((err) => log.warn({ err }, 'gone push subscription not removed'));
    };
    this.sender = new PushSender(signer, log, onGone, opts);
    if (this.vapid.generated && config.REDIS_URL) {
      log.warn(
        {},
        'VAPID keys were generated on this node: every node of a cluster needs the same VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY, or push services refuse pushes',
      );
    }
    node.on('published', this.#onPublished);
    node.on('deviceRemoved', this.#onDeviceRemoved);
    // Subscriptions on the Redis of the node's store: a publish's append counts them (issue 17).
    const store = this.store;
    if (store instanceof RedisPushSubscriptionStore && node.store instanceof RedisStore && sameServer(store.redis, node.store.redis)) {
      node.pushSubscriptionsKey = (clientId) => store.key(clientId);
    }
  }

  get publicKey(): string {
    return this.vapid.publicKey;
  }

  get stats(): PushStats {
    return this.sender.stats;
  }

  /** `POST /me/devices/<d>/push`: validates and stores (replacing the device's previous one). */
  async subscribe(clientId: string, deviceId: string, body: unknown): Promise<PushSubscriptionRecord> {
    const sub = parsePushSubscription(body, { clientId, deviceId, allowedPrefixes: this.allowedPrefixes, now: Date.now() });
    const previous = await this.store.get(clientId, deviceId);
    await this.store.put(sub);
    if (previous && previous.endpoint !== sub.endpoint) this.sender.cancel(previous.endpoint);
    if (!previous) this.subscriptionStats.added++;
    this.#log.debug({ clientId, deviceId, endpoint: new URL(sub.endpoint).origin }, 'push subscription stored');
    return sub;
  }

  /** `DELETE /me/devices/<d>/push`, and device removal. Whether there was one. */
  async unsubscribe(clientId: string, deviceId: string): Promise<boolean> {
    const sub = await this.store.get(clientId, deviceId);
    if (!sub) return false;
    return this.#forget(clientId, deviceId, sub.endpoint);
  }

  /** The devices of a client that have a push subscription (for `GET /api/v1/clients/<c>`). */
  async devicesWithPush(clientId: string): Promise<Set<string>> {
    return new Set((await this.store.list(clientId)).map((s) => s.deviceId));
  }

  /**
   * `POST /me/devices/<d>/ack {cursor}`: a service worker acknowledges a pushed notification, so
   * the device is not sent it again when it reconnects. The cursor is clamped to what the store
   * has handed out (an ack never reaches past the stream's head). A device with no stored cursor
   * that acks only a client position gets the broadcast head with it: its first stream then
   * resumes from here instead of replaying every retained broadcast.
   */
  async ack(clientId: string, deviceId: string, rawCursor: unknown): Promise<void> {
    if (typeof rawCursor !== 'string' || rawCursor === '') throw invalid('cursor', 'required');
    const cursor = this.#node.parseCursor(rawCursor) as Cursor;
    const store = this.#node.store;
    const [heads, stored] = await Promise.all([store.heads(clientId), store.getDeviceCursor(clientId, deviceId)]);
    const c = cursor.ce === heads.ce ? clamp(cursor.c, heads.c) : null;
    const b = cursor.b === null && stored === null ? heads.b : cursor.be === heads.be ? clamp(cursor.b, heads.b) : null;
    await store.saveDeviceCursor(clientId, deviceId, { c, ce: c === null ? null : heads.ce, b, be: b === null ? null : heads.be });
  }

  /** Stops the trigger and the sender (what waits is dropped; in-flight pushes get a grace). */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#node.off('published', this.#onPublished);
      this.#node.off('deviceRemoved', this.#onDeviceRemoved);
      this.#node.pushSubscriptionsKey = null;
      await this.sender.close(this.#closeGraceMs);
      // A store handed in (Redis) belongs to whoever made it.
      if (this.#ownsStore) await this.store.close();
    })();
    return this.#closed;
  }

  async #forget(clientId: string, deviceId: string, endpoint: string): Promise<boolean> {
    this.sender.cancel(endpoint);
    const removed = await this.store.remove(clientId, deviceId, endpoint);
    if (removed) this.subscriptionStats.removed++;
    return removed;
  }

  /**
   * Runs inside the publish, right after routing: it must not throw and must not wait. What is
   * decided here is decided from the moment of routing (who was attached then); the store read
   * and the queueing happen after.
   */
  readonly #onPublished = (n: StoredNotification, delivered: number, pushSubscriptions?: number): void => {
    try {
      if (n.clientId === null || n.kind !== undefined) return; // broadcasts and inbox events are never pushed
      if (pushSubscriptions === 0) return; // counted by the publish's append: nothing to read
      const clientId = n.clientId;
      if (n.deviceId !== null) {
        if (n.excludeDevices?.includes(n.deviceId)) return;
        // `delivered` is cluster-wide: 1 means the one target device got it live.
        if (delivered === 0) void this.#pushToDevice(n, clientId, n.deviceId);
        return;
      }
      // Nothing delivered anywhere: every subscribed device is a push target. Otherwise skip the
      // devices attached now (the snapshot is taken synchronously, at routing time).
      // Locally the snapshot is free and taken now; in a cluster it costs a Redis read, so it is
      // taken only for a client that has push subscriptions at all (most publishes stop at that).
      const local = this.#node.broker.kind === 'local';
      const attached = delivered === 0 ? null : local ? this.#attachedDevices(clientId) : () => this.#attachedDevices(clientId);
      void this.#pushToClient(n, clientId, attached);
    } catch (err) {
      this.#log.warn({ err, id: n.id }, 'push trigger failed');
    }
  };

  async #pushToDevice(n: StoredNotification, clientId: string, deviceId: string): Promise<void> {
    try {
      const sub = await this.store.get(clientId, deviceId);
      if (sub) this.sender.enqueue(sub, n);
    } catch (err) {
      this.#log.warn({ err, clientId, deviceId }, 'push subscription lookup failed; no push');
    }
  }

  async #pushToClient(
    n: StoredNotification,
    clientId: string,
    attachedAtRoute: Set<string> | Promise<Set<string>> | (() => Set<string> | Promise<Set<string>>) | null,
  ): Promise<void> {
    try {
      const subs = await this.store.list(clientId);
      if (subs.length === 0) return;
      const attached = await (typeof attachedAtRoute === 'function' ? attachedAtRoute() : attachedAtRoute);
      for (const sub of subs) if (!attached?.has(sub.deviceId) && !n.excludeDevices?.includes(sub.deviceId)) this.sender.enqueue(sub, n);
    } catch (err) {
      this.#log.warn({ err, clientId }, 'push subscription lookup failed; no push');
    }
  }

  readonly #onDeviceRemoved = (clientId: string, deviceId: string): void => {
    this.unsubscribe(clientId, deviceId).catch((err) => this.#log.warn({ err, clientId, deviceId }, 'push subscription not removed'));
  };
}

/** Builds the node's Web Push fallback (the lead's one line in server.ts). */
export function createPush(node: HeraldNode, config: HeraldConfig, log: Logger, opts: PushOptions = {}): WebPush {
  return new WebPush(node, config, log, opts);
}

function localAttached(node: HeraldNode, clientId: string): Set<string> {
  const out = new Set<string>();
  for (const d of node.hub.client(clientId).devices) if (d.state === 'attached') out.add(d.deviceId);
  return out;
}

async function clusterAttached(node: HeraldNode, clientId: string): Promise<Set<string>> {
  const fromRegistry = await node.broker.attachedDevices?.(clientId);
  if (fromRegistry) return fromRegistry;
  const view = await node.clientView(clientId);
  return new Set(view.devices.filter((d) => d.state === 'attached').map((d) => d.deviceId));
}

function clamp(p: StreamPos | null, head: StreamPos | null): StreamPos | null {
  if (p === null) return null;
  if (head === null) return null;
  return isAfter(p, head) ? head : p;
}
