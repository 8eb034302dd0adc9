import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Cursor, StreamPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { AppendResult, DeviceView, PublishInput, ReplayQuery, ReplayResult, Store, StoredNotification, Target } from '../core/types.js';
import { DeviceTable } from './postgres/device-table.js';
import { checkSchemaName, type MigrateResult, migrate } from './postgres/migrate.js';
import { CLAIM_LIMIT, OutboxRelay } from './postgres/outbox-relay.js';
import { BROADCAST_STREAM, type Queries, queries } from './postgres/queries.js';
import { type Body, fromResult, fromRow, optPos, type Row, redactUrl, TYPES } from './postgres/rows.js';
import { type QueuedAppend, WriteQueue } from './postgres/write-queue.js';
import { mergeByTime, type Placement, placePending, placeReader, type StreamBounds } from './streams.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq URL; `?sslmode=` etc. as node-postgres reads them). */
  url: string;
  /** Schema holding Herald's tables (created and migrated at start). @default 'herald' */
  schema?: string;
  /** Notifications kept per stream (a client's own, the broadcast stream). @default 1000 */
  retentionMessages: number;
  /** How long notifications are kept, in ms. @default 86_400_000 */
  retentionMs: number;
  /** This node's id: who claimed a transactional publish (external log). @default 'herald' */
  nodeId?: string;
  /**
   * Who delivers transactional publishes (SQL `publish()`): `claim` — the node that claims them,
   * through its broker (Redis reaches every node); `every-node` — each node also delivers other
   * nodes' claims to its own devices (local brokers). `off`: this store does not claim (tests,
   * `herald migrate`). @default 'every-node'
   */
  transactional?: 'claim' | 'every-node' | 'off';
  /** Connections in the pool (plus one for LISTEN); up to 8 append batches in flight use them. @default 16 */
  poolSize?: number;
  /** A query not answered within this many ms fails (the publish gets 503). @default 5000 */
  queryTimeoutMs?: number;
  /** Backstop poll of the outbox, ms. @default 500 */
  outboxPollMs?: number;
  /** Retention sweep of idle streams and the external log, ms (0 = off). @default 60_000 */
  maintenanceMs?: number;
  /** Apply migrations at start (off: the schema must be current; `herald migrate` applies them). @default true */
  migrate?: boolean;
  /** @default silent */
  log?: Logger;
}

interface StoreEvents {
  /**
   * A notification stored by SQL (a transactional publish claimed by this node, or in every-node
   * mode another node's claim): the node routes it as if it had been published here.
   */
  external: [n: StoredNotification];
}

/** What append_batch is handed per notification. */
interface AppendItem {
  stream: string;
  clientId: string | null;
  deviceId: string | null;
  now: number;
  id: string;
  /** The id is the publisher's idempotency key (else a fresh UUIDv7: no lookup). */
  keyed: boolean;
  expiresAt: number | null;
  stored: boolean;
  body: Body;
  priority: PublishInput['priority'];
}

/**
 * The message store in PostgreSQL: notifications, device cursors and idempotency keys survive any
 * restart, shared by every node of a cluster (PROTOCOL.md "PostgreSQL (durable store)").
 *
 * Tables (see postgres/migrations.ts): `streams` (one row per stream: epoch, first/last/trimmed
 * positions, locked by every append so positions and `prev` are exact across nodes),
 * `notifications` keyed by (stream, position), `device_cursors`, `client_acks`, `devices` (seed
 * 001's connections table, {@link DeviceTable}), `outbox` and `external_log` (transactional
 * publishes, {@link OutboxRelay}).
 *
 * Appends go through one {@link WriteQueue}: concurrent publishes on this node leave together as
 * one `append_batch` call (one round trip, one transaction); up to 8 batches are in flight when
 * they touch different streams, and appends to one stream resolve in position order.
 */
