import type { Redis, RedisOptions } from 'ioredis';
import { type Cursor, markFromString, markToString, newEpoch, posToStreamId, type StreamPos, streamIdToPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import { checkInboxQuery, checkStateChange, type ListingKey, listingToken, parseListingToken } from '../core/inbox.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type {
  AppendResult,
  InboxCounts,
  InboxItem,
  InboxItemContent,
  InboxPage,
  InboxQuery,
  ItemPatch,
  Publication,
  PublishInput,
  ReplayQuery,
  ReplayResult,
  StateChange,
  StateEvent,
  StateResult,
  Store,
  StoredNotification,
  Target,
} from '../core/types.js';
import { type Candidate, changeFlags, contentOf, listedItem } from './inbox.js';
import { coalesceWrites, connectRedis, countCommands, refuseShardedCluster } from './redis-connection.js';
import { type Body, eventEntry, eventJson, fromEntry, optPos } from './redis-entries.js';
import { BroadcastCache, broadcastCandidates, parseState, updatedContent } from './redis-inbox.js';
import { APPEND_LUA, BROADCAST_SYNC_LUA, COUNTS_LUA, ITEM_LUA, ITEM_READ_LUA, LIST_LUA, REPLAY_LUA, SAVE_CURSOR_LUA, SET_STATE_LUA } from './redis-scripts.js';
import { mergeByPosition, mergeByTime, type Placement, placePending, placeReader, type StreamBounds } from './streams.js';

export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). Ignored when `redis` is given. */
  url?: string;
  /** An ioredis client to use instead of `url` (connected or not). The store closes it. */
  redis?: Redis;
  /** `url` is a seed node of a Redis Cluster (REDIS_CLUSTER). @default false */
  cluster?: boolean;
  /** Prepended to every key; must not contain `{` or `}` (they would break the hash tags). @default 'herald:' */
  prefix?: string;
  /** Notifications kept per stream (a client's own, the broadcast stream). @default 1000 */
  retentionMessages: number;
  /** How long notifications are kept, in ms. @default 86_400_000 */
  retentionMs: number;
  /**
   * Inbox events (state changes, updates, deletes) kept per stream besides the notifications; a
   * device whose cursor is before a dropped event has lost something. @default retentionMessages
   */
  retentionEvents?: number;
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
  heraldSetState: Script;
  heraldCounts: Script;
  heraldList: Script;
  heraldItemRead: Script;
  heraldItem: Script;
  heraldBroadcastSync: Script;
}

interface StreamView extends StreamBounds {
  items: StoredNotification[];
}

