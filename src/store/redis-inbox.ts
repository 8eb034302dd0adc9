import { posToStreamId } from '../core/cursor.js';
import type { InboxItemContent, ItemState, StoredNotification } from '../core/types.js';
import { type Candidate, contentOf } from './inbox.js';
import { fromEntry } from './redis-entries.js';

/**
 * The Redis store's side of the inbox in JS: a per-node cache of the broadcast stream (the client
 * scripts cannot read it: another cluster slot) and how its entries become candidates. Field names
 * are those of redis-scripts.ts.
 */

/** `<seenAt>,<readAt>,<archivedAt>` ('' = not) → state. */
export function parseState(v: string | undefined | null): ItemState | undefined {
  if (!v) return undefined;
  const c1 = v.indexOf(',');
  const c2 = v.indexOf(',', c1 + 1);
  const t = (s: string) => (s === '' ? null : Number(s));
  return { seenAt: t(v.slice(0, c1)), readAt: t(v.slice(c1 + 1, c2)), archivedAt: t(v.slice(c2 + 1)) };
}

/** An updated item's content from its inbox hash value (`<version>|<JSON>`), if updated. */
export function updatedContent(u: string | undefined | null): InboxItemContent | undefined {
  return u === undefined || u === null || u === '' ? undefined : (JSON.parse(u.slice(u.indexOf('|') + 1)) as InboxItemContent);
}

/** Within retention by age: what the scripts keep (positions at or after now - retention). */
function retained(ms: number, now: number, retentionMs: number): boolean {
  return now - retentionMs <= 0 || ms >= now - retentionMs;
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
    const [epoch, last] = reply as [string, string];
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
    // Retention by count, as the scripts apply it (exactly); by age at use. Not by \`trimmed\`:
    // the event bound moves it past notifications that are still held.
    const drop = c.items.length - this.#retentionMessages;
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
export function broadcastCandidates(
  b: Cached,
  clientX: Record<string, string> | null,
  reg: number,
  now: number,
  retentionMs: number,
): Candidate<() => InboxItemContent>[] {
  const out: Candidate<() => InboxItemContent>[] = [];
  for (const n of b.items) {
    if (n.pos.ms < reg) continue;
    if (!retained(n.pos.ms, now, retentionMs)) continue;
    const pos = posToStreamId(n.pos);
    if (n.expiresAt !== null && n.expiresAt <= now) continue;
    if (b.x[`g:${n.id}`] !== undefined) continue;
    out.push({
      id: n.id,
      deviceId: null,
      pos: n.pos,
      epoch: n.epoch,
      src: 'b',
      state: clientX ? parseState(clientX[`b:${pos}`]) : undefined,
      ref: () => updatedContent(b.x[`u:${n.id}`]) ?? contentOf(n),
    });
  }
  return out;
}
