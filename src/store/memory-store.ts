import { type Cursor, isAfter, laterCursor, laterMark, newEpoch, type StreamPos } from '../core/cursor.js';
import { uuidv7 } from '../core/ids.js';
import type { AppendResult, PublishInput, ReplayQuery, ReplayResult, Store, StoredNotification, Target } from '../core/types.js';
import { mergeByTime, type Placement, placePending, placeReader, type StreamBounds } from './streams.js';

export interface MemoryStoreOptions {
  /** @default 1000 */
  retentionMessages: number;
  /** @default 86_400_000 */
  retentionMs: number;
}

const BROADCAST = '\u0000broadcast';

/** One append-only stream: a client's own, or the broadcast stream. */
class Stream {
  /** This stream's generation: a stream dropped by prune and created again gets a new one. */
  readonly epoch = newEpoch();
  items: StoredNotification[] = [];
  start = 0;
  last: StreamPos | null = null;
  /** The newest position dropped by retention: a cursor before it has lost something. */
  trimmedThrough: StreamPos | null = null;
  /** The first position this stream ever handed out: a cursor before it predates this store. */
  first: StreamPos | null = null;
  /** Publisher-given ids (idempotency keys) → their notification, while retained. */
  keyed = new Map<string, StoredNotification>();

  get size(): number {
    return this.items.length - this.start;
  }

  get bounds(): StreamBounds {
    return { epoch: this.epoch, first: this.first, last: this.last, trimmed: this.trimmedThrough };
  }

  nextPos(now: number): StreamPos {
    const last = this.last;
    const pos = last === null || now > last.ms ? { ms: now, seq: 0 } : { ms: last.ms, seq: last.seq + 1 };
    this.last = pos;
    this.first ??= pos;
    return pos;
  }

  dropOldest(): void {
    const item = this.items[this.start];
    this.items[this.start++] = undefined as unknown as StoredNotification;
    this.trimmedThrough = item.pos;
    if (this.keyed.get(item.id) === item) this.keyed.delete(item.id);
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.start = 0;
    }
  }

  trim(now: number, opts: MemoryStoreOptions): void {
    while (this.size > opts.retentionMessages) this.dropOldest();
    const oldest = now - opts.retentionMs;
    while (this.size > 0 && this.items[this.start].ts < oldest) this.dropOldest();
  }

  /** Items after `after`, oldest first (binary search: positions are sorted). */
  after(after: StreamPos | null): StoredNotification[] {
    let lo = this.start;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(this.items[mid].pos, after)) hi = mid;
      else lo = mid + 1;
    }
    return this.items.slice(lo);
  }
}

