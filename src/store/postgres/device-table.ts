import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import type { DeviceView } from '../../core/types.js';

/** What the table needs of a registration (the hub's DeviceRecord has these fields). */
export interface DeviceRow {
  readonly clientId: string;
  readonly deviceId: string;
  readonly connectionId: string;
  readonly transport: string;
  readonly state: 'attached' | 'detached';
  readonly node: string;
  readonly connectedAt: number;
  readonly lastHeartbeatAt: number | null;
  readonly lastNotificationAt: number | null;
  readonly notificationCount: number;
  readonly detachedAt: number | null;
}

export interface DeviceTableOptions {
  pool: pg.Pool;
  schema: string;
  log: Logger;
  /** Changes wait this long to leave together. @default 50 */
  flushMs?: number;
}

type Pending = { op: 'upsert'; row: DeviceRow } | { op: 'delete'; clientId: string; deviceId: string };

/** Rows per statement (unnest arrays). */
const CHUNK = 5000;

/**
 * Seed 001's `connections` table: one row per registration (connection id, client, device,
 * service, transport, node, state, connected/last-heartbeat/last-notification times, notification
 * count), so `GET /api/v1/clients/<c>` can answer after a restart, and seed 004's cleanup of old
 * inactive rows ({@link purge}).
 *
 * Writes are coalesced per connection id and leave in one statement per flush, one flush at a time:
 * a connect storm is a few statements, and an attach followed by its detach can never be applied in
 * the other order. A failed flush keeps its changes (unless newer ones came) and retries. Across
 * nodes, a row only takes a change from the stream that owns it: an equal `connected_at` and node,
 * or a later `connected_at` (the device reconnected, here or elsewhere). So a late detach from a node
 * the device left does not overwrite its attach on the next node.
 */
export class DeviceTable {
  readonly #o: DeviceTableOptions;
  readonly #s: string;
  #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> | null = null;
  #closed = false;
  #lastError = '';
  /** Registrations purged after DEVICE_RETENTION_MS, since start (`/health/stale`). */
  purged = 0;

  constructor(opts: DeviceTableOptions) {
    this.#o = opts;
    this.#s = `"${opts.schema}"`;
  }

  /** A stream attached: the row says attached on this node. */
  attached(d: DeviceRow): void {
    this.#set(d.connectionId, { op: 'upsert', row: snapshot(d) });
  }

  /** A stream ended; the registration stays (detached) until purged. */
  detached(d: DeviceRow): void {
    this.#set(d.connectionId, { op: 'upsert', row: snapshot(d) });
  }

  /** The registration was removed (backend or device): its row goes. */
  removed(clientId: string, deviceId: string): void {
    this.#set(`${clientId}:${deviceId}`, { op: 'delete', clientId, deviceId });
  }

