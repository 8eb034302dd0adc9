import { checkBatch, checkBody, checkId, checkListOptions, checkNotificationId, checkPatch, checkStateChange } from './args.js';
import { HeraldError, isRetryableStatus } from './errors.js';
import { send } from './http.js';
import { withKey } from './idempotency.js';
import { type PublisherOptions, type Resolved, resolveOptions } from './options.js';
import { retryDelay, sleep } from './retry.js';
import type {
  BatchItem,
  BatchItemResult,
  BatchResult,
  CallOptions,
  ClientInfo,
  InboxPage,
  ListOptions,
  NotificationPatch,
  PublishBody,
  PublishResult,
  StateChange,
  StateResult,
  Stats,
  UpdateResult,
} from './types.js';

/** A client's inbox (PROTOCOL.md "Inbox" → "Publisher side"). */
export interface NotificationsApi {
  /** `GET /api/v1/clients/<c>/notifications`: newest first; `next` is the `before` of the next page. */
  list(clientId: string, options?: ListOptions, call?: CallOptions): Promise<InboxPage>;
  /** `PATCH /api/v1/clients/<c>/notifications/<id>`: devices get an `update` frame with the whole item. */
  update(clientId: string, id: string, patch: NotificationPatch, call?: CallOptions): Promise<UpdateResult>;
  /**
   * `DELETE /api/v1/clients/<c>/notifications/<id>`: the item leaves listings and counts; devices get
   * a `delete` frame. A retry that finds it gone after an attempt that may have arrived resolves.
   */
  delete(clientId: string, id: string, call?: CallOptions): Promise<void>;
  /** `POST /api/v1/clients/<c>/notifications/state`: seen / read / archived, made by the backend (`by: null`). */
  setState(clientId: string, change: StateChange, call?: CallOptions): Promise<StateResult>;
}

/**
 * Broadcasts after the fact: `PATCH`/`DELETE /api/v1/broadcast/<id>`. Apart from
 * {@link NotificationsApi} on purpose: editing every user's inbox is never one `null` client id away.
 */
export interface BroadcastsApi {
  update(id: string, patch: NotificationPatch, call?: CallOptions): Promise<UpdateResult>;
  delete(id: string, call?: CallOptions): Promise<void>;
}

export interface ClientsApi {
  /** `GET /api/v1/clients/<c>`: devices (on every node) and presence; unknown clients are `online: false, devices: []`. */
  get(clientId: string, call?: CallOptions): Promise<ClientInfo>;
}

export interface DevicesApi {
  /** `DELETE /api/v1/clients/<c>/devices/<d>`: its stream is closed 4003 and its registration gone; 404 when unknown. */
  remove(clientId: string, deviceId: string, call?: CallOptions): Promise<void>;
}

/** A batch result item as the server writes it. */
interface RawBatchItem {
  index: number;
  status: number;
  id?: string;
  cursor?: string;
  delivered?: number;
  stored?: boolean;
  code?: string;
  error?: string;
  field?: string;
}

const enc = encodeURIComponent;

/**
 * Publishes to Herald over its HTTP publisher API with the API key. Create one per process and
 * share it: it holds no connection of its own (`fetch` pools them).
 *
 * Every method resolves with the API's answer or rejects with a {@link HeraldError}. Network
 * failures and 502/503/504 are retried (`retries`, full-jitter backoff, `Retry-After` honoured);
 * publishes carry an idempotency key so a retry never stores a second notification.
 */
export class HeraldPublisher {
  readonly #o: Resolved;
  readonly notifications: NotificationsApi;
  readonly broadcasts: BroadcastsApi;
  readonly clients: ClientsApi;
  readonly devices: DevicesApi;

  constructor(options: PublisherOptions) {
    const o = resolveOptions(options);
    this.#o = o;
    const inbox = (clientId: string) => `/api/v1/clients/${enc(checkId('clientId', clientId))}/notifications`;
    this.notifications = {
      list: async (clientId, options, call) => {
        const path = inbox(clientId);
        const { device, limit, before, filter } = checkListOptions(options);
        return send(o, { method: 'GET', path, query: { device, limit, before, filter }, signal: call?.signal });
      },
      update: async (clientId, id, patch, call) => {
        const path = `${inbox(clientId)}/${enc(checkNotificationId('id', id))}`;
        return send(o, { method: 'PATCH', path, body: checkPatch(patch), signal: call?.signal });
      },
      delete: async (clientId, id, call) => {
        const path = `${inbox(clientId)}/${enc(checkNotificationId('id', id))}`;
        await send(o, { method: 'DELETE', path, goneIsDone: true, signal: call?.signal });
      },
      setState: async (clientId, change, call) => {
        const path = `${inbox(clientId)}/state`;
        return send(o, { method: 'POST', path, body: checkStateChange(change), signal: call?.signal });
      },
    };
    this.broadcasts = {
      update: async (id, patch, call) => {
        const path = `/api/v1/broadcast/${enc(checkNotificationId('id', id))}`;
        return send(o, { method: 'PATCH', path, body: checkPatch(patch), signal: call?.signal });
      },
      delete: async (id, call) => {
        const path = `/api/v1/broadcast/${enc(checkNotificationId('id', id))}`;
        await send(o, { method: 'DELETE', path, goneIsDone: true, signal: call?.signal });
      },
    };
    this.clients = {
      get: async (clientId, call) => send(o, { method: 'GET', path: `/api/v1/clients/${enc(checkId('clientId', clientId))}`, signal: call?.signal }),
    };
    this.devices = {
      remove: async (clientId, deviceId, call) => {
        const path = `/api/v1/clients/${enc(checkId('clientId', clientId))}/devices/${enc(checkId('deviceId', deviceId))}`;
        await send(o, { method: 'DELETE', path, goneIsDone: true, signal: call?.signal });
      },
    };
  }

