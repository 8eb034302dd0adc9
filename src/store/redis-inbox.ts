import { isAfter, posToStreamId, streamIdToPos } from '../core/cursor.js';
import type { InboxItemContent, ItemState, StoredNotification } from '../core/types.js';
import { type Candidate, contentOf } from './inbox.js';
import { entryItemId, fromEntry, optPos } from './redis-entries.js';

/**
 * The Redis store's inbox reads: a client's keys read in one transaction, a per-node cache of the
 * broadcast stream, and the candidates (store/inbox.ts) built from them. Field names are those of
 * redis-scripts.ts.
 */

/** One read of a client's keys (one transaction: one slot, one consistent view). */
export interface ClientSnapshot {
  /** When the client registered (ms), or null: no broadcasts in its inbox. */
  reg: number | null;
  /** The inbox hash. */
  x: Record<string, string>;
  /** The notifications, oldest first: [position, fields]. */
  entries: [string, string[]][];
  epoch: string;
}

/** `<seenAt>,<readAt>,<archivedAt>` ('' = not) → state. */
export function parseState(v: string | undefined): ItemState | undefined {
  if (!v) return undefined;
  const c1 = v.indexOf(',');
  const c2 = v.indexOf(',', c1 + 1);
  const t = (s: string) => (s === '' ? null : Number(s));
  return { seenAt: t(v.slice(0, c1)), readAt: t(v.slice(c1 + 1, c2)), archivedAt: t(v.slice(c2 + 1)) };
}

/** An updated item's content from the inbox hash (`u:<id>` = `<version>|<JSON>`), if updated. */
function updatedContent(x: Record<string, string>, id: string): InboxItemContent | undefined {
  const u = x[`u:${id}`];
  return u === undefined ? undefined : (JSON.parse(u.slice(u.indexOf('|') + 1)) as InboxItemContent);
}

/** Within retention by age: what trimAge keeps (positions at or after now - retention). */
function retained(pos: string, now: number, retentionMs: number): boolean {
  return now - retentionMs <= 0 || Number(pos.slice(0, pos.indexOf('-'))) >= now - retentionMs;
}

/**
 * The client's own items, oldest first: retained, not expired, not deleted or replaced. Reads the
 * three fields it needs per entry and decodes an entry's JSON only when its content is asked for.
 */
export function clientCandidates(clientId: string, snap: ClientSnapshot, now: number, retentionMs: number): Candidate[] {
  const out: Candidate[] = [];
  const { x, epoch } = snap;
  for (const [pos, fields] of snap.entries) {
    if (!retained(pos, now, retentionMs)) continue;
    let json = '';
    let device = '';
    let expires = '';
    for (let i = 0; i < fields.length; i += 2) {
      const k = fields[i];
      if (k === 'j') json = fields[i + 1];
      else if (k === 'd') device = fields[i + 1];
      else if (k === 'x') expires = fields[i + 1];
    }
    if (expires !== '' && Number(expires) <= now) continue;
    const id = entryItemId(json);
    if (x[`g:${id}`] !== undefined) continue;
    out.push({
      id,
      deviceId: device === '' ? null : device,
      pos: streamIdToPos(pos),
      epoch,
      src: 'c',
      state: parseState(x[`s:${id}`]),
      content: () => updatedContent(x, id) ?? contentOf(fromEntry(clientId, epoch, pos, fields)),
    });
  }
  return out;
}

export interface Cached {
  epoch: string;
  last: string;
  /** Notifications, oldest first. */
  items: StoredNotification[];
  /** The broadcast inbox hash's `u:` and `g:` fields. */
  x: Record<string, string>;
}

/**
 * This node's copy of the broadcast stream's notifications and their inbox fields, brought up to
 * date by one small script per use (BROADCAST_SYNC_LUA: only the head when nothing changed, else
 * what was appended since), so listings and state changes do not read every broadcast each time.
 * Retention is applied here the way the scripts apply it.
 */
export class BroadcastCache {
  readonly #sync: (epoch: string, last: string) => Promise<unknown[]>;
  readonly #retentionMessages: number;
  #cached: Cached = { epoch: '', last: '', items: [], x: {} };
  #running: Promise<Cached> | null = null;
  #queued: Promise<Cached> | null = null;

  constructor(sync: (epoch: string, last: string) => Promise<unknown[]>, retentionMessages: number) {
    this.#sync = sync;
    this.#retentionMessages = retentionMessages;
  }

  /**
   * The broadcasts as Redis holds them now: from a sync that starts after this call (one running
   * already may have read before a change the caller has seen), shared by every caller waiting.
   */
  fresh(): Promise<Cached> {
    if (this.#queued) return this.#queued;
    if (!this.#running) return this.#start();
    const queued = this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    this.#queued = queued;
    void queued.finally(() => {
      if (this.#queued === queued) this.#queued = null;
    });
    return queued;
  }

  #start(): Promise<Cached> {
    if (this.#queued) this.#queued = null;
    const run = this.#sync(this.#cached.epoch, this.#cached.last).then((reply) => this.#apply(reply));
    this.#running = run;
    void run.then(
      () => this.#done(run),
      () => this.#done(run),
    );
    return run;
  }

  #done(run: Promise<Cached>): void {
    if (this.#running === run) this.#running = null;
  }

  #apply(reply: unknown[]): Cached {
    const [epoch, last, trimmed] = reply as [string, string, string];
    let c = this.#cached;
    if (reply.length > 3) {
      const full = reply[3] === '1';
      const n = Number(reply[4]);
      const items = full ? [] : c.items.slice();
      for (let i = 0; i < n; i++) items.push(fromEntry(null, epoch, reply[5 + 2 * i] as string, reply[6 + 2 * i] as string[]));
      const x: Record<string, string> = {};
      for (let i = 5 + 2 * n; i < reply.length; i += 2) x[reply[i] as string] = reply[i + 1] as string;
      c = { epoch, last, items, x };
    } else if (epoch !== c.epoch) c = { epoch, last, items: [], x: {} };
    const cut = optPos(trimmed);
    let drop = Math.max(0, c.items.length - this.#retentionMessages);
    while (drop < c.items.length && cut !== null && !isAfter(c.items[drop].pos, cut)) drop++;
    if (drop > 0) c = { ...c, items: c.items.slice(drop) };
    this.#cached = c;
    return c;
  }
}

/**
 * The broadcasts in a client's inbox, oldest first: published at or after its registration (`reg`,
 * ms; 0 = every broadcast, for global changes), retained, not expired, not deleted or replaced;
 * with the client's state of each (`b:<position>` in its inbox hash).
 */
export function broadcastCandidates(b: Cached, clientX: Record<string, string> | null, reg: number, now: number, retentionMs: number): Candidate[] {
  const out: Candidate[] = [];
  for (const n of b.items) {
    if (n.pos.ms < reg) continue;
    const pos = posToStreamId(n.pos);
    if (!retained(pos, now, retentionMs)) continue;
    if (n.expiresAt !== null && n.expiresAt <= now) continue;
    if (b.x[`g:${n.id}`] !== undefined) continue;
    out.push({
      id: n.id,
      deviceId: null,
      pos: n.pos,
      epoch: n.epoch,
      src: 'b',
      state: clientX ? parseState(clientX[`b:${pos}`]) : undefined,
      content: () => updatedContent(b.x, n.id) ?? contentOf(n),
    });
  }
  return out;
}
