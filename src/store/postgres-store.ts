import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Cursor, StreamPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import { checkInboxQuery, checkStateChange, parseListingToken } from '../core/inbox.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type {
  AppendResult,
  DeviceView,
  InboxCounts,
  InboxItemContent,
  InboxPage,
  InboxQuery,
  ItemPatch,
  ItemState,
  PublishInput,
  ReplayQuery,
  ReplayResult,
  StateChange,
  StateResult,
  Store,
  StoredNotification,
  Target,
} from '../core/types.js';
import { applyChange, type Candidate, changeFlags, contentOf, inboxCounts, listedItem, pickPage, visibleTo } from './inbox.js';
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
  /** Inbox events (state changes, updates, deletes) kept per stream besides the notifications. @default retentionMessages */
  retentionEvents?: number;
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

/** An inbox candidate of the PostgreSQL store: `ref` is its row (content, body, position). */
type Item = Candidate<Row>;

/** A connection in a transaction, or the pool. */
type Db = Pick<pg.ClientBase, 'query'>;

/**
 * The message store in PostgreSQL: notifications, device cursors and idempotency keys survive any
 * restart, shared by every node of a cluster (PROTOCOL.md "PostgreSQL (durable store)").
 *
 * Tables (see postgres/migrations.ts): `streams` (one row per stream: epoch, first/last/trimmed
 * positions, locked by every append so positions and `prev` are exact across nodes),
 * `notifications` keyed by (stream, position), `device_cursors`, `client_acks`, `devices` (seed
 * 001's connections table, {@link DeviceTable}), `outbox` and `external_log` (transactional
 * publishes, {@link OutboxRelay}); from migration 002 the inbox: `events` (state, update and delete
 * events at positions of the same streams, kept apart so retention by count counts notifications
 * only), `item_states`, `inbox_clients`, and collapse key / replaces / gone / content columns on
 * `notifications`. Inbox rules are store/inbox.ts's, applied in JS to the client's items loaded in
 * one query; changes and their event are written in one transaction, in the write queue.
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
    if (input.collapseKey !== undefined) body.collapseKey = input.collapseKey;
    if (input.excludeDevices !== undefined && input.excludeDevices.length > 0) body.excludeDevices = [...input.excludeDevices];
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
    // Collapse keys need a second statement in the same transaction (append_batch holds the streams' locks).
    const collapsing = items.some((i) => i.stored && i.body.collapseKey !== undefined);
    const db = collapsing ? await this.pool.connect() : null;
    let rows: Row[];
    const replaces = new Map<number, string>();
    try {
      if (db) await db.query('BEGIN');
      rows = await this.#appendRows(db ?? this.pool, items);
      if (db) {
        const c = rows.filter((r) => !r.r_dup && items[(r.r_i as number) - 1].stored && items[(r.r_i as number) - 1].body.collapseKey !== undefined);
        c.sort((a, b) => (a.r_i as number) - (b.r_i as number));
        const res = await db.query<Row>(`SELECT * FROM "${this.schema}".collapse_batch($1::text[], $2::bigint[], $3::integer[], $4::text[])`, [
          c.map((r) => items[(r.r_i as number) - 1].stream),
          c.map((r) => r.r_ms),
          c.map((r) => r.r_seq),
          c.map((r) => items[(r.r_i as number) - 1].body.collapseKey),
        ]);
        for (const x of res.rows) if (x.r_replaces !== null) replaces.set(c[(x.r_i as number) - 1].r_i as number, x.r_replaces as string);
        await db.query('COMMIT');
      }
    } catch (err) {
      if (db) await db.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      db?.release();
    }
    const results: AppendResult[] = new Array(items.length);
    for (const r of rows) {
      const k = (r.r_i as number) - 1;
      const item = items[k];
      if (r.r_dup) {
        results[k] = { notification: fromResult(item.clientId, r), duplicate: true, stored: true };
        continue;
      }
      const notification: { -readonly [K in keyof StoredNotification]: StoredNotification[K] } = {
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
        version: 1,
      };
      if (item.body.collapseKey !== undefined) notification.collapseKey = item.body.collapseKey;
      const replaced = replaces.get(r.r_i as number);
      if (replaced !== undefined) notification.replaces = replaced;
      if (item.body.excludeDevices !== undefined) notification.excludeDevices = item.body.excludeDevices;
      results[k] = { notification, duplicate: false, stored: item.stored };
    }
    // In array order: within a stream that is position order, so the node routes them in order.
    for (let k = 0; k < batch.length; k++) {
      if (results[k]) batch[k].resolve(results[k]);
      else batch[k].reject(new Error('append_batch returned no row for an item'));
    }
  }

  async #appendRows(db: Db, items: AppendItem[]): Promise<Row[]> {
    const { rows } = await db.query<Row>({
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
    return rows;
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
    if (q.register) {
      await this.pool.query({
        name: `${this.schema}.register`,
        text: `INSERT INTO "${this.schema}".inbox_clients (client_id, registered_ms) VALUES ($1::text, $2::bigint) ON CONFLICT (client_id) DO NOTHING`,
        values: [q.clientId, now],
      });
    }
    const mode = q.broadcasts ? 'resume' : 'pending';
    const own = this.#replayStream(q.clientId, q.clientId, q.after.c, q.after.ce, mode, q.deviceId, now);
    // A pending read skips broadcasts: the device starts at the broadcast head.
    const bc = q.broadcasts ? this.#replayStream(BROADCAST_STREAM, null, q.after.b, q.after.be, mode, '', now) : this.#broadcastHead();
    const [mine, all] = await Promise.all([own, bc]);
    const pc = q.broadcasts ? placeReader(mine.bounds, q.after.c, q.after.ce) : placePending(mine.bounds, q.after.c, q.after.ce);
    const pb: Placement = q.broadcasts
      ? placeReader(all.bounds, q.after.b, q.after.be)
      : { from: all.bounds?.last ?? null, epoch: all.bounds?.epoch ?? null, lost: false, replay: false };
    const forDevice = (n: StoredNotification) => !n.excludeDevices?.includes(q.deviceId);
    return {
      items: mergeByTime(pc.replay ? mine.items.filter(forDevice) : [], pb.replay ? all.items.filter(forDevice) : []),
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

  // ---- inbox ----

  get #retentionEvents(): number {
    return this.#o.retentionEvents ?? this.#o.retentionMessages;
  }

  /**
   * The client's inbox items of each stream in position order, with its states (what listings,
   * counts and changes work on; the rules are store/inbox.ts's): retained, not expired, not gone
   * (deleted or replaced), broadcasts since the client registered.
   */
  async #candidates(db: Db, clientId: string, now: number): Promise<{ own: Item[]; broadcasts: Item[] }> {
    const s = `"${this.schema}"`;
    const cols = `s.epoch, n.stream, n.ms, n.seq, n.prev_ms, n.prev_seq, n.id, n.device_id, n.ts, n.expires_at, n.body, n.replaces, n.content,
      st.seen_at, st.read_at, st.archived_at`;
    const live = `NOT n.gone AND (n.expires_at IS NULL OR n.expires_at > $2::bigint) AND n.ms >= $2::bigint - $3::bigint`;
    const { rows } = await db.query<Row>({
      name: `${this.schema}.inbox-candidates`,
      text: `SELECT 'c' AS src, ${cols} FROM ${s}.notifications n JOIN ${s}.streams s ON s.stream = n.stream
          LEFT JOIN ${s}.item_states st ON st.client_id = $1::text AND st.stream = n.stream AND st.ms = n.ms AND st.seq = n.seq
          WHERE n.stream = $1::text AND ${live}
        UNION ALL
        SELECT 'b' AS src, ${cols} FROM ${s}.inbox_clients c
          JOIN ${s}.notifications n ON n.stream = '${BROADCAST_STREAM}' AND n.ms >= c.registered_ms
          JOIN ${s}.streams s ON s.stream = n.stream
          LEFT JOIN ${s}.item_states st ON st.client_id = $1::text AND st.stream = n.stream AND st.ms = n.ms AND st.seq = n.seq
          WHERE c.client_id = $1::text AND ${live}
        ORDER BY src, ms, seq`,
      values: [clientId, now, this.#o.retentionMs],
    });
    const own: Item[] = [];
    const broadcasts: Item[] = [];
    for (const r of rows) {
      const src = r.src as 'c' | 'b';
      const state: ItemState | undefined =
        r.seen_at === null && r.read_at === null && r.archived_at === null
          ? undefined
          : { seenAt: r.seen_at as number | null, readAt: r.read_at as number | null, archivedAt: r.archived_at as number | null };
      const c: Item = {
        id: r.id as string,
        deviceId: (r.device_id as string | null) ?? null,
        pos: { ms: r.ms as number, seq: r.seq as number },
        epoch: r.epoch as string,
        src,
        state,
        ref: r,
      };
      (src === 'c' ? own : broadcasts).push(c);
    }
    return { own, broadcasts };
  }

  /** An item's content now: as updated, or as published. */
  #content(r: Row): InboxItemContent {
    if (r.content !== null && r.content !== undefined) return r.content as InboxItemContent;
    const clientId = r.stream === BROADCAST_STREAM ? null : (r.stream as string);
    return contentOf(fromRow(clientId, r.epoch as string, r));
  }

  async listInbox(q: InboxQuery, now: number): Promise<InboxPage> {
    checkInboxQuery(q);
    const before = parseListingToken(q.before);
    const { own, broadcasts } = await this.#candidates(this.pool, q.clientId, now);
    const { page, ...rest } = pickPage(own, broadcasts, { deviceId: q.deviceId, limit: q.limit, before, filter: q.filter ?? 'default' });
    return { items: page.map((c) => listedItem(this.#content(c.ref), q.clientId, c.state)), ...rest };
  }

  async inboxCounts(clientId: string, deviceIds: readonly (string | null)[], now: number): Promise<InboxCounts[]> {
    const { own, broadcasts } = await this.#candidates(this.pool, clientId, now);
    return inboxCounts([...own, ...broadcasts], deviceIds);
  }

  /**
   * Runs `fn` in one transaction, in the write queue (so an event takes its position in order with
   * this node's appends, and resolves in position order with them).
   */
  #transaction<T>(fn: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    let out: T;
    return this.#writes
      .task(async () => {
        const db = await this.pool.connect();
        try {
          await db.query('BEGIN');
          out = await fn(db);
          await db.query('COMMIT');
        } catch (err) {
          await db.query('ROLLBACK').catch(() => {});
          throw err;
        } finally {
          db.release();
        }
      })
      .then(() => out);
  }

  /** Locks a stream's row (creating the stream when `create`); null when it does not exist. */
  async #lockStream(db: Db, stream: string, create: boolean): Promise<Row | null> {
    const s = `"${this.schema}"`;
    const lock = { name: `${this.schema}.lock-stream`, text: `SELECT * FROM ${s}.streams WHERE stream = $1::text FOR UPDATE`, values: [stream] };
    let { rows } = await db.query<Row>(lock);
    if (rows.length === 0 && create) {
      await db.query(
        `INSERT INTO ${s}.streams (stream, epoch) VALUES ($1::text, lpad(to_hex(floor(random() * 4294967296)::bigint), 8, '0')) ON CONFLICT (stream) DO NOTHING`,
        [stream],
      );
      ({ rows } = await db.query<Row>(lock));
    }
    return rows[0] ?? null;
  }

  /**
   * Appends an inbox event at the stream's next position (the stream row locked by this
   * transaction), then applies the events' retention: their own count and age, and none at or
   * before what notification retention dropped; the newest dropped moves `trimmed`.
   */
  async #appendEvent(
    db: Db,
    locked: Row | null,
    stream: string,
    clientId: string | null,
    deviceId: string | null,
    kind: 'state' | 'update' | 'delete',
    event: StoredNotification['event'],
    now: number,
  ): Promise<StoredNotification> {
    const s = `"${this.schema}"`;
    const st = locked ?? ((await this.#lockStream(db, stream, true)) as Row);
    const prev = optPos(st.last_ms, st.last_seq);
    const pos = prev === null || now > prev.ms ? { ms: now, seq: 0 } : { ms: prev.ms, seq: prev.seq + 1 };
    const id = uuidv7(now);
    await db.query({
      name: `${this.schema}.append-event`,
      text: `WITH e AS (
          INSERT INTO ${s}.events (stream, ms, seq, prev_ms, prev_seq, id, device_id, ts, kind, event)
          VALUES ($1::text, $2::bigint, $3::integer, $4::bigint, $5::integer, $6::text, $7::text, $8::bigint, $9::text, $10::json) RETURNING 1
        )
        UPDATE ${s}.streams SET last_ms = $2::bigint, last_seq = $3::integer, first_ms = coalesce(first_ms, $2::bigint), first_seq = coalesce(first_seq, $3::integer)
          WHERE stream = $1::text AND EXISTS (SELECT 1 FROM e)`,
      values: [stream, pos.ms, pos.seq, prev?.ms ?? null, prev?.seq ?? null, id, deviceId, now, kind, JSON.stringify(event)],
    });
    await db.query({
      name: `${this.schema}.trim-events`,
      text: `WITH st AS (SELECT trimmed_ms, trimmed_seq FROM ${s}.streams WHERE stream = $1::text),
        cut AS (SELECT ms, seq FROM ${s}.events WHERE stream = $1::text ORDER BY ms DESC, seq DESC OFFSET $2::integer LIMIT 1),
        gone AS (
          DELETE FROM ${s}.events e WHERE e.stream = $1::text AND (
            e.ts < $3::bigint
            OR EXISTS (SELECT 1 FROM cut WHERE (e.ms, e.seq) <= (cut.ms, cut.seq))
            OR EXISTS (SELECT 1 FROM st WHERE (e.ms, e.seq) <= (st.trimmed_ms, st.trimmed_seq)))
          RETURNING e.ms, e.seq
        ), top AS (SELECT ms, seq FROM gone ORDER BY ms DESC, seq DESC LIMIT 1)
        UPDATE ${s}.streams t SET trimmed_ms = top.ms, trimmed_seq = top.seq FROM top
          WHERE t.stream = $1::text AND (t.trimmed_ms IS NULL OR (top.ms, top.seq) > (t.trimmed_ms, t.trimmed_seq))`,
      values: [stream, this.#retentionEvents, now - this.#o.retentionMs],
    });
    return {
      id,
      clientId,
      deviceId,
      title: '',
      message: '',
      service: '',
      data: null,
      ts: now,
      expiresAt: null,
      pos,
      prev,
      epoch: st.epoch as string,
      kind,
      event,
    };
  }

  async setState(clientId: string, change: StateChange, now: number): Promise<StateResult> {
    checkStateChange(change);
    return this.#transaction(async (db) => {
      // The client's stream row serializes its state changes across nodes.
      const locked = await this.#lockStream(db, clientId, false);
      const { own, broadcasts } = await this.#candidates(db, clientId, now);
      const inScope = [...own, ...broadcasts].filter((c) => visibleTo(c, change.scope));
      let targets: Item[] = inScope;
      if (change.ids !== undefined) {
        const byId = new Map<string, Item[]>();
        for (const c of inScope) byId.get(c.id)?.push(c) ?? byId.set(c.id, [c]);
        targets = [...new Set(change.ids)].flatMap((id) => byId.get(id) ?? []);
      }
      const changed = new Set<string>();
      const after = new Map<Item, ItemState>();
      for (const c of targets) {
        const next = applyChange(c.state, change, now);
        if (!next) continue;
        after.set(c, next);
        changed.add(c.id);
      }
      const counts = inboxCounts(
        inScope.map((c) => (after.has(c) ? { ...c, state: after.get(c) } : c)),
        [change.scope],
      )[0];
      if (after.size === 0) return { updated: 0, ...counts, event: null };
      const keys = [...after.keys()];
      const states = [...after.values()];
      const s = `"${this.schema}"`;
      // Upserted as they are now: a row with no time set is the same as none (see #candidates).
      await db.query({
        name: `${this.schema}.save-states`,
        text: `INSERT INTO ${s}.item_states AS t (client_id, stream, ms, seq, seen_at, read_at, archived_at)
          SELECT $1::text, u.* FROM unnest($2::text[], $3::bigint[], $4::integer[], $5::bigint[], $6::bigint[], $7::bigint[]) AS u
          ON CONFLICT (client_id, stream, ms, seq) DO UPDATE SET seen_at = EXCLUDED.seen_at, read_at = EXCLUDED.read_at, archived_at = EXCLUDED.archived_at`,
        values: [
          clientId,
          keys.map((c) => c.ref.stream),
          keys.map((c) => c.pos.ms),
          keys.map((c) => c.pos.seq),
          states.map((st) => st.seenAt),
          states.map((st) => st.readAt),
          states.map((st) => st.archivedAt),
        ],
      });
      const event =
        change.ids !== undefined
          ? { ids: [...changed], ...changeFlags(change), by: change.by, scope: change.scope }
          : { all: true as const, ...changeFlags(change), by: change.by, scope: change.scope };
      const entry = await this.#appendEvent(db, locked, clientId, clientId, null, 'state', event, now);
      return { updated: after.size, ...counts, event: entry };
    });
  }

  /** A listed item of a stream (locked), or null: unknown, gone, expired or past retention. */
  async #item(db: Db, stream: string, id: string, now: number): Promise<Row | null> {
    const st = await this.#lockStream(db, stream, false);
    if (!st) return null;
    const s = `"${this.schema}"`;
    const { rows } = await db.query<Row>({
      name: `${this.schema}.inbox-item`,
      text: `SELECT n.*, s.epoch, s.last_ms, s.last_seq FROM ${s}.notifications n JOIN ${s}.streams s ON s.stream = n.stream
        WHERE n.stream = $1::text AND n.id = $2::text AND NOT n.gone AND (n.expires_at IS NULL OR n.expires_at > $3::bigint) AND n.ms >= $3::bigint - $4::bigint`,
      values: [stream, id, now, this.#o.retentionMs],
    });
    return rows[0] ?? null;
  }

  async updateItem(clientId: string | null, id: string, patch: ItemPatch, now: number): Promise<{ item: InboxItemContent; event: StoredNotification } | null> {
    const stream = clientId ?? BROADCAST_STREAM;
    return this.#transaction(async (db) => {
      const r = await this.#item(db, stream, id, now);
      if (!r) return null;
      const old = this.#content(r);
      const item: InboxItemContent = { ...old, version: old.version + 1, updatedAt: now };
      if (patch.title !== undefined) item.title = patch.title;
      if (patch.message !== undefined) item.message = patch.message;
      if (patch.data !== undefined) item.data = patch.data;
      await db.query(`UPDATE "${this.schema}".notifications SET content = $4::json WHERE stream = $1::text AND ms = $2::bigint AND seq = $3::integer`, [
        stream,
        r.ms,
        r.seq,
        JSON.stringify(item),
      ]);
      const event = await this.#appendEvent(db, r, stream, clientId, (r.device_id as string | null) ?? null, 'update', item, now);
      return { item, event };
    });
  }

  async deleteItem(clientId: string | null, id: string, now: number): Promise<{ event: StoredNotification } | null> {
    const stream = clientId ?? BROADCAST_STREAM;
    return this.#transaction(async (db) => {
      const r = await this.#item(db, stream, id, now);
      if (!r) return null;
      const s = `"${this.schema}"`;
      await db.query(`UPDATE ${s}.notifications SET gone = true, content = NULL WHERE stream = $1::text AND ms = $2::bigint AND seq = $3::integer`, [
        stream,
        r.ms,
        r.seq,
      ]);
      await db.query(`DELETE FROM ${s}.item_states WHERE stream = $1::text AND ms = $2::bigint AND seq = $3::integer`, [stream, r.ms, r.seq]);
      const event = await this.#appendEvent(db, r, stream, clientId, (r.device_id as string | null) ?? null, 'delete', { id }, now);
      return { event };
    });
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
