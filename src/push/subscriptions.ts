/**
 * Push subscriptions, one per device (PROTOCOL.md "Web Push"). The store is an interface so a
 * cluster keeps them in Redis beside the registry; {@link MemoryPushSubscriptionStore} is the
 * embedded default.
 *
 * Lifetime: a subscription is what lets Herald reach a device whose stream is gone, so it is
 * NOT dropped when the hub's stale sweep forgets a detached registration (that happens
 * DETACHED_TTL_MS — 90 s by default — after the stream ended, long before a phone that the OS put
 * to sleep wakes up). It ends when the device unsubscribes (`DELETE /me/devices/<d>/push`), when
 * the device is removed (`DELETE /me/devices/<d>`, the publisher API's DELETE), when the push
 * service answers 404/410, when its `expirationTime` passes, or when it is replaced.
 */
export interface PushSubscriptionRecord {
  readonly clientId: string;
  readonly deviceId: string;
  /** Normalised URL (`new URL(x).href`): the one that was checked against the allowed prefixes. */
  readonly endpoint: string;
  /** base64url, 65-byte uncompressed P-256 point. */
  readonly p256dh: string;
  /** base64url, 16 bytes. */
  readonly auth: string;
  /** ms since epoch after which the browser no longer honours it, or null. */
  readonly expirationTime: number | null;
  /**
   * The endpoint matched a prefix naming its host (operator-chosen push services); false when
   * only a scheme-wide prefix such as the default `https://` matched, in which case the sender
   * refuses to connect to loopback, private and link-local addresses.
   */
  readonly hostAllowed: boolean;
  readonly createdAt: number;
}

/**
 * Where subscriptions live. Memory now; Redis (a hash per client, `{client}` hash tag) for a
 * cluster. Every method may be called concurrently; `remove` with an `endpoint` is a
 * compare-and-delete, so a 410 for an old endpoint never deletes the device's newer one.
 */
export interface PushSubscriptionStore {
  readonly kind: 'memory' | 'redis';
  /** Adds or replaces the device's subscription. */
  put(sub: PushSubscriptionRecord): Promise<void>;
  get(clientId: string, deviceId: string): Promise<PushSubscriptionRecord | null>;
  /** Every subscribed device of a client. */
  list(clientId: string): Promise<PushSubscriptionRecord[]>;
  /** Removes the device's subscription (only if it still has this endpoint, when given). */
  remove(clientId: string, deviceId: string, endpoint?: string): Promise<boolean>;
  close(): Promise<void>;
}

export interface MemoryPushSubscriptionStoreOptions {
  /**
   * Subscriptions kept per client; beyond it the least recently subscribed is dropped. Bounds
   * memory when devices come and go without ever unsubscribing. @default 32
   */
  maxPerClient?: number;
}

/** The embedded default: a map of clients to their devices' subscriptions. */
export class MemoryPushSubscriptionStore implements PushSubscriptionStore {
  readonly kind = 'memory' as const;
  readonly #byClient = new Map<string, Map<string, PushSubscriptionRecord>>();
  readonly #maxPerClient: number;

  constructor(opts: MemoryPushSubscriptionStoreOptions = {}) {
    this.#maxPerClient = opts.maxPerClient ?? 32;
  }

  /** Number of subscriptions held (a gauge). */
  get size(): number {
    let n = 0;
    for (const m of this.#byClient.values()) n += m.size;
    return n;
  }

  async put(sub: PushSubscriptionRecord): Promise<void> {
    let devices = this.#byClient.get(sub.clientId);
    if (!devices) {
      devices = new Map();
      this.#byClient.set(sub.clientId, devices);
    }
    // Delete first so insertion order is subscription order (the eviction order).
    devices.delete(sub.deviceId);
    devices.set(sub.deviceId, sub);
    while (devices.size > this.#maxPerClient) devices.delete(devices.keys().next().value as string);
  }

  async get(clientId: string, deviceId: string): Promise<PushSubscriptionRecord | null> {
    return this.#byClient.get(clientId)?.get(deviceId) ?? null;
  }

  async list(clientId: string): Promise<PushSubscriptionRecord[]> {
    const devices = this.#byClient.get(clientId);
    return devices ? [...devices.values()] : [];
  }

  async remove(clientId: string, deviceId: string, endpoint?: string): Promise<boolean> {
    const devices = this.#byClient.get(clientId);
    const sub = devices?.get(deviceId);
    if (!devices || !sub || (endpoint !== undefined && sub.endpoint !== endpoint)) return false;
    devices.delete(deviceId);
    if (devices.size === 0) this.#byClient.delete(clientId);
    return true;
  }

  async close(): Promise<void> {
    this.#byClient.clear();
  }
}
