import { type Cursor, comparePos, isAfter, maxPos, type StreamPos } from '../core/cursor.js';
import type { StoredNotification } from '../core/types.js';

/** The store's notifications of one stream (a client id, or null: broadcasts) after `after`, up to and including `upTo`. */
export type RangeFn = (clientId: string | null, after: StreamPos | null, upTo: StreamPos) => Promise<StoredNotification[]>;

/** What {@link StreamOrder} needs from its node: no Redis, so it is tested with fakes. */
export interface StreamOrderOptions {
  /**
   * Whether this node holds a session (replaying or live) of the stream: a client id, or null for
   * the broadcast stream (any session). Arrivals of streams it does not hold are not for this node.
   */
  holds(clientId: string | null): boolean;
  /** Reads what pub/sub did not bring, in order, from the store. */
  range: RangeFn;
  /** The stream's current head in the store (recovery after an outage); null when empty. */
  head(clientId: string | null): Promise<StreamPos | null>;
  /** Hands a notification to this node's sessions; how many it was handed to. */
  deliver(n: StoredNotification): number;
  /** A store read for a repair succeeded (a counter). */
  repaired?(): void;
  /** A store read failed: the caller counts and logs it. */
  failed(what: string, err: unknown): void;
  /**
   * A gap in the stream could not be read: the node's sessions of it (a client id; null: every
   * session) must resume from the store, so the node closes them for a reconnect (1012) — handing
   * them what came after the gap would move their cursors past notifications they never got.
   */
  lost(clientId: string | null): void;
}

const BROADCAST = '\u0000b';

function keyOf(clientId: string | null): string {
  return clientId ?? BROADCAST;
}

function clientOf(key: string): string | null {
  return key === BROADCAST ? null : key;
}

function byPosition(a: StoredNotification, b: StoredNotification): number {
  return comparePos(a.pos, b.pos);
}

/**
 * Hands notifications that arrive from other nodes (and this node's own publishes) to local
 * sessions in stream order, with none missing, whatever order pub/sub relays them in.
 *
 * Rules, per stream (a client's, and the broadcast stream):
 * - A stream with no live local session has no known position: arrivals wait until the first
 *   session goes live and says where the stream stands (its replay's head; null for an empty
 *   stream), then are repaired from there, since the order they arrived in is not the stream's.
 * - A known position is not moved by a later session's replay head: that session may be ahead of
 *   what the others were handed, and they still need what lies between (sessions drop positions
 *   they already have).
 * - A notification whose `prev` is after the known position skips one this node has not seen
 *   (pub/sub lost it, or two nodes' publishes crossed): the gap is read from the store, and what
 *   arrives meanwhile waits, then all are delivered in order; a gap that opened during the read,
 *   beyond what it covered, is read in turn. A failed read is reported, nothing beyond the gap is
 *   delivered, the stream is forgotten and its local sessions are told to resume from the store
 *   (`lost`): a device's cursor never moves past a notification it did not get.
 * - A position at or before the known one is a duplicate and dropped.
 * - When the stream's last local session leaves, its position and waiting arrivals are forgotten
 *   (the broadcast stream's when the node has no session at all); a repair in flight then hands
 *   nothing over.
 */
export class StreamOrder {
  readonly #o: StreamOrderOptions;
  /** Last position handed to local sessions, per stream; null: the stream was empty. No entry: unknown. */
  readonly #last = new Map<string, StreamPos | null>();
  /** Arrivals waiting for a repair, or for the stream's position to be known. */
  readonly #waiting = new Map<string, StoredNotification[]>();

  constructor(opts: StreamOrderOptions) {
    this.#o = opts;
  }

