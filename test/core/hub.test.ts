import { describe, expect, it } from 'vitest';
import { START } from '../../src/core/cursor.js';
import type { CloseReason } from '../../src/core/disconnect.js';
import { jsonEncoder, Outgoing } from '../../src/core/frames.js';
import { Hub, type HubOptions } from '../../src/core/hub.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Session, TransportConnection } from '../../src/core/session.js';
import type { StoredNotification } from '../../src/core/types.js';

/** A transport that records frames: the fake peer of the heartbeat tests. */
class FakeConn implements TransportConnection {
  readonly kind = 'ws' as const;
  readonly encoder = jsonEncoder;
  readonly frames: { type: string; [k: string]: unknown }[] = [];
  ended: CloseReason | null = null;
  canWrite = true;
  write(frames: Buffer[]): void {
    for (const f of frames) this.frames.push(JSON.parse(f.toString()));
  }
  bufferedBytes(): number {
    return 0;
  }
  writable(): boolean {
    return this.canWrite;
  }
  end(reason: CloseReason): void {
    this.ended = reason;
  }
  get pings(): number {
    return this.frames.filter((f) => f.type === 'ping').length;
  }
}

function fakeHub(over: Partial<HubOptions> = {}) {
  const clock = { t: 1_000_000 };
  const hub = new Hub(
    {
      nodeId: 'n1',
      heartbeatIntervalMs: 1000,
      heartbeatTimeoutMs: 300,
      heartbeatMaxMissed: 3,
      idleTimeoutMs: 0,
      tokenGraceMs: 1000,
      sendQueueBytes: 1 << 20,
      sendQueueMessages: 1000,
      maxDevicesPerClient: 5,
      clientLimitPolicy: 'evict-oldest',
      maxConnections: 1_000_000,
      presenceGraceMs: 0,
      detachedTtlMs: 1000,
      staleSweepMs: 3_600_000,
      now: () => clock.t,
      ...over,
    },
    silentLogger,
  );
  const attach = (clientId: string, deviceId: string) => {
    const conn = new FakeConn();
    const s = hub.attach(clientId, deviceId, conn, null, clock.t) as Session;
    s.goLive(
      { type: 'welcome', connectionId: s.connectionId, heartbeat: { intervalMs: 1000, timeoutMs: 300 }, resumed: false, pending: 0 },
      [],
      START,
      START,
      clock.t,
    );
    return { s, conn };
  };
  /** Moves the fake clock forward in ticks, running the wheel and flushing like the event loop would. */
  const advance = (ms: number, onTick?: () => void) => {
    const end = clock.t + ms;
    while (clock.t < end) {
      clock.t = Math.min(end, clock.t + hub.wheel.tickMs);
      hub.wheel.advance();
      hub.flushNow();
      onTick?.();
    }
  };
  return { hub, clock, attach, advance, [Symbol.dispose]: () => hub.stop() };
}

function notification(pos: number, clientId: string | null = 'alice'): StoredNotification {
  return {
    id: `n${pos}`,
    clientId,
    deviceId: null,
    title: 't',
    message: 'm',
    service: 's',
    data: null,
    ts: 1,
    expiresAt: null,
    pos: { ms: 1, seq: pos },
    prev: null,
    epoch: 'e',
  };
}

