import { type Cursor, cursorPart, isAfter, maxPos, type StreamPos } from './cursor.js';
import type { CloseReason } from './disconnect.js';
import type { ControlFrame, Encoder, Outgoing } from './frames.js';
import type { DeviceView } from './types.js';
import type { WheelEntry } from './wheel.js';

/**
 * A transport's name ('ws', 'sse', 'grpc', …), as device views, presence events and stats show it.
 * The core is generic over it: the list of transports is theirs (src/transports/index.ts), and
 * each registers its kind with the hub (`Hub.addTransportKind`) so its counters start at 0.
 */
export type TransportKind = string;

/**
 * What a transport gives the core for one live stream. The transport owns its read loop and hands
 * inbound frames to {@link Session.inbound}; the core never reads a socket.
 */
export interface TransportConnection {
  readonly kind: TransportKind;
  readonly encoder: Encoder;
  /**
   * Writes frames in order, as few writes as the transport allows. The array is the session's
   * own and is reused once write() returns: keep the buffers, not the array.
   */
  write(frames: Buffer[]): void;
  /** Bytes accepted by write() but not yet handed to the kernel. */
  bufferedBytes(): number;
  /** false while the transport waits for 'drain'; it then calls {@link Session.drained}. */
  writable(): boolean;
  /**
   * Ends the stream. `reason` is the server's close name; 'gone' means the peer already went away
   * and nothing is to be sent. Called exactly once.
   */
  end(reason: CloseReason): void;
}

/** Where a session reports to (implemented by the Hub). */
export interface SessionOwner {
  readonly settings: SessionSettings;
  schedule(s: Session, due: number): void;
  unschedule(s: Session): void;
  markDirty(s: Session): void;
  /** The single cleanup path: every exit of a session ends here, exactly once. */
  sessionClosed(s: Session, reason: CloseReason): void;
  heartbeatSent(s: Session): void;
  heartbeatAnswered(s: Session, rttMs: number | null): void;
  heartbeatMissed(s: Session): void;
  ackReceived(s: Session, cursor: Cursor): void;
  /** Frames that will never be written (the session closed with them queued). */
  dropped(count: number): void;
  /** The replay is done; the session is live from `head`. */
  sessionLive(s: Session, head: Cursor): void;
  delivered(s: Session, count: number): void;
}

/** The limits and heartbeat timing every session of a hub follows (from the node's configuration). */
export interface SessionSettings {
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  heartbeatMaxMissed: number;
  idleTimeoutMs: number;
  tokenGraceMs: number;
  sendQueueBytes: number;
  sendQueueMessages: number;
}

/** Registration of one device (PROTOCOL.md "Registration outlives a stream"). */
export interface DeviceRecord {
  readonly clientId: string;
  readonly deviceId: string;
  readonly connectionId: string;
  transport: TransportKind;
  state: 'attached' | 'detached';
  node: string;
  connectedAt: number;
  lastHeartbeatAt: number | null;
  lastNotificationAt: number | null;
  notificationCount: number;
  detachedAt: number | null;
  /** Last heartbeat round trip in ms. */
  rttMs: number | null;
  session: Session | null;
}

/** A registration as the operator API shows it. */
export function deviceView(d: DeviceRecord): DeviceView {
  return {
    deviceId: d.deviceId,
    connectionId: d.connectionId,
    transport: d.transport,
    state: d.state,
    node: d.node,
    connectedAt: d.connectedAt,
    lastHeartbeatAt: d.lastHeartbeatAt,
    lastNotificationAt: d.lastNotificationAt,
    notificationCount: d.notificationCount,
    rttMs: d.rttMs,
  };
}

/** Stream order: by time, then client stream before broadcast, then sequence. */
function byPosition(x: Outgoing, y: Outgoing): number {
  return x.n.pos.ms - y.n.pos.ms || Number(x.isBroadcast) - Number(y.isBroadcast) || x.n.pos.seq - y.n.pos.seq;
}

let spreadCounter = 0;
let sessionCounter = 0;
/** Per process: session ids are unique across the nodes of a cluster and across restarts. */
const SID_PREFIX = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const GOLDEN = 0.6180339887498949;

/**
 * One live stream of one device. Holds the send queue, the heartbeat state and the device's
 * position in both streams; scheduled on the owner's single timer wheel.
 */
export class Session implements WheelEntry {
  readonly device: DeviceRecord;
  readonly conn: TransportConnection;
  /** Unique id of this stream: a cluster tells an old stream of a device from its replacement. */
  readonly sid = `${SID_PREFIX}.${(++sessionCounter).toString(36)}`;
  readonly #owner: SessionOwner;
  state: 'replaying' | 'live' | 'closed' = 'replaying';
  closeReason: CloseReason | null = null;