  /** A notification arrived (pub/sub, or published here); how many local sessions got it now. */
  arrived(n: StoredNotification): number {
    const key = keyOf(n.clientId);
    if (!this.#o.holds(n.clientId)) return 0;
    const waiting = this.#waiting.get(key);
    if (waiting) {
      waiting.push(n);
      return 0;
    }
    if (!this.#last.has(key)) {
      this.#waiting.set(key, [n]);
      return 0;
    }
    const last = this.#last.get(key) ?? null;
    if (!isAfter(n.pos, last)) return 0;
    if (n.prev !== null && isAfter(n.prev, last)) {
      this.#waiting.set(key, [n]);
      void this.#repair(key, last);
      return 0;
    }
    this.#last.set(key, n.pos);
    return this.#o.deliver(n);
  }

  /**
   * A local session of `clientId` finished its replay at `head` (its client stream and the
   * broadcast stream). Tells a stream's position only if none is known yet.
   */
  sessionLive(clientId: string, head: Pick<Cursor, 'c' | 'b'>): void {
    this.#known(clientId, head.c);
    this.#known(BROADCAST, head.b);
  }

  #known(key: string, pos: StreamPos | null): void {
    if (this.#last.has(key)) return;
    this.#last.set(key, pos);
    if (this.#waiting.has(key)) void this.#repair(key, pos);
  }

  /** A local session of `clientId` ended: forgets the streams this node no longer holds. */
  sessionLeft(clientId: string): void {
    if (!this.#o.holds(clientId)) this.#forget(clientId);
    if (!this.#o.holds(null)) this.#forget(BROADCAST);
  }

  #forget(key: string): void {
    this.#last.delete(key);
    this.#waiting.delete(key);
  }

  /**
   * Reads what is missing before the waiting notifications (and up to `upTo`) from the store, then
   * delivers all in order from `from`. Hands nothing over if the stream was forgotten meanwhile.
   */
  async #repair(key: string, from: StreamPos | null, upTo: StreamPos | null = null): Promise<void> {
    const waiting = this.#waiting.get(key);
    if (!waiting) return;
    let end = upTo;
    for (const n of waiting) end = maxPos(end, n.pos);
    if (end === null) {
      this.#waiting.delete(key);
      return;
    }
    let read: StreamPos | null = null;
    try {
      const missed = await this.#o.range(clientOf(key), from, end);
      this.#o.repaired?.();
      waiting.push(...missed);
      read = end;
    } catch (err) {
      this.#o.failed('gap repair', err);
      if (this.#waiting.get(key) !== waiting) return;
      this.#waiting.delete(key);
      this.#last.delete(key);
      this.#o.lost(clientOf(key));
      return;
    }
    if (this.#waiting.get(key) !== waiting) return; // the stream's last local session left meanwhile
    this.#waiting.delete(key);
    waiting.sort(byPosition);
    let last = from;
    for (let i = 0; i < waiting.length; i++) {
      const n = waiting[i];
      if (!isAfter(n.pos, last)) continue;
      if (read !== null && isAfter(n.pos, read) && n.prev !== null && isAfter(n.prev, last)) {
        // A gap that opened during the read, beyond what it covered: read again from here.
        this.#waiting.set(key, waiting.slice(i));
        void this.#repair(key, last);
        return;
      }
      last = n.pos;
      this.#last.set(key, n.pos);
      this.#o.deliver(n);
    }
  }

  /**
   * After an outage (pub/sub may have dropped anything): every known stream is read from its
   * position up to its head in the store and delivered in order.
   */
  async recover(): Promise<void> {
    for (const key of [...this.#last.keys()]) {
      if (this.#waiting.has(key)) continue;
      let head: StreamPos | null;
      try {
        head = await this.#o.head(clientOf(key));
      } catch (err) {
        this.#o.failed('recovery repair', err);
        continue;
      }
      if (!this.#last.has(key) || this.#waiting.has(key)) continue;
      const last = this.#last.get(key) ?? null;
      if (head === null || !isAfter(head, last)) continue;
      this.#waiting.set(key, []);
      await this.#repair(key, last, head);
    }
  }
}