/**
 * The message store in Redis Streams, shared by every node of a cluster and surviving restarts.
 *
 * Keys (P = prefix), every key of one client under the hash tag `{client}` so Redis Cluster keeps
 * them in one slot, the broadcast stream under its own tag `{!broadcast}`:
 * - `P{c}:s` the notifications: one entry per stored notification, its id is the notification's position
 * - `P{c}:e` the inbox events (state, update, delete): positions from the same sequence, a stream
 *   of their own so that retention counts notifications only (XLEN of `s`) and events have their own bound
 * - `P{c}:m` hash `epoch` (the stream's generation), `first`, `last`, `trimmed`, `oldest` (positions; see redis-scripts.ts)
 * - `P{c}:x` hash, the inbox: item states, updated contents, deleted and replaced items, collapse keys
 * - `P{c}:n`, `:q`, `:t`, `:c` the inbox index (items by id, in position order, by expiry) and its
 *   unseen/unread counters per device bucket, kept by the inbox scripts from the stream, never by
 *   appends
 * - `P{c}:i:<key>` the position of the notification with that idempotency key (expires with retention)
 * - `P{c}:cur` hash `d:<device>` → `<c>,<b>` acknowledged cursor, `acked` → newest acked `c`
 *   (each `<epoch>:<ms>-<seq>`), `reg` → when the client registered (its inbox takes broadcasts from then)
 * A client's state of a broadcast lives in the client's `x` (`b:<position>`), in the client's slot;
 * a broadcast's content, updates and deletes in the broadcast stream's keys.
 *
 * Appends, replays, cursor saves and inbox changes are Lua scripts (one command each, atomic per
 * stream) on one connection that pipelines: concurrent appends are written back to back and share
 * round trips. Inbox reads are scripts too: counts are counters, a listing walks the stream back
 * only as far as its page (same rules as the memory store's store/inbox.ts; one contract suite),
 * with the broadcasts from a per-node cache.
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
  readonly #retentionEvents: number;
  readonly #streamTtlMs: number;
  readonly #cursorTtlMs: number;
  readonly #broadcasts: BroadcastCache;
  #closed = false;
  /** Commands that failed (connection down, timeout, script error), for `/metrics`. */
  readonly stats = { redisErrors: 0, redisCommands: 0 };

  constructor(opts: RedisStoreOptions) {
    const prefix = opts.prefix ?? 'herald:';
    if (/[{}]/.test(prefix)) throw new Error(`RedisStore prefix must not contain { or }: ${prefix}`);
    this.#prefix = prefix;
    this.#retentionMessages = opts.retentionMessages;
    this.#retentionMs = opts.retentionMs;
    this.#retentionEvents = opts.retentionEvents ?? opts.retentionMessages;
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
    this.#redis = opts.redis ?? connectRedis(opts.url, options, opts.cluster);
    countCommands(this.#redis, this.stats);
    coalesceWrites(this.#redis);
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
    // The number of keys comes first in each call: 3, or 4 with the inbox hash.
    this.#redis.defineCommand('heraldAppend', { lua: APPEND_LUA });
    this.#redis.defineCommand('heraldReplay', { numberOfKeys: 4, lua: REPLAY_LUA });
    this.#redis.defineCommand('heraldSaveCursor', { numberOfKeys: 1, lua: SAVE_CURSOR_LUA });
    this.#redis.defineCommand('heraldSetState', { numberOfKeys: 9, lua: SET_STATE_LUA });
    this.#redis.defineCommand('heraldCounts', { numberOfKeys: 9, lua: COUNTS_LUA });
    this.#redis.defineCommand('heraldList', { numberOfKeys: 9, lua: LIST_LUA });
    this.#redis.defineCommand('heraldItemRead', { numberOfKeys: 9, lua: ITEM_READ_LUA });
    this.#redis.defineCommand('heraldItem', { numberOfKeys: 9, lua: ITEM_LUA });
    this.#redis.defineCommand('heraldBroadcastSync', { numberOfKeys: 3, lua: BROADCAST_SYNC_LUA });
    this.#scripts = this.#redis as unknown as Scripts;
    this.#broadcasts = new BroadcastCache(
      (epoch, last) =>
        this.#scripts.heraldBroadcastSync(this.#key(BROADCAST_TAG, 's'), this.#key(BROADCAST_TAG, 'm'), this.#key(BROADCAST_TAG, 'x'), epoch, last) as Promise<
          unknown[]
        >,
      this.#retentionMessages,
    );
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
      const hint = opts.cluster
        ? ' (REDIS_CLUSTER=true: is REDIS_URL a node of a Redis Cluster, `cluster-enabled yes`? For a single Redis server leave REDIS_CLUSTER unset)'
        : '';
      throw new Error(`cannot reach the Redis store at ${redactUrl(opts.url)}: ${(err as Error).message}${hint}`, { cause: err });
    }
    if (!opts.cluster) {
      try {
        await refuseShardedCluster(store.#redis, redactUrl(opts.url));
      } catch (err) {
        store.#redis.disconnect();
        throw err;
      }
    }
    return store;
  }

  /** Resolves once the connection is ready (connects a lazy client). */
  async ready(): Promise<void> {
    const status = this.#redis.status;
    if (status === 'wait') await this.#redis.connect();
    await this.#redis.ping();
  }

  /** The ioredis client (tests, diagnostics); an ioredis `Cluster` in cluster mode. */
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

  /**
   * Appends (see APPEND_LUA). With a {@link Publication} the same script publishes the new entry and
   * counts the attached target devices (`reached`): one command per publish (issue 17).
   */
  async append(target: Target, input: PublishInput, now: number, publication?: Publication): Promise<AppendResult> {
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
    // The inbox hash and its arguments only when the inbox has something to do with this one: a
    // plain publish sends exactly what it sent before the inbox.
    const excluded = input.excludeDevices?.length ? input.excludeDevices.join(',') : '';
    const inbox = input.id !== undefined || input.collapseKey !== undefined || excluded !== '';
    const keys = [this.#key(tag, 's'), this.#key(tag, 'm'), this.#key(tag, `i:${input.id ?? ''}`)];
    const args: (string | number)[] = [
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
    ];
    if (inbox || publication) {
      keys.push(this.#key(tag, 'x'));
      args.push(body.id, input.collapseKey ?? '', excluded);
    }
    if (publication) {
      if (publication.registry !== null && clientId !== null) keys.push(publication.registry);
      // The notification's fields besides its body, as StoredNotification names them (the script
      // adds position, previous position, epoch and the id it replaced; see cluster/wire.ts).
      let rest = `,"t":{"clientId":${JSON.stringify(clientId)},"deviceId":${JSON.stringify(deviceId)},"expiresAt":${expiresAt},"version":1`;
      if (input.collapseKey !== undefined) rest += `,"collapseKey":${JSON.stringify(input.collapseKey)}`;
      if (excluded !== '') rest += `,"excludeDevices":${JSON.stringify(input.excludeDevices)}`;
      args.push(publication.command, publication.channel, publication.head, `${rest}}`, publication.tail);
      if (publication.pushSubscriptions !== undefined && clientId !== null) {
        keys.push(publication.pushSubscriptions);
        args.push('1');
      }
    }
    const reply = (await this.#scripts.heraldAppend(keys.length, ...keys, ...args).catch(this.#failed)) as [
      string,
      string,
      string | string[],
      string,
      string,
      number?,
      number?,
    ];
    if (reply[0] === 'dup') return { notification: fromEntry(clientId, reply[3], reply[1], reply[2] as string[]), duplicate: true, stored: true };
    const prev = reply[2] as string;
    const notification: { -readonly [K in keyof StoredNotification]: StoredNotification[K] } = {
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
      version: 1,
    };
    if (input.collapseKey !== undefined) notification.collapseKey = input.collapseKey;
    if (reply[4] !== '') notification.replaces = reply[4];
    if (excluded !== '') notification.excludeDevices = [...(input.excludeDevices as string[])];
    if (!publication) return { notification, duplicate: false, stored };
    const r: AppendResult = { notification, duplicate: false, stored, reached: Number(reply[5] ?? 0) };
    if (publication.pushSubscriptions !== undefined && clientId !== null) r.pushSubscriptions = Number(reply[6] ?? 0);
    return r;
  }

  async #replayStream(
    tag: string,
    clientId: string | null,
    after: StreamPos | null,
    epoch: string | null,
    mode: 'resume' | 'pending',
    deviceId: string,
    register: boolean,
    now: number,
  ): Promise<StreamView> {
    const reply = (await this.#scripts
      .heraldReplay(
        this.#key(tag, 's'),
        this.#key(tag, 'e'),
        this.#key(tag, 'm'),
        this.#key(tag, 'cur'),
        now,
        this.#retentionMessages,
        this.#retentionMs,
        after === null ? '' : posToStreamId(after),
        deviceId,
        epoch ?? '',
        mode,
        this.#retentionEvents,
        register ? '1' : '0',
        this.#cursorTtlMs,
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
    // Registration rides on the client's script: no extra round trip per connect.
    const own = this.#replayStream(q.clientId, q.clientId, q.after.c, q.after.ce, mode, q.deviceId, q.register === true, now);
    // A pending read skips broadcasts: the device starts at the broadcast head.
    const bc = q.broadcasts ? this.#replayStream(BROADCAST_TAG, null, q.after.b, q.after.be, mode, q.deviceId, false, now) : this.#meta(BROADCAST_TAG);
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
    const end = posToStreamId(upTo);
    const replies = await this.#redis
      .multi()
      .hget(this.#key(tag, 'm'), 'epoch')
      .xrange(this.#key(tag, 's'), start, end)
      .xrange(this.#key(tag, 'e'), start, end)
      .exec();
    if (!replies) throw new Error('range transaction aborted');
    for (const [err] of replies) if (err) throw err;
    const epoch = (replies[0][1] as string | null) ?? '';
    const notifications = (replies[1][1] as [string, string[]][]).map(([id, fields]) => fromEntry(clientId, epoch, id, fields));
    const events = (replies[2][1] as [string, string[]][]).map(([id, fields]) => fromEntry(clientId, epoch, id, fields));
    return mergeByPosition(notifications, events).filter((n) => n.expiresAt === null || n.expiresAt > now);
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

  /** The keys every inbox script takes (redis-scripts.ts ITEMS): stream, events, meta, inbox, cursors, index. */
  #inboxKeys(tag: string): string[] {
    return ['s', 'e', 'm', 'x', 'cur', 'n', 'q', 't', 'c'].map((k) => this.#key(tag, k));
  }

  /**
   * The live broadcasts from this node's cache, brought up to date first: as position, id pairs for
   * a script's ARGV (oldest first), and by position (their content for a page).
   */
  async #liveBroadcasts(
    now: number,
  ): Promise<{ list: Candidate<() => InboxItemContent>[]; args: string[]; byPos: Map<string, Candidate<() => InboxItemContent>> }> {
    const list = broadcastCandidates(await this.#broadcasts.fresh(), null, 0, now, this.#retentionMs);
    const args: string[] = [];
    const byPos = new Map<string, Candidate<() => InboxItemContent>>();
    for (const c of list) {
      const p = posToStreamId(c.pos);
      args.push(p, c.id);
      byPos.set(p, c);
    }
    return { list, args, byPos };
  }

  async listInbox(q: InboxQuery, now: number): Promise<InboxPage> {
    checkInboxQuery(q);
    const before = parseListingToken(q.before);
    const live = await this.#liveBroadcasts(now);
    const reply = (await this.#scripts.heraldList(
      ...this.#inboxKeys(q.clientId),
      now,
      this.#retentionMs,
      this.#streamTtlMs,
      q.deviceId ?? '',
      q.filter ?? 'default',
      q.limit,
      before?.src ?? '',
      before ? posToStreamId(before.pos) : '',
      ...live.args,
    )) as unknown[];
    const epoch = reply[3] as string;
    const items: InboxItem[] = [];
    let last: { key: ListingKey; epoch: string } | undefined;
    for (let i = 4; i < reply.length; ) {
      if (reply[i] === 'c') {
        const [p, fields, state, u] = reply.slice(i + 1, i + 5) as [string, string[], string, string];
        const content = updatedContent(u) ?? contentOf(fromEntry(q.clientId, epoch, p, fields));
        items.push(listedItem(content, q.clientId, parseState(state)));
        last = { key: { src: 'c', pos: streamIdToPos(p) }, epoch };
        i += 5;
      } else {
        const [p, , state] = reply.slice(i + 1, i + 4) as [string, string, string];
        const c = live.byPos.get(p) as Candidate<() => InboxItemContent>;
        items.push(listedItem(c.ref(), q.clientId, parseState(state)));
        last = { key: { src: 'b', pos: c.pos }, epoch: c.epoch };
        i += 4;
      }
    }
    return { items, unseen: Number(reply[0]), unread: Number(reply[1]), next: reply[2] === '1' && last ? listingToken(last.key, last.epoch) : null };
  }

  async inboxCounts(clientId: string, deviceIds: readonly (string | null)[], now: number): Promise<InboxCounts[]> {
    if (deviceIds.length === 0) return [];
    const live = await this.#liveBroadcasts(now);
    const reply = (await this.#scripts.heraldCounts(
      ...this.#inboxKeys(clientId),
      now,
      this.#retentionMs,
      this.#streamTtlMs,
      deviceIds.length,
      ...deviceIds.map((d) => d ?? ''),
      ...live.args,
    )) as number[];
    return deviceIds.map((_, i) => ({ unseen: Number(reply[2 * i]), unread: Number(reply[2 * i + 1]) }));
  }

  async setState(clientId: string, change: StateChange, now: number): Promise<StateResult> {
    checkStateChange(change);
    // No script can read the broadcast stream (another slot): it gets the live broadcasts.
    const live = await this.#liveBroadcasts(now);
    const flag = (v: boolean | undefined) => (v === undefined ? '' : v ? '1' : '0');
    const eventId = uuidv7(now);
    const flags = changeFlags(change);
    const flagsJson = JSON.stringify(flags).slice(1, -1);
    const ids = change.ids === undefined ? [] : [...change.ids];
    const reply = (await this.#scripts.heraldSetState(
      ...this.#inboxKeys(clientId),
      now,
      this.#retentionMessages,
      this.#retentionMs,
      this.#retentionEvents,
      this.#streamTtlMs,
      change.scope ?? '',
      change.ids === undefined ? 'all' : 'ids',
      flag(change.seen),
      flag(change.read),
      flag(change.archived),
      newEpoch(),
      `{"id":${JSON.stringify(eventId)},"ts":${now},"event":{`,
      `${flagsJson === '' ? '' : `${flagsJson},`}"by":${JSON.stringify(change.by)},"scope":${JSON.stringify(change.scope)}}}`,
      live.list.length === 0 ? '' : posToStreamId(live.list[0].pos),
      ids.length,
      ...ids,
      ...live.args,
    )) as (string | number)[];
    const updated = Number(reply[0]);
    const counts = { unseen: Number(reply[1]), unread: Number(reply[2]) };
    if (updated === 0) return { updated: 0, ...counts, event: null };
    const event: StateEvent =
      change.ids === undefined
        ? { all: true, ...flags, by: change.by, scope: change.scope }
        : { ids: reply.slice(6).map(String), ...flags, by: change.by, scope: change.scope };
    const entry = eventEntry(clientId, null, 'state', event, eventId, now, { pos: String(reply[3]), prev: String(reply[4]), epoch: String(reply[5]) });
    return { updated, ...counts, event: entry };
  }

  /**
   * Reads a listed item and runs ITEM_LUA against what it read: compare and set, so a concurrent
   * update makes it read again (a few times; updates of one item are rare and short).
   */
  async #changeItem(
    clientId: string | null,
    id: string,
    now: number,
    mode: 'update' | 'delete',
    build: (content: InboxItemContent) => { item?: InboxItemContent; event: StoredNotification['event'] },
  ): Promise<{ item?: InboxItemContent; event: StoredNotification } | null> {
    const keys = this.#inboxKeys(clientId ?? BROADCAST_TAG);
    for (let attempt = 0; attempt < 10; attempt++) {
      const read = (await this.#scripts.heraldItemRead(...keys, now, this.#retentionMs, this.#streamTtlMs, id)) as [string, string[], string] | [];
      if (read.length === 0) return null;
      const [p, fields, u] = read;
      const n = fromEntry(clientId, '', p, fields);
      const content = updatedContent(u) ?? contentOf(n);
      const { item, event } = build(content);
      const eventId = uuidv7(now);
      const reply = (await this.#scripts.heraldItem(
        ...keys,
        now,
        this.#retentionMessages,
        this.#retentionMs,
        this.#retentionEvents,
        this.#streamTtlMs,
        mode,
        p,
        id,
        String(content.version),
        item ? `${item.version}|${JSON.stringify(item)}` : '',
        eventJson(eventId, now, event),
        n.deviceId ?? '',
        n.collapseKey ?? '',
      )) as string[];
      if (reply[0] === 'gone') return null;
      if (reply[0] === 'ok') {
        const entry = eventEntry(clientId, n.deviceId, mode, event, eventId, now, { pos: reply[1], prev: reply[2], epoch: reply[3] });
        return { item, event: entry };
      }
    }
    throw new Error(`inbox item ${id} kept changing under a ${mode}`);
  }

  async updateItem(clientId: string | null, id: string, patch: ItemPatch, now: number): Promise<{ item: InboxItemContent; event: StoredNotification } | null> {
    const r = await this.#changeItem(clientId, id, now, 'update', (old) => {
      const item: InboxItemContent = { ...old, version: old.version + 1, updatedAt: now };
      if (patch.title !== undefined) item.title = patch.title;
      if (patch.message !== undefined) item.message = patch.message;
      if (patch.data !== undefined) item.data = patch.data;
      return { item, event: item };
    });
    return r && { item: r.item as InboxItemContent, event: r.event };
  }

  async deleteItem(clientId: string | null, id: string, now: number): Promise<{ event: StoredNotification } | null> {
    const r = await this.#changeItem(clientId, id, now, 'delete', () => ({ event: { id } }));
    return r && { event: r.event };
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
