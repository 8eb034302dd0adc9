import type { EventCounts, InboxCounts, Store, StoredNotification } from './types.js';

/**
 * Inbox counts carried by `state` events (PROTOCOL.md "Inbox": the counts in a frame are the
 * receiving device's, computed when the frame is sent to it). Delivery is synchronous (the
 * cluster's stream order depends on it), so counts are read before an event reaches the sessions:
 * once by the node that made the change, for every device attached anywhere it knows of, and again
 * by a node that holds a device those counts do not name (it reads for its own, see
 * {@link covers}), or that repairs a gap or replays from the store (entries without counts).
 *
 * Why the last frame a device gets carries the right counts: a store change and its position in
 * the client's stream are one atomic step, and counts are read after the change they travel with,
 * so they include every change at or before it in stream order; frames reach a device in stream
 * order, so the newest frame's counts are at least as new as everything before it.
 */

/**
 * The view whose counts are the base: no device-targeted item belongs to it, since `:` cannot
 * occur in a device id (PROTOCOL.md "Identifiers"), so a store counts it as a device with no
 * targeted item: the shared items only. (Not `''`: the Redis store's scripts spell the backend
 * view that way.)
 */
const BASE_VIEW = ':';

/** Reads the client's counts for the base view and each device, in one store call. */
export async function readEventCounts(store: Store, clientId: string, deviceIds: Iterable<string>, now: number): Promise<EventCounts> {
  const ids = [...new Set(deviceIds)].filter((d) => d !== BASE_VIEW);
  const [base, ...each] = await store.inboxCounts(clientId, [BASE_VIEW, ...ids], now);
  const devices: Record<string, InboxCounts> = {};
  ids.forEach((d, i) => {
    devices[d] = each[i];
  });
  return { base, devices };
}

/** Whether `counts` name every one of `deviceIds` (a `state` event without counts covers none). */
export function covers(counts: EventCounts | undefined, deviceIds: Iterable<string>): boolean {
  if (!counts) return false;
  for (const d of deviceIds) if (!Object.hasOwn(counts.devices, d)) return false;
  return true;
}

/**
 * A copy of a `state` event carrying `counts` (added to what it carries: newer reads win). The
 * stores' own objects are never changed: the memory store hands out the entries it keeps.
 */
export function withCounts(n: StoredNotification, counts: EventCounts): StoredNotification {
  const merged: EventCounts = n.counts ? { base: counts.base, devices: { ...n.counts.devices, ...counts.devices } } : counts;
  return { ...n, counts: merged };
}

/** The same counts for one device and the base (a replay: the device's current counts on every replayed `state` frame). */
export function countsFor(deviceId: string, c: InboxCounts): EventCounts {
  return { base: c, devices: { [deviceId]: c } };
}

/** Whether a stream entry is a `state` event (the only entries that carry counts). */
export function isStateEvent(n: StoredNotification): boolean {
  return n.kind === 'state';
}