export class PostgresStore extends EventEmitter<StoreEvents> implements Store {
  readonly kind = 'postgres' as const;
  readonly schema: string;
  readonly pool: pg.Pool;
  readonly deviceTable: DeviceTable;
  readonly #o: PostgresStoreOptions;
  readonly #q: Queries;
  readonly #writes: WriteQueue<AppendItem, AppendResult>;
  readonly #log: Logger;
  #relay: OutboxRelay | null = null;
  #maintenance: NodeJS.Timeout | null = null;
  /** The external log position this node has delivered through (every-node mode). */
  #externalSeen = -1;
  #closed = false;

  constructor(opts: PostgresStoreOptions) {
    super();
    this.#o = opts;
    this.schema = checkSchemaName(opts.schema ?? 'herald');
    this.#q = queries(this.schema);
    this.#log = opts.log ?? silentLogger;
    this.pool = new pg.Pool({ ...this.connectionConfig(), max: opts.poolSize ?? 16 });
    let lastError = '';
    // An idle client whose server went away reports here; without a listener it would crash the process.
    this.pool.on('error', (err) => {
      if (err.message !== lastError) this.#log.warn({ err }, 'postgres store connection error');
      lastError = err.message;
    });
    this.#writes = new WriteQueue({
      flush: (batch) => this.#appendBatch(batch),
      streamOf: (item) => item.stream,
      maxInFlight: Math.max(1, Math.min(8, (opts.poolSize ?? 16) - 4)),
    });
    this.deviceTable = new DeviceTable({ pool: this.pool, schema: this.schema, log: this.#log });
  }

  /** Settings of every connection this store opens. */
  connectionConfig(): pg.ClientConfig {
    const timeout = this.#o.queryTimeoutMs ?? 5000;
    return {
      connectionString: this.#o.url,
      types: TYPES,
      connectionTimeoutMillis: Math.min(timeout, 3000),
      query_timeout: timeout,
      application_name: `herald ${this.#o.nodeId ?? ''}`.trim(),
    };
  }

  /**
   * Connects, migrates the schema under its advisory lock (unless `migrate: false`) and starts the
   * transactional-publish relay. Rejects (naming the address, not the password) when PostgreSQL
   * cannot be reached, so a node does not start against an unreachable store.
   * @example
   * const store = await PostgresStore.connect({ url: 'postgres://herald@127.0.0.1/herald', retentionMessages: 1000, retentionMs: 86_400_000 });
   */
  static async connect(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    try {
      if (opts.migrate !== false) await store.migrate();
      else await store.pool.query('SELECT 1');
      await store.#start();
    } catch (err) {
      await store.close().catch(() => {});
      throw new Error(`cannot use the PostgreSQL store at ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err });
    }
    return store;
  }

  /** Creates or migrates the schema (`herald migrate`). */
  async migrate(): Promise<MigrateResult> {
    const client = await this.pool.connect();
    try {
      return await migrate(client, this.schema, this.#log);
    } finally {
      client.release();
    }
  }

  get #nodeId(): string {
    return this.#o.nodeId ?? 'herald';
  }

  get #mode(): 'claim' | 'every-node' | 'off' {
    return this.#o.transactional ?? 'every-node';
  }

  async #start(): Promise<void> {
    const mode = this.#mode;
    if (mode === 'every-node') await this.#initExternal();
    if (mode !== 'off') {
      this.#relay = new OutboxRelay({
        connection: this.connectionConfig(),
        schema: this.schema,
        nodeId: this.#nodeId,
        mode,
        pollMs: this.#o.outboxPollMs,
        claim: () => this.#claim(),
        readExternal: () => this.#readExternal(),
        log: this.#log,
      });
      this.#relay.start();
    }
    const every = this.#o.maintenanceMs ?? 60_000;
    if (every > 0) {
      this.#maintenance = setInterval(() => {
        this.maintain(Date.now()).catch((err) => this.#log.warn({ err }, 'postgres retention sweep failed'));
      }, every);
      this.#maintenance.unref();
    }
  }

  /** Write batches, the appends in them, and the most batches in flight at once, since start. */
  get writeStats(): { batches: number; items: number; maxInFlight: number } {
    return { ...this.#writes.stats };
  }

  // ---- append ----

  async append(target: Target, input: PublishInput, now: number): Promise<AppendResult> {
    const clientId = target.kind === 'broadcast' ? null : target.clientId;
    const ttl = input.ttlMs;
    const body: Body = { title: input.title, message: input.message, service: input.service ?? 'default', data: input.data ?? null };
    if (input.priority !== undefined) body.priority = input.priority;
    return this.#writes.append({
      stream: clientId ?? BROADCAST_STREAM,
      clientId,
      deviceId: target.kind === 'device' ? target.deviceId : null,
      now,
      id: input.id ?? uuidv7(now),
      keyed: input.id !== undefined,
      expiresAt: ttl === undefined ? null : now + ttl,
      stored: ttl !== 0,
      body,
      priority: input.priority,
    });
  }

  async #appendBatch(batch: QueuedAppend<AppendItem, AppendResult>[]): Promise<void> {
    const items = batch.map((a) => a.item);
    const { rows } = await this.pool.query<Row>({
      ...this.#q.append,
      values: [
        items.map((i) => i.stream),
        items.map((i) => i.now),
        items.map((i) => i.id),
        items.map((i) => i.keyed),
        items.map((i) => i.deviceId),
        items.map((i) => i.expiresAt),
        items.map((i) => i.stored),
        items.map((i) => JSON.stringify(i.body)),
        this.#o.retentionMessages,
        this.#o.retentionMs,
      ],
    });
    const results: AppendResult[] = new Array(items.length);
    for (const r of rows) {
      const k = (r.r_i as number) - 1;
      const item = items[k];
      if (r.r_dup) {
        results[k] = { notification: fromResult(item.clientId, r), duplicate: true, stored: true };
        continue;
      }
      const notification: StoredNotification = {
        id: r.r_id as string,
        clientId: item.clientId,
        deviceId: item.deviceId,
        title: item.body.title,
        message: item.body.message,
        service: item.body.service,
        data: item.body.data,
        ts: item.now,
        expiresAt: item.expiresAt,
        priority: item.priority,
        pos: { ms: r.r_ms as number, seq: r.r_seq as number },
        prev: optPos(r.r_prev_ms, r.r_prev_seq),
        epoch: r.r_epoch as string,
      };
      results[k] = { notification, duplicate: false, stored: item.stored };
    }
    // In array order: within a stream that is position order, so the node routes them in order.
    for (let k = 0; k < batch.length; k++) {
      if (results[k]) batch[k].resolve(results[k]);
      else batch[k].reject(new Error('append_batch returned no row for an item'));
    }
  }

  // ---- transactional publishes ----

  /**
   * Claims one batch of the outbox, in the write queue (so in order with this node's appends), and
   * emits what was new: in `claim` mode what this node claimed; in `every-node` mode whatever the
   * external log holds next, this node's claims and other nodes' alike, in claim order.
   */
  #claim(): Promise<number> {
    let claimed = 0;
    return this.#writes
      .task(async () => {
        const { rows } = await this.pool.query<Row>({
          ...this.#q.claim,
          values: [CLAIM_LIMIT, Date.now(), this.#o.retentionMessages, this.#o.retentionMs, this.#nodeId],
        });
        claimed = rows.length;
        if (this.#mode === 'every-node') {
          if (claimed > 0) await this.#readExternalNow();
          return;
        }
        for (const r of rows) if (!r.r_dup) this.emit('external', fromResult(r.r_stream as string, r));
      })
      .then(() => claimed);
  }

  /** Every-node mode: another node claimed (its NOTIFY, or the poll). */
  #readExternal(): Promise<void> {
    return this.#writes.task(() => this.#readExternalNow());
  }

  async #readExternalNow(): Promise<void> {
    if (this.#externalSeen < 0) await this.#initExternal();
    for (;;) {
      const { rows } = await this.pool.query<Row>({ ...this.#q.external, values: [this.#externalSeen, 500] });
      for (const r of rows) {
        this.#externalSeen = r.xseq as number;
        // A row retention already dropped has nothing to deliver.
        if (r.ms === null) continue;
        const clientId = r.stream === BROADCAST_STREAM ? null : (r.stream as string);
        this.emit('external', fromRow(clientId, r.epoch as string, r));
      }
      if (rows.length < 500) return;
    }
  }

  /** Where the external log ends now: this node delivers what is claimed from here on. */
  async #initExternal(): Promise<void> {
    const { rows } = await this.pool.query<{ m: number }>(`SELECT coalesce(max(xseq), 0)::bigint AS m FROM "${this.schema}".external_log`);
    this.#externalSeen = rows[0].m;
  }

  // ---- reads ----

  async #replayStream(
    stream: string,
    clientId: string | null,
    after: StreamPos | null,
    epoch: string | null,
    mode: 'resume' | 'pending',
    deviceId: string,
    now: number,
  ) {
    const { rows } = await this.pool.query<Row>({
      ...this.#q.replay,
      values: [stream, now, this.#o.retentionMs, after?.ms ?? null, after?.seq ?? null, epoch, mode, deviceId],
    });
    if (rows.length === 0) return { bounds: undefined, items: [] as StoredNotification[] };
    const h = rows[0];
    const bounds: StreamBounds = {
      epoch: h.epoch as string,
      first: optPos(h.first_ms, h.first_seq),
      last: optPos(h.last_ms, h.last_seq),
      // Rows older than retention still in the table count as trimmed (appends delete them).
      trimmed: optPos(h.old_ms, h.old_seq) ?? optPos(h.trimmed_ms, h.trimmed_seq),
    };
    const items = rows.filter((r) => r.ms !== null).map((r) => fromRow(clientId, bounds.epoch as string, r));
    return { bounds, items };
  }

  async replay(q: ReplayQuery, now: number): Promise<ReplayResult> {
    const mode = q.broadcasts ? 'resume' : 'pending';
    const own = this.#replayStream(q.clientId, q.clientId, q.after.c, q.after.ce, mode, q.deviceId, now);
    // A pending read skips broadcasts: the device starts at the broadcast head.
    const bc = q.broadcasts ? this.#replayStream(BROADCAST_STREAM, null, q.after.b, q.after.be, mode, '', now) : this.#broadcastHead();
    const [mine, all] = await Promise.all([own, bc]);
    const pc = q.broadcasts ? placeReader(mine.bounds, q.after.c, q.after.ce) : placePending(mine.bounds, q.after.c, q.after.ce);
    const pb: Placement = q.broadcasts
      ? placeReader(all.bounds, q.after.b, q.after.be)
      : { from: all.bounds?.last ?? null, epoch: all.bounds?.epoch ?? null, lost: false, replay: false };
    return {
      items: mergeByTime(pc.replay ? mine.items : [], pb.replay ? all.items : []),
      head: { c: mine.bounds?.last ?? null, ce: mine.bounds?.epoch ?? null, b: all.bounds?.last ?? null, be: all.bounds?.epoch ?? null },
      from: { c: pc.from, ce: pc.epoch, b: pb.from, be: pb.epoch },
      lost: pc.lost || pb.lost,
    };
  }

  async #broadcastHead(): Promise<{ bounds: StreamBounds | undefined; items: StoredNotification[] }> {
    const h = await this.heads(BROADCAST_STREAM);
    return { bounds: h.be === null ? undefined : { epoch: h.be, first: null, last: h.b, trimmed: null }, items: [] };
  }

  async heads(clientId: string): Promise<Cursor> {
    const { rows } = await this.pool.query<Row>({ ...this.#q.heads, values: [clientId] });
    const own = rows.find((r) => r.stream === clientId);
    const bc = rows.find((r) => r.stream === BROADCAST_STREAM);
    return {
      c: own ? optPos(own.last_ms, own.last_seq) : null,
      ce: (own?.epoch as string | undefined) ?? null,
      b: bc ? optPos(bc.last_ms, bc.last_seq) : null,
      be: (bc?.epoch as string | undefined) ?? null,
    };
  }

  async range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]> {
    const { rows } = await this.pool.query<Row>({
      ...this.#q.range,
      values: [clientId ?? BROADCAST_STREAM, after?.ms ?? null, after?.seq ?? null, upTo.ms, upTo.seq, now],
    });
    return rows.map((r) => fromRow(clientId, r.epoch as string, r));
  }

  // ---- cursors ----

  async getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null> {
    const { rows } = await this.pool.query<Row>({ ...this.#q.getCursor, values: [clientId, deviceId] });
    const r = rows[0];
    if (!r) return null;
    return { c: optPos(r.c_ms, r.c_seq), ce: (r.c_epoch as string | null) ?? null, b: optPos(r.b_ms, r.b_seq), be: (r.b_epoch as string | null) ?? null };
  }

  async getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null> {
    const { rows } = await this.pool.query<Row>({ ...this.#q.getAcked, values: [clientId] });
    const r = rows[0];
    return r ? { pos: { ms: r.ms as number, seq: r.seq as number }, epoch: (r.epoch as string | null) ?? null } : null;
  }

  async saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void> {
    const { c, b } = cursor;
    await this.pool.query({
      ...this.#q.saveCursor,
      values: [clientId, deviceId, c === null ? null : cursor.ce, c?.ms ?? null, c?.seq ?? null, b === null ? null : cursor.be, b?.ms ?? null, b?.seq ?? null],
    });
  }

  async forgetDevice(clientId: string, deviceId: string): Promise<void> {
    await this.pool.query({ ...this.#q.forgetDevice, values: [clientId, deviceId] });
  }

  // ---- devices table, maintenance ----

  /** The client's registrations from the devices table (the operator API after a restart). */
  devices(clientId: string): Promise<DeviceView[]> {
    return this.deviceTable.view(clientId);
  }

  get purgedDevices(): number {
    return this.deviceTable.purged;
  }

  /**
   * Retention for what appends do not reach: streams with no append for longer than retention
   * lose every row (trimmed moves past them); external-log entries older than an hour go.
   */
  async maintain(now: number): Promise<void> {
    const s = `"${this.schema}"`;
    await this.pool.query(
      `WITH idle AS (
          SELECT stream FROM ${s}.streams WHERE stored > 0 AND last_ms < $1::bigint - $2::bigint LIMIT 1000 FOR UPDATE SKIP LOCKED
        ), gone AS (
          DELETE FROM ${s}.notifications n USING idle WHERE n.stream = idle.stream RETURNING n.stream, n.ms, n.seq
        ), newest AS (
          SELECT DISTINCT ON (stream) stream, ms, seq FROM gone ORDER BY stream, ms DESC, seq DESC
        )
        UPDATE ${s}.streams t SET stored = 0, oldest_ms = NULL, trimmed_ms = newest.ms, trimmed_seq = newest.seq FROM newest WHERE t.stream = newest.stream`,
      [now, this.#o.retentionMs],
    );
    await this.pool.query(`DELETE FROM ${s}.external_log WHERE at < now() - interval '1 hour'`);
  }

  /** Stops claiming, waits for queued writes and the devices table, closes the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#maintenance) clearInterval(this.#maintenance);
    await this.#relay?.close();
    await this.#writes.task(async () => {}).catch(() => {});
    await this.deviceTable.close();
    await this.pool.end().catch(() => {});
  }
}
