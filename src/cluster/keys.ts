/**
 * The cluster's Redis key and channel names, in one place. A client's keys carry the hash tag
 * `{client}` so they live in one Redis Cluster slot and one Lua script can change them atomically;
 * the prefix has no braces (the same layout rule as the Redis store).
 */
export class ClusterKeys {
  /** @param prefix e.g. `herald:` */
  constructor(readonly prefix: string) {}

  /** Hash: device id → registry entry JSON (see registry-entry.ts). */
  reg(clientId: string): string {
    return `${this.prefix}{${clientId}}:reg`;
  }

  /** Hash: the client's presence (`online`, `epoch`, `pend`; see redis-scripts.ts). */
  presence(clientId: string): string {
    return `${this.prefix}{${clientId}}:p`;
  }

  /** Channels of each node's inbox share this prefix (the route script appends the node id). */
  get inboxPrefix(): string {
    return `${this.prefix}inbox:`;
  }

  /** Channel: messages for one node (its clients' notifications, kicks, answers). */
  inbox(nodeId: string): string {
    return `${this.inboxPrefix}${nodeId}`;
  }

  /**
   * Channel of a stream's new entries (a client's; null: the broadcast stream's), subscribed by the
   * nodes that hold it. Its hash tag is the stream's (`{client}`, or `{!broadcast}` as the Redis
   * store names the broadcast stream's keys), so a script on the stream's keys can publish to it
   * with `SPUBLISH` in the same slot.
   */
  channel(clientId: string | null): string {
    return `${this.prefix}{${clientId ?? '!broadcast'}}:ch`;
  }

  /** Sorted set: node id → its last heartbeat (ms). */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  /** String with a TTL: a node's last heartbeat (it expires with the node). */
  node(nodeId: string): string {
    return `${this.prefix}node:${nodeId}`;
  }

  /** Set: connection ids a node holds attached (dead-node cleanup walks it). */
  nodeConns(nodeId: string): string {
    return `${this.prefix}node:${nodeId}:conns`;
  }

  /** Hash: connection id → a node's device figures, for the cluster-wide client view. */
  nodeDevices(nodeId: string): string {
    return `${this.prefix}node:${nodeId}:dev`;
  }

  /** Sorted set: connection id → when it detached, for expiry after DETACHED_TTL_MS. */
  get detached(): string {
    return `${this.prefix}detached`;
  }
}