  /** The heartbeat batch (seed 004's updateHeartbeats): last heartbeat, last notification and count of live devices. */
  heartbeats(devices: Iterable<DeviceRow>): void {
    if (this.#closed) return;
    // Snapshots of live streams, taken now: newer than anything pending for them, except a removal.
    for (const d of devices) {
      if (this.#pending.get(d.connectionId)?.op !== 'delete') this.#pending.set(d.connectionId, { op: 'upsert', row: snapshot(d) });
    }
    this.#schedule();
  }

  #set(key: string, p: Pending): void {
    if (this.#closed) return;
    this.#pending.set(key, p);
    this.#schedule();
  }

  #schedule(delay = this.#o.flushMs ?? 50): void {
    if (this.#timer || this.#closed || this.#pending.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, delay);
    this.#timer.unref();
  }

  /** Writes what is pending now (and waits for a flush in progress first). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    this.#flushing = this.#write([...batch.values()]).then(
      () => {
        if (this.#lastError) this.#o.log.info({}, 'devices table writable again');
        this.#lastError = '';
      },
      (err: Error) => {
        if (err.message !== this.#lastError) this.#o.log.warn({ err, rows: batch.size }, 'devices table not updated; retrying');
        this.#lastError = err.message;
        // Keep what failed unless something newer replaced it meanwhile, and retry later.
        for (const [k, p] of batch) if (!this.#pending.has(k)) this.#pending.set(k, p);
        if (!this.#closed) this.#schedule(1000);
      },
    );
    try {
      await this.#flushing;
    } finally {
      this.#flushing = null;
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    const upserts = batch.flatMap((p) => (p.op === 'upsert' ? [p.row] : []));
    const deletes = batch.flatMap((p) => (p.op === 'delete' ? [`${p.clientId}:${p.deviceId}`] : []));
    for (let i = 0; i < upserts.length; i += CHUNK) await this.#upsert(upserts.slice(i, i + CHUNK));
    for (let i = 0; i < deletes.length; i += CHUNK) {
      await this.#o.pool.query(`DELETE FROM ${this.#s}.devices WHERE connection_id = ANY($1::text[])`, [deletes.slice(i, i + CHUNK)]);
    }
  }

  async #upsert(rows: DeviceRow[]): Promise<void> {
    const col = <T>(f: (r: DeviceRow) => T) => rows.map(f);
    const ts = (ms: number | null) => (ms === null ? null : ms / 1000);
    await this.#o.pool.query(
      `INSERT INTO ${this.#s}.devices AS d (connection_id, client_id, device_id, transport, node, state, connected_at,
          last_heartbeat_at, last_notification_at, notification_count, detached_at)
        SELECT u.cid, u.client, u.device, u.transport, u.node, u.state, to_timestamp(u.conn), to_timestamp(u.hb), to_timestamp(u.notif), u.count, to_timestamp(u.det)
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::float8[], $9::float8[], $10::bigint[], $11::float8[])
          AS u(cid, client, device, transport, node, state, conn, hb, notif, count, det)
        ON CONFLICT (connection_id) DO UPDATE SET
          transport = EXCLUDED.transport, node = EXCLUDED.node, state = EXCLUDED.state, connected_at = EXCLUDED.connected_at,
          last_heartbeat_at = EXCLUDED.last_heartbeat_at, last_notification_at = EXCLUDED.last_notification_at,
          notification_count = EXCLUDED.notification_count, detached_at = EXCLUDED.detached_at
        WHERE EXCLUDED.connected_at > d.connected_at OR (EXCLUDED.connected_at = d.connected_at AND EXCLUDED.node = d.node)`,
      [
        col((r) => r.connectionId),
        col((r) => r.clientId),
        col((r) => r.deviceId),
        col((r) => r.transport),
        col((r) => r.node),
        col((r) => r.state),
        col((r) => ts(r.connectedAt)),
        col((r) => ts(r.lastHeartbeatAt)),
        col((r) => ts(r.lastNotificationAt)),
        col((r) => r.notificationCount),
        col((r) => ts(r.detachedAt)),
      ],
    );
  }

  /** The client's registrations as kept in the table (after a restart the hub knows none). */
  async view(clientId: string): Promise<DeviceView[]> {
    const { rows } = await this.#o.pool.query<Record<string, unknown>>(
      `SELECT device_id, connection_id, transport, state, node,
          (extract(epoch FROM connected_at) * 1000)::bigint AS connected_at,
          (extract(epoch FROM last_heartbeat_at) * 1000)::bigint AS last_heartbeat_at,
          (extract(epoch FROM last_notification_at) * 1000)::bigint AS last_notification_at,
          notification_count
        FROM ${this.#s}.devices WHERE client_id = $1::text ORDER BY connected_at, device_id`,
      [clientId],
    );
    return rows.map((r) => ({
      deviceId: r.device_id as string,
      connectionId: r.connection_id as string,
      transport: r.transport as string,
      state: r.state as 'attached' | 'detached',
      node: r.node as string,
      connectedAt: Number(r.connected_at),
      lastHeartbeatAt: r.last_heartbeat_at === null ? null : Number(r.last_heartbeat_at),
      lastNotificationAt: r.last_notification_at === null ? null : Number(r.last_notification_at),
      notificationCount: Number(r.notification_count),
      rttMs: null,
    }));
  }

  /**
   * A node starting under an id that still has attached rows (a restart with a fixed NODE_ID, after
   * a crash): those streams are gone, the rows say detached.
   */
  async detachNode(nodeId: string, now: number): Promise<number> {
    const r = await this.#o.pool.query(
      `UPDATE ${this.#s}.devices SET state = 'detached', detached_at = to_timestamp($2::float8) WHERE node = $1::text AND state = 'attached'`,
      [nodeId, now / 1000],
    );
    return r.rowCount ?? 0;
  }

  /**
   * Seed 004's cleanup: removes registrations detached before `olderThan` (ms since the epoch), and
   * attached ones whose node stopped refreshing them before then (it died), with their stored
   * cursors. Returns how many.
   */
  async purge(olderThan: number): Promise<number> {
    const { rows } = await this.#o.pool.query<{ n: number }>(
      `WITH gone AS (
          DELETE FROM ${this.#s}.devices WHERE
            (state = 'detached' AND coalesce(detached_at, connected_at) < to_timestamp($1::float8))
            OR (state = 'attached' AND coalesce(last_heartbeat_at, connected_at) < to_timestamp($1::float8))
          RETURNING client_id, device_id
        ), cursors AS (
          DELETE FROM ${this.#s}.device_cursors c USING gone WHERE c.client_id = gone.client_id AND c.device_id = gone.device_id
        )
        SELECT count(*)::integer AS n FROM gone`,
      [olderThan / 1000],
    );
    const n = rows[0]?.n ?? 0;
    this.purged += n;
    return n;
  }

  /** Writes what is pending and stops (shutdown: the last detaches are kept). */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.flush().catch(() => {});
    this.#closed = true;
    this.#pending.clear();
  }
}

function snapshot(d: DeviceRow): DeviceRow {
  return {
    clientId: d.clientId,
    deviceId: d.deviceId,
    connectionId: d.connectionId,
    transport: d.transport,
    state: d.state,
    node: d.node,
    connectedAt: d.connectedAt,
    lastHeartbeatAt: d.lastHeartbeatAt,
    lastNotificationAt: d.lastNotificationAt,
    notificationCount: d.notificationCount,
    detachedAt: d.detachedAt,
  };
}
