import { EventEmitter } from 'node:events';
import type { HeraldNode } from '../core/node.js';
import { type DeviceRecord, deviceView } from '../core/session.js';
import type { DeviceView } from '../core/types.js';

/** One row of `GET /api/v1/devices`. */
export interface DeviceRow extends DeviceView {
  clientId: string;
  /** Bytes waiting in this device's send queue (0 when detached). */
  queuedBytes: number;
  /** The first row of its client in the listing: the tree shows the client here. */
  firstOfClient: boolean;
  /** How many of the listed devices belong to this row's client. */
  clientDevices: number;
}

/** `GET /api/v1/devices`: one page of the sorted registry. */
export interface DevicePage {
  node: string;
  /** Changes whenever a device registers, attaches, detaches or goes away on this node. */
  version: number;
  /** Devices matching the filter (all pages). */
  total: number;
  /** Clients matching the filter. */
  clients: number;
  offset: number;
  limit: number;
  devices: DeviceRow[];
}

/** Which page, and which devices (`q`, `state`). */
export interface DeviceQuery {
  offset: number;
  limit: number;
  /** Case-insensitive substring of the client id or the device id. */
  q?: string;
  state?: 'attached' | 'detached';
}

interface Listing {
  key: string;
  rows: DeviceRecord[];
  /** Per row: how many rows of the same client the listing holds. */
  groupSize: Int32Array;
  clients: number;
}

/**
 * This node's registry as the dashboard pages through it: sorted by client then device, so a page
 * is a slice of the client → device tree. The sorted array is rebuilt only when the registry
 * changed (its {@link version}), not per request, so a viewer scrolling 10 000 devices costs a
 * slice, not a sort. The version moves on the hub's events (a stream attached or detached, a
 * registration forgotten) and the node's `deviceRemoved`, and each move is told as `changed`; a
 * registration without a stream (gRPC `AddConnection`) raises no event and is seen by
 * {@link countDevices}.
 */
export class DeviceIndex extends EventEmitter<{ changed: [version: number] }> {
  readonly #node: HeraldNode;
  #version = 0;
  #count = 0;
  #sorted: { version: number; rows: DeviceRecord[] } | null = null;
  #listing: Listing | null = null;

  constructor(node: HeraldNode) {
    super();
    this.#node = node;
    const changed = () => this.#changed();
    node.hub.on('attached', changed).on('detached', changed).on('deviceForgotten', changed);
    // Also when the device was held elsewhere in the cluster: harmless, a page is refetched.
    node.on('deviceRemoved', changed);
  }

  /** Current registry version: changes whenever a device registers, attaches, detaches or goes away. */
  get version(): number {
    return this.#version;
  }

  #changed(): void {
    this.#version++;
    this.emit('changed', this.#version);
  }

  /**
   * Feeds the registry's size into the version: a registration without a stream (gRPC
   * `AddConnection`) raises no event. O(n); the page requests and the 1 s update call it.
   */
  countDevices(): number {
    let n = 0;
    for (const _ of this.#node.hub.devices()) n++;
    if (n !== this.#count) {
      this.#count = n;
      this.#changed();
    }
    return n;
  }

  page(query: DeviceQuery): DevicePage {
    this.countDevices();
    const version = this.version;
    const q = (query.q ?? '').trim().toLowerCase();
    const listing = this.#list(version, q, query.state);
    const end = Math.min(listing.rows.length, query.offset + query.limit);
    const devices: DeviceRow[] = [];
    for (let i = query.offset; i < end; i++) {
      const d = listing.rows[i];
      devices.push({
        clientId: d.clientId,
        ...deviceView(d),
        queuedBytes: d.session?.queuedBytes ?? 0,
        firstOfClient: i === 0 || listing.rows[i - 1].clientId !== d.clientId,
        clientDevices: listing.groupSize[i],
      });
    }
    return {
      node: this.#node.config.NODE_ID,
      version,
      total: listing.rows.length,
      clients: listing.clients,
      offset: query.offset,
      limit: query.limit,
      devices,
    };
  }

  #list(version: number, q: string, state: DeviceQuery['state']): Listing {
    const key = `${version}\u0000${q}\u0000${state ?? ''}`;
    if (this.#listing?.key === key) return this.#listing;
    if (this.#sorted?.version !== version) {
      const rows = [...this.#node.hub.devices()];
      rows.sort(byClientThenDevice);
      this.#sorted = { version, rows };
    }
    let rows = this.#sorted.rows;
    if (q || state) {
      rows = rows.filter((d) => (!state || d.state === state) && (!q || d.clientId.toLowerCase().includes(q) || d.deviceId.toLowerCase().includes(q)));
    }
    const groupSize = new Int32Array(rows.length);
    let clients = 0;
    for (let start = 0; start < rows.length; ) {
      let end = start + 1;
      while (end < rows.length && rows[end].clientId === rows[start].clientId) end++;
      groupSize.fill(end - start, start, end);
      clients++;
      start = end;
    }
    this.#listing = { key, rows, groupSize, clients };
    return this.#listing;
  }
}

function byClientThenDevice(a: DeviceRecord, b: DeviceRecord): number {
  if (a.clientId !== b.clientId) return a.clientId < b.clientId ? -1 : 1;
  return a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0;
}