  /** Where the device was placed when its stream went live (the replay followed it); null while replaying. */
  startedFrom: Cursor | null = null;
  /** What this device has been handed, in both streams: a notification at or before is a duplicate. */
  lastC: StreamPos | null = null;
  lastB: StreamPos | null = null;
  /**
   * Where the device's cursor stands in each stream, with the stream's epoch: at least what it was
   * handed, and, from its welcome on, at least the heads it was placed at ("everything up to here").
   */
  #curC: StreamPos | null = null;
  #curB: StreamPos | null = null;
  #epochC: string | null = null;
  #epochB: string | null = null;
  #cPart = '0';
  #bPart = '0';

  #queue: Buffer[] = [];
  #queueBytes = 0;
  /** Live notifications that arrive while the replay is read. */
  #held: Outgoing[] | null = [];
  dirty = false;

  // heartbeat and deadlines (ms since epoch)
  #nextPingAt = 0;
  #pingSentAt = 0;
  #awaiting = false;
  #missed = 0;
  lastInboundAt: number;
  lastActivityAt: number;
  #tokenExpiresAt: number | null;
  #tokenWarned = false;

  _due = 0;
  _slot: Set<WheelEntry> | null = null;

  constructor(owner: SessionOwner, device: DeviceRecord, conn: TransportConnection, now: number, tokenExpiresAt: number | null) {
    this.#owner = owner;
    this.device = device;
    this.conn = conn;
    this.lastInboundAt = now;
    this.lastActivityAt = now;
    this.#tokenExpiresAt = tokenExpiresAt;
  }

  get connectionId(): string {
    return this.device.connectionId;
  }

  get cursor(): string {
    return `${this.#cPart}~${this.#bPart}`;
  }

  get queuedBytes(): number {
    return this.#queueBytes + this.conn.bufferedBytes();
  }

  /**
   * Adds a notification or an inbox event; held while the replay is read, dropped when this device
   * already has it or is one of its `excludeDevices`.
   */
  notify(out: Outgoing): void {
    if (this.state === 'closed') return;
    if (this.#held !== null) {
      this.#held.push(out);
      if (this.#held.length > this.#owner.settings.sendQueueMessages) this.close('slow-consumer');
      return;
    }
    this.#send(out);
  }

  #send(out: Outgoing): void {
    const n = out.n;
    if (n.excludeDevices?.includes(this.device.deviceId)) return;
    if (n.clientId === null) {
      if (!isAfter(n.pos, this.lastB)) return;
      this.lastB = n.pos;
      if (isAfter(n.pos, this.#curB) || n.epoch !== this.#epochB) {
        this.#curB = n.pos;
        this.#epochB = n.epoch;
        this.#bPart = out.part;
      }
    } else {
      if (!isAfter(n.pos, this.lastC)) return;
      this.lastC = n.pos;
      if (isAfter(n.pos, this.#curC) || n.epoch !== this.#epochC) {
        this.#curC = n.pos;
        this.#epochC = n.epoch;
        this.#cPart = out.part;
      }
    }
    const now = Date.now();
    this.lastActivityAt = now;
    if (n.kind !== undefined) {
      this.#sendEvent(out);
      return;
    }
    this.#enqueue(this.conn.encoder.notification(out, this.device.clientId, this.cursor));
    this.device.lastNotificationAt = now;
    this.device.notificationCount++;
    this.#owner.delivered(this, 1);
  }

  /**
   * An inbox event: a `state` frame carries this device's counts, picked from those the node read
   * for the event (see EventCounts); not counted as a notification delivered.
   */
  #sendEvent(out: Outgoing): void {
    const enc = this.conn.encoder;
    if (!enc.event) return;
    const n = out.n;
    const counts = n.kind === 'state' && n.counts ? (n.counts.devices[this.device.deviceId] ?? n.counts.base) : null;
    this.#enqueue(enc.event(out, this.device.clientId, this.cursor, counts));
  }

  /** Sends a control frame (welcome, ping, shutdown, …). */
  control(frame: ControlFrame): void {
    if (this.state === 'closed') return;
    this.#enqueue(this.conn.encoder.control(frame));
  }

  #enqueue(buf: Buffer): void {
    this.#queue.push(buf);
    this.#queueBytes += buf.length;
    const s = this.#owner.settings;
    if (this.#queue.length > s.sendQueueMessages || this.#queueBytes + this.conn.bufferedBytes() > s.sendQueueBytes) {
      this.close('slow-consumer');
      return;
    }
    if (!this.dirty) {
      this.dirty = true;
      this.#owner.markDirty(this);
    }
  }

