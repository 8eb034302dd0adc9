import type { Broker } from './broker.js';
import { encodeCursor } from './cursor.js';
import { HeraldError } from './errors.js';
import { covers, readEventCounts, withCounts } from './event-counts.js';
import type { Hub } from './hub.js';
import { checkId } from './ids.js';
import type { Logger } from './logger.js';
import type { EventCounts, InboxCounts, InboxPage, InboxQuery, ItemPatch, StateChange, Store, StoredNotification } from './types.js';

/** What `POST .../notifications/state` answers: items changed, and the counts of the view that changed them. */
export interface StateAnswer extends InboxCounts {
  updated: number;
}

/** What `PATCH .../notifications/<id>` answers. */
export interface UpdateAnswer {
  id: string;
  version: number;
  /** "Everything up to here" in the stream the update was appended to. */
  cursor: string;
}

/** What the inbox tells the node (receipts listen): a state change was stored and routed. */
export type StateChangedListener = (event: StoredNotification, change: StateChange) => void;

/**
 * The inbox of a node (PROTOCOL.md "Inbox", ARCHITECTURE.md "How a state change flows"): listings,
 * state changes, updates and deletes go to the store, which appends an event to the stream, and
 * the event is routed like a notification (`broker.route`) to every node holding the client's
 * devices. A `state` event carries the client's counts, read once here for every device attached
 * anywhere (see core/event-counts.ts); the sessions pick theirs.
 */
export class InboxService {
  readonly #store: Store;
  readonly #broker: Broker;
  readonly #hub: Hub;
  readonly #log: Logger;
  readonly #onStateChanged: StateChangedListener;

  constructor(store: Store, broker: Broker, hub: Hub, log: Logger, onStateChanged: StateChangedListener) {
    this.#store = store;
    this.#broker = broker;
    this.#hub = hub;
    this.#log = log;
    this.#onStateChanged = onStateChanged;
  }

  /** One page of a client's inbox as `q.deviceId` sees it (null: the backend's view), with its counts. */
  list(q: InboxQuery): Promise<InboxPage> {
    checkId('clientId', q.clientId);
    return storeCall(() => this.#store.listInbox(q, Date.now()));
  }

  /** A device's counts now (its welcome, and the `state` frames of its replay). */
  counts(clientId: string, deviceId: string): Promise<InboxCounts> {
    return storeCall(async () => (await this.#store.inboxCounts(clientId, [deviceId], Date.now()))[0]);
  }

  /**
   * Applies a change and, when something changed, routes its `state` event with the counts of
   * every device attached anywhere (read after the change). Resolves once routed.
   */
  async setState(clientId: string, change: StateChange): Promise<StateAnswer> {
    checkId('clientId', clientId);
    // Who is attached elsewhere is read while the change is made: the counts read needs both.
    const [r, remote] = await Promise.all([storeCall(() => this.#store.setState(clientId, change, Date.now())), this.#remoteDevices(clientId)]);
    if (r.event) {
      const devices = new Set([...remote, ...this.localDevices(clientId)]);
      const event = await this.#counted(r.event, devices);
      await this.#broker.route(event);
      this.#onStateChanged(r.event, change);
    }
    return { updated: r.updated, unseen: r.unseen, unread: r.unread };
  }

  /** Replaces fields of a listed item (null client: a broadcast); null when it is not listed (404). */
  async update(clientId: string | null, id: string, patch: ItemPatch): Promise<UpdateAnswer | null> {
    if (clientId !== null) checkId('clientId', clientId);
    const r = await storeCall(() => this.#store.updateItem(clientId, id, patch, Date.now()));
    if (!r) return null;
    await this.#broker.route(r.event);
    return { id: r.item.id, version: r.item.version, cursor: cursorOf(r.event) };
  }

  /** Deletes a listed item (null client: a broadcast); false when it is not listed (404). */
  async delete(clientId: string | null, id: string): Promise<boolean> {
    if (clientId !== null) checkId('clientId', clientId);
    const r = await storeCall(() => this.#store.deleteItem(clientId, id, Date.now()));
    if (!r) return false;
    await this.#broker.route(r.event);
    return true;
  }

  /** The client's devices attached on this node. */
  localDevices(clientId: string): string[] {
    const out: string[] = [];
    for (const d of this.#hub.client(clientId).devices) if (d.session) out.push(d.deviceId);
    return out;
  }

  /** Whether `n` is a `state` event lacking counts for a device of its client attached here (BrokerContext.needsCounts). */
  needsCountsHere(n: StoredNotification): boolean {
    return n.kind === 'state' && n.clientId !== null && !covers(n.counts, this.localDevices(n.clientId));
  }

  /**
   * Entries of one stream (a gap repair's, or one that arrived from another node), each `state`
   * event among them with the counts of the client's devices attached here, read once now: after
   * every one of them was stored, so as new as each (BrokerContext.counted). When the read fails
   * they go as they are: their frames then carry no counts, and the devices resync from the
   * listing; a change is never held back by a count.
   */
  async countedHere(entries: StoredNotification[]): Promise<StoredNotification[]> {
    const first = entries.find((n) => n.kind === 'state' && n.clientId !== null);
    if (!first) return entries;
    const counted = await this.#counted(first, this.localDevices(first.clientId as string));
    const counts = counted.counts;
    if (!counts) return entries;
    return entries.map((n) => (n === first ? counted : n.kind === 'state' ? withCounts(n, counts) : n));
  }

  async #counted(n: StoredNotification, deviceIds: Iterable<string>): Promise<StoredNotification> {
    let counts: EventCounts;
    try {
      counts = await readEventCounts(this.#store, n.clientId as string, deviceIds, Date.now());
    } catch (err) {
      this.#log.warn({ err, clientId: n.clientId }, 'inbox counts not read; state frames go without them');
      return n;
    }
    return withCounts(n, counts);
  }

  /** Devices of the client attached on other nodes (a cluster's registry); none when it cannot be read. */
  async #remoteDevices(clientId: string): Promise<Set<string>> {
    if (!this.#broker.attachedDevices) return new Set();
    try {
      return await this.#broker.attachedDevices(clientId);
    } catch (err) {
      // The nodes holding them read their counts themselves (their devices are not named).
      this.#log.warn({ err, clientId }, 'cluster registry not read for inbox counts');
      return new Set();
    }
  }
}

/** The cursor of an event: "everything up to here" in its stream. */
function cursorOf(n: StoredNotification): string {
  return encodeCursor(n.clientId === null ? { c: null, ce: null, b: n.pos, be: n.epoch } : { c: n.pos, ce: n.epoch, b: null, be: null });
}

/** A store call: its HERALD_ERR_INVALID (a field it refuses) passes; any other failure is a 503. */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HeraldError && err.code === 'HERALD_ERR_INVALID') throw err;
    throw new HeraldError('HERALD_ERR_STORE_UNAVAILABLE', 'the store could not answer; nothing was changed', { cause: err });
  }
}