describe('heartbeats (fake clock, fake peer)', () => {
  it('a silent peer is a zombie after maxMissed pings, within interval × misses + timeout + one tick', () => {
    using f = fakeHub();
    const { conn } = f.attach('alice', 'phone');
    f.advance(10_000);
    expect(conn.ended).toBe('zombie');
    expect(conn.pings).toBe(3);
    expect(f.hub.stats.zombies).toBe(1);
    expect(f.hub.stats.heartbeatsMissed).toBe(3);
    expect(f.hub.wheel.size).toBe(0);
    expect(f.hub.connectionCount).toBe(0);
  });

  it('closes no later than the bound, measured', () => {
    using f = fakeHub();
    const t0 = f.clock.t;
    const { conn } = f.attach('alice', 'phone');
    let closedAt = 0;
    f.advance(10_000, () => {
      if (conn.ended && !closedAt) closedAt = f.clock.t;
    });
    expect(closedAt - t0).toBeLessThanOrEqual(1000 * 3 + 300 + f.hub.wheel.tickMs);
    expect(closedAt - t0).toBeGreaterThanOrEqual(1000 * 2 + 300);
  });

  it('a peer that answers is never closed, and a miss is forgiven by the next answer', () => {
    using f = fakeHub();
    const { s, conn } = f.attach('alice', 'phone');
    let answered = 0;
    f.advance(100_000, () => {
      // Answers every ping but every third one: misses never reach 3 in a row.
      while (answered < conn.pings) {
        answered++;
        if (answered % 3 !== 0) s.inbound('pong', f.clock.t);
      }
    });
    expect(conn.ended).toBeNull();
    expect(conn.pings).toBeGreaterThanOrEqual(95);
    expect(f.hub.stats.heartbeatsMissed).toBeGreaterThan(20);
  });

  it('keeps the interval when the timeout is longer than it (an answered ping does not wait for its deadline)', () => {
    using f = fakeHub({ heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 5000 });
    const { s, conn } = f.attach('alice', 'phone');
    let answered = 0;
    f.advance(10_000, () => {
      while (answered < conn.pings) {
        answered++;
        s.inbound('pong', f.clock.t);
      }
    });
    expect(conn.pings).toBeGreaterThanOrEqual(9);
  });

  it('spreads first pings over the interval: no tick holds much more than its share', () => {
    using f = fakeHub();
    const n = 10_000;
    const sessions = Array.from({ length: n }, (_, i) => f.attach(`c${i}`, 'd').s);
    const tick = f.hub.wheel.tickMs;
    const perTick = new Map<number, number>();
    for (const s of sessions) {
      const k = Math.floor(s._due / tick);
      perTick.set(k, (perTick.get(k) ?? 0) + 1);
    }
    const share = (n * tick) / 1000;
    expect(Math.max(...perTick.values())).toBeLessThanOrEqual(share * 1.5);
    // And the pings actually sent per tick agree once the wheel runs them.
    let last = 0;
    let maxSent = 0;
    f.advance(2000, () => {
      maxSent = Math.max(maxSent, f.hub.stats.heartbeatsSent - last);
      last = f.hub.stats.heartbeatsSent;
    });
    expect(f.hub.stats.heartbeatsSent).toBeGreaterThanOrEqual(n);
    expect(maxSent).toBeLessThanOrEqual(share * 1.5);
  });

  it('an idle timeout closes 4010; pongs do not count as activity', () => {
    using f = fakeHub({ idleTimeoutMs: 5000 });
    const { s, conn } = f.attach('alice', 'phone');
    f.advance(4000, () => {
      if (conn.pings > 0) s.inbound('pong', f.clock.t);
    });
    expect(conn.ended).toBeNull();
    f.advance(1500, () => s.inbound('pong', f.clock.t));
    expect(conn.ended).toBe('idle');
  });
});

describe('hand-over from replay to live', () => {
  it('merges held live notifications with the replay in order, once each, keeping live-only ones', () => {
    using f = fakeHub();
    const conn = new FakeConn();
    const s = f.hub.attach('alice', 'phone', conn, null, f.clock.t) as Session;
    // While the replay is read: pos 2 (live only, never in a replay) and pos 3 (also replayed) arrive.
    s.notify(new Outgoing(notification(2)));
    s.notify(new Outgoing(notification(3)));
    s.notify(new Outgoing(notification(4)));
    s.goLive(
      { type: 'welcome', connectionId: s.connectionId, heartbeat: { intervalMs: 1000, timeoutMs: 300 }, resumed: true, pending: 2 },
      [new Outgoing(notification(1)), new Outgoing(notification(3))],
      START,
      { ...START, c: { ms: 1, seq: 3 }, ce: 'e' },
      f.clock.t,
    );
    f.hub.flushNow();
    expect(conn.frames[0].type).toBe('welcome');
    expect(conn.frames.filter((x) => x.type === 'notification').map((x) => x.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
  });
});

describe('send queue', () => {
  it('overflow closes that session 4009 and does not touch the others', () => {
    using f = fakeHub({ sendQueueMessages: 10 });
    const slow = f.attach('alice', 'slow');
    const fast = f.attach('alice', 'fast');
    slow.conn.canWrite = false;
    for (let i = 1; i <= 50; i++) {
      f.hub.deliver(new Outgoing(notification(i)));
      f.hub.flushNow();
    }
    expect(slow.conn.ended).toBe('slow-consumer');
    expect(fast.conn.ended).toBeNull();
    expect(fast.conn.frames.filter((x) => x.type === 'notification')).toHaveLength(50);
  });

  it('drops what a device already has (same position) and builds per-device cursors', () => {
    using f = fakeHub();
    const a = f.attach('alice', 'a');
    const out = new Outgoing(notification(1));
    f.hub.deliver(out);
    f.hub.deliver(out);
    f.hub.deliver(new Outgoing(notification(1, null)));
    f.hub.flushNow();
    const got = a.conn.frames.filter((x) => x.type === 'notification');
    expect(got).toHaveLength(2);
    expect(got[0].cursor).toBe('e.1.1~0');
    expect(got[1].cursor).toBe('e.1.1~e.1.1');
    expect(got[1]).toMatchObject({ broadcast: true, clientId: 'alice' });
  });
});
