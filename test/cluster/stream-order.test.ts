import { describe, expect, it } from 'vitest';
import { StreamOrder } from '../../src/cluster/stream-order.js';
import type { StreamPos } from '../../src/core/cursor.js';
import type { StoredNotification } from '../../src/core/types.js';

const pos = (seq: number): StreamPos => ({ ms: 1000, seq });

/** Notification `seq` of a stream (a client's, or broadcasts with null): its prev is seq - 1, none for the first. */
function n(seq: number, clientId: string | null = 'alice'): StoredNotification {
  return {
    id: `${clientId ?? 'b'}${seq}`,
    clientId,
    deviceId: null,
    title: 't',
    message: 'm',
    service: 's',
    data: null,
    ts: 1,
    expiresAt: null,
    pos: pos(seq),
    prev: seq === 1 ? null : pos(seq - 1),
    epoch: 'e',
  };
}

interface RangeCall {
  clientId: string | null;
  after: number | null;
  upTo: number;
  resolve(): void;
  reject(err: Error): void;
}

/**
 * A node around one StreamOrder: which streams it holds, a fake store (every stream holds seq 1 …
 * `stored`), what was delivered, and store reads that wait until the test lets them answer.
 */
function fakeNode(opts: { stored?: number; autoAnswer?: boolean } = {}) {
  const stored = opts.stored ?? 20;
  const held = new Set<string>();
  const delivered: string[] = [];
  const failures: string[] = [];
  const lost: (string | null)[] = [];
  const ranges: RangeCall[] = [];
  let repaired = 0;
  const order = new StreamOrder({
    holds: (clientId) => (clientId === null ? held.size > 0 : held.has(clientId)),
    range: (clientId, after, upTo) =>
      new Promise((resolve, reject) => {
        const call: RangeCall = {
          clientId,
          after: after?.seq ?? null,
          upTo: upTo.seq,
          resolve: () => {
            const out: StoredNotification[] = [];
            for (let seq = (after?.seq ?? 0) + 1; seq <= Math.min(upTo.seq, stored); seq++) out.push(n(seq, clientId));
            resolve(out);
          },
          reject,
        };
        ranges.push(call);
        if (opts.autoAnswer !== false) call.resolve();
      }),
    head: async () => pos(stored),
    deliver: (x) => {
      delivered.push(x.id);
      return 1;
    },
    repaired: () => repaired++,
    failed: (what) => failures.push(what),
    lost: (clientId) => lost.push(clientId),
  });
  /** Lets pending store reads answer and their continuations run. */
  const settle = () => new Promise((r) => setTimeout(r, 0));
  return {
    order,
    held,
    delivered,
    failures,
    lost,
    ranges,
    settle,
    get repaired() {
      return repaired;
    },
    /** A session of `clientId` attached here (replaying: not live yet). */
    attach: (clientId: string) => held.add(clientId),
    /** Its last session left. */
    leave: (clientId: string) => {
      held.delete(clientId);
      order.sessionLeft(clientId);
    },
    live: (clientId: string, c: number | null, b: number | null = null) =>
      order.sessionLive(clientId, { c: c === null ? null : pos(c), b: b === null ? null : pos(b) }),
  };
}

