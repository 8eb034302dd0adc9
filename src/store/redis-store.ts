import { Redis, type RedisOptions } from 'ioredis';
import { type Cursor, markFromString, markToString, newEpoch, posToStreamId, type StreamPos, streamIdToPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { AppendResult, PublishInput, ReplayQuery, ReplayResult, Store, StoredNotification, Target } from '../core/types.js';
import { APPEND_LUA, REPLAY_LUA, SAVE_CURSOR_LUA } from './redis-scripts.js';
import { mergeByTime, type Placement, placePending, placeReader, type StreamBounds } from './streams.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). Ignored when `redis` is given. */
  url?: string;
  /** An ioredis client to use instead of `url` (connected or not). The store closes it. */
  redis?: Redis;
  /** Prepended to every key; must not contain `{` or `}` (they would break the hash tags). @default 'herald:' */
  prefix?: string;
  /** Notifications kept per stream (a client's own, the broadcast stream). @default 1000 */
  retentionMessages: number;
  /** How long notifications are kept, in ms. @default 86_400_000 */
  retentionMs: number;
  /**
   * A stream and its positions expire this long after their last append, so idle clients cost no
   * memory. Longer than retention so that a device resuming after everything aged out is still
   * told correctly whether it missed anything. @default 2 × retentionMs
   */
  streamTtlMs?: number;
  /** Device cursors of a client expire this long after the client's last ack. @default 30 days */
  cursorTtlMs?: number;
  /** A Redis command not answered within this many ms fails (the publish gets 503). @default 5000 */
  commandTimeoutMs?: number;
  /**
   * ioredis auto-pipelining (one write per event-loop turn). Off by default: ioredis already
   * pipelines at the protocol level — every command is written at once, without waiting for the
   * previous reply — and measured faster without it here (≈50 000 vs ≈30 000 appends/s with 1 000
   * in flight on one connection; ≈7 000/s with one in flight, i.e. one round trip each).
   * @default false
   */
  autoPipelining?: boolean;
  /** @default silent */
  log?: Logger;
}

const DAY = 86_400_000;
/** Broadcast keys: `!` cannot occur in a client id, so this tag never collides with a client's. */
const BROADCAST_TAG = '!broadcast';

type Script = (...args: (string | number)[]) => Promise<unknown>;
interface Scripts {
  heraldAppend: Script;
  heraldReplay: Script;
  heraldSaveCursor: Script;
}

/** What is kept in the entry's `j` field (the rest is in fields of its own or in the key). */
interface Body {
  id: string;
  title: string;
  message: string;
  service: string;
  data: unknown;
  ts: number;
  priority?: PublishInput['priority'];
}

interface StreamView extends StreamBounds {
  items: StoredNotification[];
}

