import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { START } from '../../src/core/cursor.js';
import type { CloseReason } from '../../src/core/disconnect.js';
import { jsonEncoder, Outgoing } from '../../src/core/frames.js';
import { Hub, type HubEvents, type HubOptions } from '../../src/core/hub.js';
import { silentLogger } from '../../src/core/logger.js';
import type { PresenceEvents, PresenceTracker } from '../../src/core/presence.js';
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

describe('hub events', () => {
  it('every listener of every event hears it, in the order the hub lives through them', () => {
    using f = fakeHub({ ackFlushMs: 1_000_000 });
    const heard: string[] = [];
    // A removed device's registration is forgotten before its session's `detached` reports `removed`.
    const names: (keyof HubEvents)[] = ['attached', 'live', 'rtt', 'acks', 'deviceForgotten', 'detached'];
    for (const name of names) {
      f.hub.on(name, () => heard.push(`1:${name}`));
      f.hub.on(name, () => heard.push(`2:${name}`));
    }
    const { s, conn } = f.attach('alice', 'phone');
    f.advance(1000, () => {
      if (conn.pings === 1 && !heard.includes('1:rtt')) s.inbound('pong', f.clock.t);
    });
    f.hub.deliver(new Outgoing(notification(1)));
    s.ack({ ...START, c: { ms: 1, seq: 1 }, ce: 'e' });
    f.hub.flushAcks();
    f.hub.remove('alice', 'phone');
    expect(conn.ended).toBe('removed');
    expect(heard).toEqual(names.flatMap((name) => [`1:${name}`, `2:${name}`]));
  });

  it('hands over arguments: the ack batch, the round trip, why a session left, the forgotten device', () => {
    using f = fakeHub({ ackFlushMs: 1_000_000 });
    const acks: unknown[] = [];
    const rtts: number[] = [];
    const detached: [string, string, boolean][] = [];
    const forgotten: string[] = [];
    const live: unknown[] = [];
    f.hub.on('acks', (batch) => acks.push(...batch));
    f.hub.on('rtt', (ms) => rtts.push(ms));
    f.hub.on('live', (s, head) => live.push([s.connectionId, head]));
    f.hub.on('detached', (s, reason, removed) => detached.push([s.connectionId, reason, removed]));
    f.hub.on('deviceForgotten', (clientId, deviceId) => forgotten.push(`${clientId}:${deviceId}`));
    const { s, conn } = f.attach('alice', 'phone');
    expect(live).toEqual([['alice:phone', START]]);
    let pingAt = 0;
    f.advance(1000, () => {
      if (conn.pings === 1 && pingAt === 0) pingAt = f.clock.t;
      if (pingAt !== 0 && rtts.length === 0 && f.clock.t >= pingAt + 7) s.inbound('pong', f.clock.t);
    });
    expect(rtts).toEqual([f.hub.wheel.tickMs * Math.ceil(7 / f.hub.wheel.tickMs)]);
    f.hub.deliver(new Outgoing(notification(1)));
    f.hub.deliver(new Outgoing(notification(2)));
    const cursor = { ...START, c: { ms: 1, seq: 2 }, ce: 'e' };
    s.ack(cursor);
    // A closing session's pending ack is written at once, not left for the batch timer.
    s.close('normal');
    // With the transport it came on and where the stream started (delivery receipts use both).
    expect(acks).toEqual([{ clientId: 'alice', deviceId: 'phone', transport: conn.kind, cursor, start: START }]);
    expect(detached).toEqual([['alice:phone', 'normal', false]]);
    expect(forgotten).toEqual([]);
    // Detached past DETACHED_TTL_MS (detachedAt is wall time): the sweep forgets it.
    f.hub.sweep(Date.now() + 1000);
    expect(forgotten).toEqual(['alice:phone']);
  });

  it('is built with the presence it is given: subscribers never depend on when they subscribe', () => {
    class FixedPresence extends EventEmitter<PresenceEvents> implements PresenceTracker {
      readonly calls: string[] = [];
      deviceConnected(clientId: string, deviceId: string): void {
        this.calls.push(`+${clientId}:${deviceId}`);
      }
      deviceDisconnected(clientId: string, deviceId: string): void {
        this.calls.push(`-${clientId}:${deviceId}`);
      }
      isOnline(): boolean {
        return true;
      }
      epochOf(): number {
        return 7;
      }
      readonly onlineCount = 1;
      flushPending(): void {}
    }
    let built: FixedPresence | null = null;
    let builtFor: Hub | null = null;
    using f = fakeHub({
      presence: (hub) => {
        builtFor = hub;
        built = new FixedPresence();
        return built;
      },
    });
    expect(f.hub.presence).toBe(built);
    expect(builtFor).toBe(f.hub);
    f.attach('alice', 'phone').s.close('normal');
    expect((f.hub.presence as FixedPresence).calls).toEqual(['+alice:phone', '-alice:phone']);
    expect(f.hub.client('alice').online).toBe(true);
  });
});