  /** To all of `clientId`'s devices: `POST /api/v1/clients/<c>/notifications`. */
  async publish(clientId: string, body: PublishBody, call?: CallOptions): Promise<PublishResult> {
    return this.#publish(`/api/v1/clients/${enc(checkId('clientId', clientId))}/notifications`, body, call);
  }

  /** To one device of `clientId`: `POST /api/v1/clients/<c>/devices/<d>/notifications`. */
  async publishToDevice(clientId: string, deviceId: string, body: PublishBody, call?: CallOptions): Promise<PublishResult> {
    const path = `/api/v1/clients/${enc(checkId('clientId', clientId))}/devices/${enc(checkId('deviceId', deviceId))}/notifications`;
    return this.#publish(path, body, call);
  }

  /** To every device: `POST /api/v1/broadcast`. `delivered` counts the devices of the node that answered. */
  async broadcast(body: PublishBody, call?: CallOptions): Promise<PublishResult> {
    return this.#publish('/api/v1/broadcast', body, call);
  }

  /**
   * Up to 1000 publishes in one request (`POST /api/v1/batch`); one result per item, in order. A
   * bad item fails alone (its `error` names `items[<index>].<field>`). Items without an `id` get
   * an idempotency key, so the whole batch can be retried; items the node could not take (503)
   * are sent again on their own, within `retries`.
   */
  async batch(items: BatchItem[], call?: CallOptions): Promise<BatchResult> {
    const o = this.#o;
    const keyed = checkBatch(items).map(withKey);
    const results: BatchItemResult[] = new Array(keyed.length);
    let pending = keyed.map((_, i) => i);
    for (let round = 0; pending.length > 0; round++) {
      let answer: { results?: RawBatchItem[] };
      try {
        answer = await send(o, { method: 'POST', path: '/api/v1/batch', body: { items: pending.map((i) => keyed[i]) }, signal: call?.signal });
        if (!Array.isArray(answer?.results) || answer.results.length !== pending.length)
          throw new HeraldError('HERALD_ERR_RESPONSE', `batch: expected ${pending.length} results`, { status: 200, body: answer, attempts: 1 });
      } catch (err) {
        // Nothing is known yet: the call fails. Later, what was accepted stays accepted and is reported.
        if (round === 0 || !(err instanceof HeraldError)) throw err;
        for (const index of pending) results[index] = { index, ok: false, status: err.status, id: keyed[index].id, error: err };
        break;
      }
      const again: number[] = [];
      let lastRetryable: HeraldError | undefined;
      for (const r of answer.results) {
        const index = pending[r.index];
        if (index === undefined) throw new HeraldError('HERALD_ERR_RESPONSE', `batch: result for unknown index ${r.index}`, { status: 200, body: answer });
        if (r.status === 202) {
          results[index] = {
            index,
            ok: true,
            status: 202,
            id: r.id as string,
            cursor: r.cursor as string,
            delivered: r.delivered ?? 0,
            stored: r.stored ?? true,
          };
          continue;
        }
        const error = itemError(r, index, round + 1, keyed[index].id);
        if (isRetryableStatus(r.status) && round < o.policy.retries) {
          again.push(index);
          lastRetryable = error;
        }
        results[index] = { index, ok: false, status: r.status, id: keyed[index].id, error };
      }
      if (again.length === 0) break;
      const delayMs = retryDelay(o.policy, round, null) ?? 0;
      try {
        o.onRetry?.({ method: 'POST', path: '/api/v1/batch', retry: round + 1, delayMs, error: lastRetryable as HeraldError });
      } catch {}
      await sleep(delayMs, call?.signal);
      pending = again;
    }
    const accepted = results.filter((r) => r.ok).length;
    return { accepted, failed: results.length - accepted, results };
  }

  /** `GET /api/v1/stats` of the node that answered. */
  async stats(call?: CallOptions): Promise<Stats> {
    return send(this.#o, { method: 'GET', path: '/api/v1/stats', signal: call?.signal });
  }

  async #publish(path: string, body: PublishBody, call?: CallOptions): Promise<PublishResult> {
    const keyed = withKey(checkBody(body));
    return send(this.#o, { method: 'POST', path, body: keyed, idempotencyKey: keyed.id, signal: call?.signal });
  }
}

/** A failed item's error, its field and message renumbered from the request's index to the caller's. */
function itemError(r: RawBatchItem, index: number, attempts: number, idempotencyKey: string): HeraldError {
  const renumber = (s: string) => (r.index === index ? s : s.replaceAll(`items[${r.index}]`, `items[${index}]`));
  const code = typeof r.code === 'string' ? r.code : 'HERALD_ERR_RESPONSE';
  const message = renumber(r.error ?? `HTTP ${r.status}`);
  return new HeraldError(code, message, {
    status: r.status,
    body: r,
    attempts,
    idempotencyKey,
    ...(typeof r.field === 'string' ? { field: renumber(r.field) } : {}),
  });
}

/**
 * A publisher for Herald's HTTP API.
 *
 * @example
 * const herald = createPublisher({ url: 'http://127.0.0.1:8080', apiKey: process.env.HERALD_API_KEY! });
 * const { id, delivered } = await herald.publish('alice', { title: 'Order shipped', message: '#42 is on its way' });
 */
export function createPublisher(options: PublisherOptions): HeraldPublisher {
  return new HeraldPublisher(options);
}