/**
 * The message store in Redis Streams, shared by every node of a cluster and surviving restarts.
 *
 * Keys (P = prefix), every key of one client under the hash tag `{client}` so Redis Cluster keeps
 * them in one slot, the broadcast stream under its own tag `{!broadcast}`:
 * - `P{c}:s` the stream: one entry per stored notification, its id is the notification's position
 * - `P{c}:m` hash `epoch` (the stream's generation), `first`, `last`, `trimmed` (positions; see redis-scripts.ts)
 * - `P{c}:i:<key>` the position of the notification with that idempotency key (expires with retention)
 * - `P{c}:cur` hash `d:<device>` → `<c>,<b>` acknowledged cursor, `acked` → newest acked `c`
 *   (each `<epoch>:<ms>-<seq>`)
 *
 * Appends, replays and cursor saves are Lua scripts (one command each, atomic per stream) on one
 * connection that pipelines: concurrent appends are written back to back and share round trips.
 * Errors reject the returned promise; the node turns them into 503. Each failed command is counted
 * in `stats.redisErrors` (`herald_redis_errors_total{component="store"}`).
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  readonly #scripts: Scripts;
  readonly #prefix: string;
  readonly #retentionMessages: number;
  readonly #retentionMs: number;
  readonly #streamTtlMs: number;
  readonly #cursorTtlMs: number;
  #closed = false;
  /** Commands that failed (connection down, timeout, script error), for `/metrics`. */
  readonly stats = { redisErrors: 0 };

  constructor(opts: RedisStoreOptions) {
    const prefix = opts.prefix ?? 'herald:';
    if (/[{}]/.test(prefix)) throw new Error(`RedisStore prefix must not contain { or }: ${prefix}`);
    this.#prefix = prefix;
    this.#retentionMessages = opts.retentionMessages;
    this.#retentionMs = opts.retentionMs;
    this.#streamTtlMs = opts.streamTtlMs ?? 2 * opts.retentionMs;
    this.#cursorTtlMs = opts.cursorTtlMs ?? 30 * DAY;
    const log = opts.log ?? silentLogger;
    const options: RedisOptions = {
      lazyConnect: true,
      enableAutoPipelining: opts.autoPipelining ?? false,
      commandTimeout: opts.commandTimeoutMs ?? 5000,
      // A command in flight when the connection drops fails instead of being sent again: an append
      // may have run, and a second run would store it twice. The publisher retries (with its
      // idempotency key) on the 503.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
      connectionName: 'herald-store',
    };
    this.#redis = opts.redis ?? (opts.url ? new Redis(opts.url, options) : new Redis(options));
    let lastError = '';
    this.#redis.on('error', (err: Error) => {
      // ioredis reports each failed reconnect; log a repeated error once.
      if (err.message !== lastError) log.warn({ err }, 'redis store connection error');
      lastError = err.message;
    });
    this.#redis.on('ready', () => {
      if (lastError) log.info({}, 'redis store connection ready');
      lastError = '';
    });
    this.#redis.defineCommand('heraldAppend', { numberOfKeys: 3, lua: APPEND_LUA });
    this.#redis.defineCommand('heraldReplay', { numberOfKeys: 2, lua: REPLAY_LUA });
    this.#redis.defineCommand('heraldSaveCursor', { numberOfKeys: 1, lua: SAVE_CURSOR_LUA });
    this.#scripts = this.#redis as unknown as Scripts;
  }

  /**
   * Connects and checks that Redis answers, so a node does not start against an unreachable store.
   * @example
   * const store = await RedisStore.connect({ url: 'redis://127.0.0.1:6379', retentionMessages: 1000, retentionMs: 86_400_000 });
   */
  static async connect(opts: RedisStoreOptions): Promise<RedisStore> {
    const store = new RedisStore(opts);
    try {
      await store.ready();
    } catch (err) {
      store.#redis.disconnect();
      throw new Error(`cannot reach the Redis store at ${redactUrl(opts.url)}: ${(err as Error).message}`, { cause: err });
    }
    return store;
  }

  /** Resolves once the connection is ready (connects a lazy client). */
  async ready(): Promise<void> {
    const status = this.#redis.status;
    if (status === 'wait') await this.#redis.connect();
    await this.#redis.ping();
  }

  /** The ioredis client (tests, diagnostics). */
  get redis(): Redis {
    return this.#redis;
  }

  /** Counts a failed command and passes the failure on to the caller (the node answers 503 or logs it). */
  readonly #failed = (err: unknown): never => {
    this.stats.redisErrors++;
    throw err;
  };

  #key(tag: string, suffix: string): string {
    return `${this.#prefix}{${tag}}:${suffix}`;
  }

  async append(target: Target, input: PublishInput, now: number): Promise<AppendResult> {
    const clientId = target.kind === 'broadcast' ? null : target.clientId;
    const deviceId = target.kind === 'device' ? target.deviceId : null;
    const tag = clientId ?? BROADCAST_TAG;
    const ttl = input.ttlMs;
    const stored = ttl !== 0;
    const expiresAt = ttl === undefined ? null : now + ttl;
    const body: Body = {
      id: input.id ?? uuidv7(now),
      title: input.title,
      message: input.message,
      service: input.service ?? 'default',
      data: input.data ?? null,
      ts: now,
    };
    if (input.priority !== undefined) body.priority = input.priority;
    // Only the script call is awaited: appends resolve in the order Redis ran them, which is the
    // order of their positions, so the node routes them in publish order.
    const reply = (await this.#scripts
      .heraldAppend(
        this.#key(tag, 's'),
        this.#key(tag, 'm'),
        this.#key(tag, `i:${input.id ?? ''}`),
        now,
        this.#retentionMessages,
        this.#retentionMs,
        this.#streamTtlMs,
        input.id === undefined ? '0' : '1',
        stored ? '1' : '0',
        JSON.stringify(body),
        deviceId ?? '',
        expiresAt === null ? '' : String(expiresAt),
        newEpoch(),
      )
      .catch(this.#failed)) as [string, string, string | string[], string];
    if (reply[0] === 'dup') return { notification: fromEntry(clientId, reply[3], reply[1], reply[2] as string[]), duplicate: true, stored: true };
    const prev = reply[2] as string;
    const notification: StoredNotification = {
      id: body.id,
      clientId,
      deviceId,
      title: body.title,
      message: body.message,
      service: body.service,
      data: body.data,
      ts: now,
      expiresAt,
      priority: input.priority,
      pos: streamIdToPos(reply[1]),
      prev: prev === '' ? null : streamIdToPos(prev),
      epoch: reply[3],
    };
    return { notification, duplicate: false, stored };
  }

  async #replayStream(
    tag: string,
    clientId: string | null,
    after: StreamPos | null,
    epoch: string | null,
    mode: 'resume' | 'pending',
    deviceId: string,
    now: number,
  ): Promise<StreamView> {
    const reply = (await this.#scripts
      .heraldReplay(
        this.#key(tag, 's'),
        this.#key(tag, 'm'),
        now,
        this.#retentionMessages,
        this.#retentionMs,
        after === null ? '' : posToStreamId(after),
        deviceId,
        epoch ?? '',
        mode,
      )
      .catch(this.#failed)) as (string | string[])[];
    const streamEpoch = reply[3] as string;
    const items: StoredNotification[] = [];
    for (let i = 4; i < reply.length; i += 2) items.push(fromEntry(clientId, streamEpoch, reply[i] as string, reply[i + 1] as string[]));
    return { epoch: streamEpoch || null, first: optPos(reply[0] as string), last: optPos(reply[1] as string), trimmed: optPos(reply[2] as string), items };
  }

  async replay(q: ReplayQuery, now: number): Promise<ReplayResult> {
    // One script per stream (they live in different cluster slots), sent together.
    const mode = q.broadcasts ? 'resume' : 'pending';
    const own = this.#replayStream(q.clientId, q.clientId, q.after.c, q.after.ce, mode, q.deviceId, now);
    // A pending read skips broadcasts: the device starts at the broadcast head.
    const bc = q.broadcasts ? this.#replayStream(BROADCAST_TAG, null, q.after.b, q.after.be, mode, '', now) : this.#meta(BROADCAST_TAG);
    const [mine, all] = await Promise.all([own, bc]);
    const pc = q.broadcasts ? placeReader(mine, q.after.c, q.after.ce) : placePending(mine, q.after.c, q.after.ce);
    const pb: Placement = q.broadcasts ? placeReader(all, q.after.b, q.after.be) : { from: all.last, epoch: all.epoch, lost: false, replay: false };
    return {
      items: mergeByTime(pc.replay ? mine.items : [], pb.replay ? all.items : []),
      head: { c: mine.last, ce: mine.epoch, b: all.last, be: all.epoch },
      from: { c: pc.from, ce: pc.epoch, b: pb.from, be: pb.epoch },
      lost: pc.lost || pb.lost,
    };
  }

  async #meta(tag: string): Promise<StreamView> {
    const [epoch, last] = await this.#redis.hmget(this.#key(tag, 'm'), 'epoch', 'last').catch(this.#failed);
    return { epoch: epoch || null, first: null, last: optPos(last), trimmed: null, items: [] };
  }

  async heads(clientId: string): Promise<Cursor> {
    const [c, b] = await Promise.all([this.#meta(clientId), this.#meta(BROADCAST_TAG)]);
    return { c: c.last, ce: c.epoch, b: b.last, be: b.epoch };
  }

  async range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]> {
    const tag = clientId ?? BROADCAST_TAG;
    const start = after === null ? '-' : `(${posToStreamId(after)}`;
    // One slot, one transaction: the entries and the epoch they belong to.
    const replies = await this.#redis
      .multi()
      .hget(this.#key(tag, 'm'), 'epoch')
      .xrange(this.#key(tag, 's'), start, posToStreamId(upTo))
      .exec()
      .then(transactionReplies)
      .catch(this.#failed);
    const epoch = (replies[0][1] as string | null) ?? '';
    const out: StoredNotification[] = [];
    for (const [id, fields] of replies[1][1] as [string, string[]][]) {
      const n = fromEntry(clientId, epoch, id, fields);
      if (n.expiresAt === null || n.expiresAt > now) out.push(n);
    }
    return out;
  }

  async getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null> {
    const v = await this.#redis.hget(this.#key(clientId, 'cur'), `d:${deviceId}`).catch(this.#failed);
    if (v === null) return null;
    const i = v.indexOf(',');
    const c = markFromString(v.slice(0, i));
    const b = markFromString(v.slice(i + 1));
    return { c: c.pos, ce: c.epoch, b: b.pos, be: b.epoch };
  }

  async getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null> {
    const m = markFromString(await this.#redis.hget(this.#key(clientId, 'cur'), 'acked').catch(this.#failed));
    return m.pos === null ? null : { pos: m.pos, epoch: m.epoch };
  }

  async saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void> {
    await this.#scripts
      .heraldSaveCursor(this.#key(clientId, 'cur'), `d:${deviceId}`, markToString(cursor.c, cursor.ce), markToString(cursor.b, cursor.be), this.#cursorTtlMs)
      .catch(this.#failed);
  }

  async forgetDevice(clientId: string, deviceId: string): Promise<void> {
    await this.#redis.hdel(this.#key(clientId, 'cur'), `d:${deviceId}`).catch(this.#failed);
  }

  /** Waits for replies to what was sent, then closes the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Only a ready connection can answer QUIT; otherwise there is nothing to wait for.
    if (this.#redis.status !== 'ready') {
      this.#redis.disconnect();
      return;
    }
    try {
      await this.#redis.quit();
    } catch {
      // QUIT failed because the connection went away meanwhile: dropping it is all that is left to do.
      this.#redis.disconnect();
    }
  }
}

/** The replies of a MULTI/EXEC, or its failure: an aborted transaction or the first command that failed. */
function transactionReplies(replies: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (!replies) throw new Error('transaction aborted');
  for (const [err] of replies) if (err) throw err;
  return replies;
}

function optPos(id: string | null | undefined): StreamPos | null {
  return id ? streamIdToPos(id) : null;
}

/** A notification from a stream entry: its id is the position, the fields as APPEND_LUA wrote them. */
function fromEntry(clientId: string | null, epoch: string, id: string, fields: string[]): StoredNotification {
  let body: Body | undefined;
  let device = '';
  let expires = '';
  let prev = '';
  for (let i = 0; i < fields.length; i += 2) {
    const v = fields[i + 1];
    switch (fields[i]) {
      case 'j':
        body = JSON.parse(v) as Body;
        break;
      case 'd':
        device = v;
        break;
      case 'x':
        expires = v;
        break;
      case 'p':
        prev = v;
        break;
    }
  }
  if (!body) throw new Error(`stream entry ${id} has no body`);
  return {
    id: body.id,
    clientId,
    deviceId: device === '' ? null : device,
    title: body.title,
    message: body.message,
    service: body.service,
    data: body.data,
    ts: body.ts,
    expiresAt: expires === '' ? null : Number(expires),
    priority: body.priority,
    pos: streamIdToPos(id),
    prev: optPos(prev),
    epoch,
  };
}

/** The URL without its password, for messages. */
function redactUrl(url: string | undefined): string {
  if (!url) return 'the default address';
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // Not a URL: say nothing of it rather than echo what may hold a password.
    return 'the configured URL';
  }
}