describe('StreamOrder: ordered delivery without Redis', () => {
  it('in order: each arrival is handed over at once, no store read', () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', 3);
    expect([4, 5, 6].map((s) => f.order.arrived(n(s)))).toEqual([1, 1, 1]);
    expect(f.delivered).toEqual(['alice4', 'alice5', 'alice6']);
    expect(f.ranges).toHaveLength(0);
  });

  it('drops arrivals of a stream this node holds no session of', () => {
    const f = fakeNode();
    f.attach('bob');
    f.live('bob', 0);
    expect(f.order.arrived(n(1, 'alice'))).toBe(0);
    f.attach('alice');
    f.live('alice', 1);
    f.order.arrived(n(2, 'alice'));
    expect(f.delivered).toEqual(['alice2']);
    expect(f.ranges).toHaveLength(0);
  });

  it('duplicates (pub/sub redelivery, or at or before the known position) are dropped', () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', 3);
    f.order.arrived(n(3));
    f.order.arrived(n(4));
    f.order.arrived(n(4));
    f.order.arrived(n(2));
    f.order.arrived(n(5));
    expect(f.delivered).toEqual(['alice4', 'alice5']);
  });

  it('two publishers crossing (n2 before n1): n1 is read from the store, both delivered in order, the late n1 dropped', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 0);
    expect(f.order.arrived(n(2))).toBe(0);
    expect(f.ranges.map((r) => [r.clientId, r.after, r.upTo])).toEqual([['alice', 0, 2]]);
    // n1 arrives while the gap is read: it waits with the rest.
    expect(f.order.arrived(n(1))).toBe(0);
    expect(f.delivered).toEqual([]);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice1', 'alice2']);
    f.order.arrived(n(3));
    expect(f.delivered).toEqual(['alice1', 'alice2', 'alice3']);
    expect(f.repaired).toBe(1);
  });

  it('a gap (pub/sub lost n2, n3) is repaired from the store; what arrives during the read waits its turn', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 1);
    f.order.arrived(n(2));
    f.order.arrived(n(5));
    expect(f.ranges.map((r) => [r.after, r.upTo])).toEqual([[2, 5]]);
    f.order.arrived(n(6));
    f.order.arrived(n(7));
    expect(f.delivered).toEqual(['alice2']);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice2', 'alice3', 'alice4', 'alice5', 'alice6', 'alice7']);
    f.order.arrived(n(8));
    expect(f.delivered.at(-1)).toBe('alice8');
    expect(f.ranges).toHaveLength(1);
  });

  it('a second gap that opens while a repair reads, beyond what it reads, is read in turn (n4 is not skipped)', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 1);
    f.order.arrived(n(3));
    expect(f.ranges.map((r) => [r.after, r.upTo])).toEqual([[1, 3]]);
    // While n2..n3 are read: n5 arrives, n4 is still on its way.
    f.order.arrived(n(5));
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice2', 'alice3']);
    expect(f.ranges.map((r) => [r.after, r.upTo])).toEqual([
      [1, 3],
      [3, 5],
    ]);
    f.order.arrived(n(4));
    f.ranges[1].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice2', 'alice3', 'alice4', 'alice5']);
  });

  it('a fresh stream (empty at the replay: head null) whose second notification arrives before its first', async () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', null);
    expect(f.order.arrived(n(2))).toBe(0);
    expect(f.ranges.map((r) => [r.after, r.upTo])).toEqual([[null, 2]]);
    await f.settle();
    f.order.arrived(n(1));
    expect(f.delivered).toEqual(['alice1', 'alice2']);
  });

  it('a fresh stream whose first notification comes in order is delivered at once (a null head is a known position)', () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', null);
    expect(f.order.arrived(n(1))).toBe(1);
    expect(f.delivered).toEqual(['alice1']);
    expect(f.ranges).toHaveLength(0);
  });

  it('arrivals before any session is live wait; the first live session says where the stream stands, then they are delivered from there in order', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    expect(f.order.arrived(n(3))).toBe(0);
    expect(f.order.arrived(n(2))).toBe(0);
    expect(f.order.arrived(n(4))).toBe(0);
    expect(f.delivered).toEqual([]);
    expect(f.ranges).toHaveLength(0);
    // The replay handed the session up to n2: only what follows is delivered live.
    f.live('alice', 2);
    expect(f.ranges.map((r) => [r.after, r.upTo])).toEqual([[2, 4]]);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice3', 'alice4']);
  });

  it('a second session whose replay head is ahead of what the first was handed: the known position stays, the later arrival is still delivered', () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', 1);
    // n2 and n3 are published; the second device's replay already read them, pub/sub is slower.
    f.live('alice', 3);
    f.order.arrived(n(2));
    f.order.arrived(n(3));
    expect(f.delivered).toEqual(['alice2', 'alice3']);
    expect(f.ranges).toHaveLength(0);
  });

  it('the last session leaving forgets the position: a later session starts from its own replay head', async () => {
    const f = fakeNode();
    f.attach('alice');
    f.live('alice', 0);
    f.order.arrived(n(1));
    f.leave('alice');
    expect(f.order.arrived(n(2))).toBe(0);
    // Back, replayed up to n5: delivery continues from there, nothing between n1 and n5 is read again.
    f.attach('alice');
    f.live('alice', 5);
    f.order.arrived(n(6));
    await f.settle();
    expect(f.delivered).toEqual(['alice1', 'alice6']);
    expect(f.ranges).toHaveLength(0);
  });

  it('arrivals that waited for a session that left are forgotten with it', async () => {
    const f = fakeNode();
    f.attach('alice');
    f.order.arrived(n(1));
    f.leave('alice');
    f.attach('alice');
    f.live('alice', 1);
    await f.settle();
    expect(f.ranges).toHaveLength(0);
    f.order.arrived(n(2));
    expect(f.delivered).toEqual(['alice2']);
  });

  it("a repair that fails (store throws) is reported, delivers nothing past the gap, and sends the stream's sessions to resume from the store", async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 1);
    f.order.arrived(n(4));
    f.order.arrived(n(3));
    f.ranges[0].reject(new Error('store down'));
    await f.settle();
    expect(f.failures).toEqual(['gap repair']);
    expect(f.repaired).toBe(0);
    // Delivering 3 and 4 would move the devices' cursors past 2, which they never got.
    expect(f.delivered).toEqual([]);
    expect(f.lost).toEqual(['alice']);
    // The stream is forgotten: its next session going live says where it stands again.
    f.order.arrived(n(5));
    expect(f.delivered).toEqual([]);
    f.live('alice', 5);
    f.order.arrived(n(6));
    f.ranges[1].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['alice6']);
  });

  it('the broadcast stream: ordered on its own, known from the first live session of any client, forgotten only when the node has no session', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', null, 2);
    f.order.arrived(n(3, null));
    f.order.arrived(n(5, null));
    expect(f.ranges.map((r) => [r.clientId, r.after, r.upTo])).toEqual([[null, 3, 5]]);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['b3', 'b4', 'b5']);
    // Bob's replay is further on the broadcast stream: the position stays.
    f.attach('bob');
    f.live('bob', null, 7);
    f.order.arrived(n(6, null));
    // Alice leaves, Bob stays: the broadcast stream is still known here.
    f.leave('alice');
    f.order.arrived(n(7, null));
    expect(f.delivered).toEqual(['b3', 'b4', 'b5', 'b6', 'b7']);
    // No session left: forgotten; the next session's head is where it starts.
    f.leave('bob');
    expect(f.order.arrived(n(8, null))).toBe(0);
    f.attach('carol');
    f.live('carol', null, 9);
    f.order.arrived(n(10, null));
    expect(f.delivered).toEqual(['b3', 'b4', 'b5', 'b6', 'b7', 'b10']);
    expect(f.ranges).toHaveLength(1);
  });

  it('a client stream and the broadcast stream do not wait for each other', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 0, 0);
    f.order.arrived(n(2));
    f.order.arrived(n(1, null));
    expect(f.delivered).toEqual(['b1']);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual(['b1', 'alice1', 'alice2']);
  });

  it('a repair in flight when the last session leaves hands nothing over, even to a session that came back meanwhile', async () => {
    const f = fakeNode({ autoAnswer: false });
    f.attach('alice');
    f.live('alice', 1);
    f.order.arrived(n(3));
    expect(f.ranges).toHaveLength(1);
    f.leave('alice');
    f.attach('alice');
    f.live('alice', 4);
    f.ranges[0].resolve();
    await f.settle();
    expect(f.delivered).toEqual([]);
    // The new session's position (4) is untouched by the stale repair.
    f.order.arrived(n(5));
    expect(f.delivered).toEqual(['alice5']);
    expect(f.ranges).toHaveLength(1);
  });

  it('recovery after an outage reads every known stream from its position up to the store head', async () => {
    const f = fakeNode({ stored: 6 });
    f.attach('alice');
    f.live('alice', 3, 6);
    f.order.arrived(n(4));
    await f.order.recover();
    expect(f.ranges.map((r) => [r.clientId, r.after, r.upTo])).toEqual([['alice', 4, 6]]);
    expect(f.delivered).toEqual(['alice4', 'alice5', 'alice6']);
    f.order.arrived(n(6));
    f.order.arrived(n(7));
    expect(f.delivered).toEqual(['alice4', 'alice5', 'alice6', 'alice7']);
  });
});