/**
 * The embedded store: everything in this process's memory, bounded by retention. Lost on restart;
 * use the Redis store where that matters.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #streams = new Map<string, Stream>();
  readonly #deviceCursors = new Map<string, Cursor>();
  readonly #clientAcked = new Map<string, { pos: StreamPos; epoch: string | null }>();
  readonly #opts: MemoryStoreOptions;

  constructor(opts: MemoryStoreOptions) {
    this.#opts = opts;
  }

  #stream(key: string, create: true): Stream;
  #stream(key: string, create: false): Stream | undefined;
  #stream(key: string, create: boolean): Stream | undefined {
    let s = this.#streams.get(key);
    if (!s && create) {
      s = new Stream();
      this.#streams.set(key, s);
    }
    return s;
  }

  async append(target: Target, input: PublishInput, now: number): Promise<AppendResult> {
    const key = target.kind === 'broadcast' ? BROADCAST : target.clientId;
    const stream = this.#stream(key, true);
    stream.trim(now, this.#opts);
    if (input.id !== undefined) {
      const existing = stream.keyed.get(input.id);
      if (existing) return { notification: existing, duplicate: true, stored: true };
    }
    const prev = stream.last;
    const ttl = input.ttlMs;
    const notification: StoredNotification = {
      id: input.id ?? uuidv7(now),
      clientId: target.kind === 'broadcast' ? null : target.clientId,
      deviceId: target.kind === 'device' ? target.deviceId : null,
      title: input.title,
      message: input.message,
      service: input.service ?? 'default',
      data: input.data ?? null,
      ts: now,
      expiresAt: ttl === undefined ? null : now + ttl,
      priority: input.priority,
      pos: stream.nextPos(now),
      prev,
      epoch: stream.epoch,
    };
    const stored = ttl !== 0;
    if (stored) {
      stream.items.push(notification);
      if (input.id !== undefined) stream.keyed.set(input.id, notification);
      stream.trim(now, this.#opts);
    }
    return { notification, duplicate: false, stored };
  }

  async replay(q: ReplayQuery, now: number): Promise<ReplayResult> {
    const own = this.#stream(q.clientId, false);
    const bc = this.#stream(BROADCAST, false);
    own?.trim(now, this.#opts);
    bc?.trim(now, this.#opts);
    const live = (n: StoredNotification) => n.expiresAt === null || n.expiresAt > now;
    const pc = q.broadcasts ? placeReader(own?.bounds, q.after.c, q.after.ce) : placePending(own?.bounds, q.after.c, q.after.ce);
    const pb: Placement = q.broadcasts
      ? placeReader(bc?.bounds, q.after.b, q.after.be)
      : { from: bc?.last ?? null, epoch: bc?.epoch ?? null, lost: false, replay: false };
    const mine = pc.replay ? (own?.after(pc.from) ?? []).filter((n) => live(n) && (n.deviceId === null || n.deviceId === q.deviceId)) : [];
    const all = pb.replay ? (bc?.after(pb.from) ?? []).filter(live) : [];
    return {
      items: mergeByTime(mine, all),
      head: { c: own?.last ?? null, ce: own?.epoch ?? null, b: bc?.last ?? null, be: bc?.epoch ?? null },
      from: { c: pc.from, ce: pc.epoch, b: pb.from, be: pb.epoch },
      lost: pc.lost || pb.lost,
    };
  }

  async heads(clientId: string): Promise<Cursor> {
    const own = this.#stream(clientId, false);
    const bc = this.#stream(BROADCAST, false);
    return { c: own?.last ?? null, ce: own?.epoch ?? null, b: bc?.last ?? null, be: bc?.epoch ?? null };
  }

  async range(clientId: string | null, after: StreamPos | null, upTo: StreamPos, now: number): Promise<StoredNotification[]> {
    const s = this.#stream(clientId ?? BROADCAST, false);
    if (!s) return [];
    return s.after(after).filter((n) => !isAfter(n.pos, upTo) && (n.expiresAt === null || n.expiresAt > now));
  }

  async getDeviceCursor(clientId: string, deviceId: string): Promise<Cursor | null> {
    return this.#deviceCursors.get(`${clientId}:${deviceId}`) ?? null;
  }

  async getClientAcked(clientId: string): Promise<{ pos: StreamPos; epoch: string | null } | null> {
    return this.#clientAcked.get(clientId) ?? null;
  }

  async saveDeviceCursor(clientId: string, deviceId: string, cursor: Cursor): Promise<void> {
    const key = `${clientId}:${deviceId}`;
    const old = this.#deviceCursors.get(key);
    this.#deviceCursors.set(key, old ? laterCursor(old, cursor) : cursor);
    if (cursor.c === null) return;
    const acked = this.#clientAcked.get(clientId);
    const next = laterMark(acked ?? { pos: null, epoch: null }, { pos: cursor.c, epoch: cursor.ce });
    if (next.pos !== null) this.#clientAcked.set(clientId, { pos: next.pos, epoch: next.epoch });
  }

  async forgetDevice(clientId: string, deviceId: string): Promise<void> {
    this.#deviceCursors.delete(`${clientId}:${deviceId}`);
  }

  /** Drops streams that retention emptied, so memory follows live clients (called by the sweep). */
  prune(now: number): void {
    for (const [key, s] of this.#streams) {
      s.trim(now, this.#opts);
      if (s.size === 0 && key !== BROADCAST && (s.last === null || now - s.last.ms > this.#opts.retentionMs)) this.#streams.delete(key);
    }
  }

  async close(): Promise<void> {}
}