  /** Writes the queue to the transport (called once per event-loop turn for dirty sessions). */
  flush(): void {
    this.dirty = false;
    if (this.state === 'closed' || this.#queue.length === 0 || !this.conn.writable()) return;
    const frames = this.#queue;
    this.#queueBytes = 0;
    this.conn.write(frames);
    // write() consumed the array synchronously: reuse it rather than allocate one per flush.
    if (this.#queue === frames) frames.length = 0;
  }

  /** The transport's buffer drained: write what waited. */
  drained(): void {
    if (this.#queue.length > 0 && !this.dirty) {
      this.dirty = true;
      this.#owner.markDirty(this);
    }
  }

  /**
   * The replay is read: welcome, the replayed items, then what arrived live meanwhile (each
   * dropped if already sent), then live. `from` is where the device was placed in each stream (the
   * replay follows it), `head` where both streams stood after the replay (PROTOCOL.md "A cursor
   * means everything up to here"): the welcome's cursor covers everything before the welcome but
   * the pending items, so a stream with nothing pending is covered up to its head.
   */
  goLive(welcome: Omit<Extract<ControlFrame, { type: 'welcome' }>, 'cursor'>, items: Outgoing[], from: Cursor, head: Cursor, now: number): void {
    if (this.state !== 'replaying') return;
    const held = this.#held ?? [];
    this.#held = null;
    this.state = 'live';
    this.startedFrom = from;
    this.lastC = from.c;
    this.lastB = from.b;
    this.#placeC(from.c, from.ce);
    this.#placeB(from.b, from.be);
    let pendingC = false;
    let pendingB = false;
    for (const out of items) {
      if (out.isBroadcast) pendingB = true;
      else pendingC = true;
    }
    if (!pendingC) this.#placeC(head.c, head.ce);
    if (!pendingB) this.#placeB(head.b, head.be);
    this.control({ ...welcome, cursor: this.cursor });
    // Replayed and held-live notifications together, in stream order: duplicates (both replayed
    // and live) are dropped by position, and live-only ones (ttlMs 0, never in a replay) keep
    // their place.
    const all = held.length === 0 ? items : [...items, ...held].sort(byPosition);
    for (const out of all) this.#send(out);
    // From here the device is at the head of both streams, even where nothing was for it.
    this.lastC = maxPos(this.lastC, head.c);
    this.lastB = maxPos(this.lastB, head.b);
    this.#placeC(head.c, head.ce);
    this.#placeB(head.b, head.be);
    this.#scheduleFirst(now);
    this.#owner.sessionLive(this, { c: this.lastC, b: this.lastB, ce: this.#epochC, be: this.#epochB });
  }

  /** Moves the cursor's client-stream part to `pos` when that is further (or another epoch). */
  #placeC(pos: StreamPos | null, epoch: string | null): void {
    if (pos === null || !(isAfter(pos, this.#curC) || epoch !== this.#epochC)) return;
    this.#curC = pos;
    this.#epochC = epoch;
    this.#cPart = cursorPart(pos, epoch);
  }

  #placeB(pos: StreamPos | null, epoch: string | null): void {
    if (pos === null || !(isAfter(pos, this.#curB) || epoch !== this.#epochB)) return;
    this.#curB = pos;
    this.#epochB = epoch;
    this.#bPart = cursorPart(pos, epoch);
  }

  #scheduleFirst(now: number): void {
    // Spread first pings over the interval (low-discrepancy sequence): no herd every interval.
    const s = this.#owner.settings;
    spreadCounter = (spreadCounter + 1) % 1_000_003;
    const offset = Math.floor(((spreadCounter * GOLDEN) % 1) * s.heartbeatIntervalMs);
    this.#nextPingAt = now + offset;
    this.#reschedule();
  }

  #reschedule(): void {
    const s = this.#owner.settings;
    let due = this.#awaiting ? this.#pingSentAt + s.heartbeatTimeoutMs : this.#nextPingAt;
    if (s.idleTimeoutMs > 0) due = Math.min(due, this.lastActivityAt + s.idleTimeoutMs);
    if (this.#tokenExpiresAt !== null) due = Math.min(due, this.#tokenWarned ? this.#tokenExpiresAt + s.tokenGraceMs : this.#tokenExpiresAt);
    this.#owner.schedule(this, due);
  }

  /** Timer wheel callback: the heartbeat (ping due, pong overdue), idle and token-expiry deadlines. */
  onDue(now: number): void {
    if (this.state !== 'live') return;
    const s = this.#owner.settings;
    if (this.#awaiting && now >= this.#pingSentAt + s.heartbeatTimeoutMs) {
      this.#awaiting = false;
      this.#missed++;
      this.#owner.heartbeatMissed(this);
      if (this.#missed >= s.heartbeatMaxMissed) {
        this.close('zombie');
        return;
      }
    }
    if (s.idleTimeoutMs > 0 && now - this.lastActivityAt >= s.idleTimeoutMs) {
      this.close('idle');
      return;
    }
    if (this.#tokenExpiresAt !== null && now >= this.#tokenExpiresAt) {
      if (!this.#tokenWarned) {
        this.#tokenWarned = true;
        this.control({ type: 'token-expired', graceMs: s.tokenGraceMs });
      } else if (now >= this.#tokenExpiresAt + s.tokenGraceMs) {
        this.close('unauthorized');
        return;
      }
    }
    if (!this.#awaiting && now >= this.#nextPingAt) {
      this.#awaiting = true;
      this.#pingSentAt = now;
      this.#nextPingAt = now + s.heartbeatIntervalMs;
      const enc = this.conn.encoder;
      if (enc.ping) this.#enqueue(enc.ping(now));
      else this.control({ type: 'ping', ts: now });
      this.#owner.heartbeatSent(this);
    }
    this.#reschedule();
  }

  /** Any inbound frame is liveness; `kind` says what it was. */
  inbound(kind: 'pong' | 'ping' | 'ack' | 'other', now: number): void {
    if (this.state === 'closed') return;
    this.lastInboundAt = now;
    this.device.lastHeartbeatAt = now;
    if (kind !== 'pong') this.lastActivityAt = now;
    if (this.#awaiting) {
      this.#awaiting = false;
      this.#missed = 0;
      const rtt = kind === 'pong' ? now - this.#pingSentAt : null;
      if (rtt !== null) this.device.rttMs = rtt;
      this.#owner.heartbeatAnswered(this, rtt);
      // Next event is the next ping, not the (now moot) pong deadline: with a timeout longer than
      // the interval, waiting for the deadline would stretch the interval.
      if (this.state === 'live') this.#reschedule();
    } else {
      this.#missed = 0;
    }
    if (kind === 'ping') this.control({ type: 'pong', ts: now });
  }

  /**
   * For a peer that has no way to answer (a plain EventSource): the transport reports that a ping
   * was handed to the kernel, the only liveness such a peer can show. Answers the heartbeat
   * without a round trip, and is not activity for the idle timeout.
   */
  pingWritten(now: number): void {
    if (this.state === 'closed') return;
    this.lastInboundAt = now;
    this.device.lastHeartbeatAt = now;
    this.#missed = 0;
    if (this.#awaiting) {
      this.#awaiting = false;
      this.#owner.heartbeatAnswered(this, null);
    }
  }

  /**
   * The device acknowledged up to `cursor`; never beyond its own cursor, and only in the epochs
   * this stream is in (a half from another generation says nothing here and is dropped).
   */
  ack(cursor: Cursor): void {
    if (this.state === 'closed') return;
    const clamp = (p: StreamPos | null, epoch: string | null, cur: StreamPos | null, curEpoch: string | null) =>
      p === null || cur === null || epoch !== curEpoch ? null : isAfter(p, cur) ? cur : p;
    const c = clamp(cursor.c, cursor.ce, this.#curC, this.#epochC);
    const b = clamp(cursor.b, cursor.be, this.#curB, this.#epochB);
    if (c === null && b === null) return;
    this.#owner.ackReceived(this, { c, ce: c === null ? null : this.#epochC, b, be: b === null ? null : this.#epochB });
  }

  /**
   * Ends the session, exactly once, whoever calls: the server (with a close name) or the
   * transport ('gone': the peer left). Everything else about the exit happens in the owner.
   */
  close(reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    const dropped = (this.#held?.length ?? 0) + (reason === 'gone' || reason === 'slow-consumer' || !this.conn.writable() ? this.#queue.length : 0);
    if (dropped > 0) this.#owner.dropped(dropped);
    this.#held = null;
    this.#owner.unschedule(this);
    if (reason !== 'gone' && this.#queue.length > 0 && reason !== 'slow-consumer' && this.conn.writable()) {
      // Hand what is queued to the transport before its close frame (drain, remove, replace).
      const frames = this.#queue;
      this.#queue = [];
      this.conn.write(frames);
    }
    this.#queue = [];
    this.#queueBytes = 0;
    this.#owner.sessionClosed(this, reason);
    this.conn.end(reason);
  }
}
