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

/**
 * Registration of one device (PROTOCOL.md "Registration outlives a stream"): what the operator API
 * shows of it ({@link deviceView}), plus what only the node keeps.
 */
export interface DeviceRecord extends DeviceView {
  readonly clientId: string;
  readonly deviceId: string;
  readonly connectionId: string;
  transport: TransportKind;
  detachedAt: number | null;
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

/**
 * Where a device stands in one stream (its client's, or the broadcast stream). A session keeps one
 * for each: the two streams are kept alike but apart.
 */
class StreamPlace {
  /** What the device has been handed: a notification at or before it is a duplicate. */
  last: StreamPos | null = null;
  /**
   * Where the device's cursor stands, with the stream's epoch: at least what it was handed, and,
   * from its welcome on, at least the head it was placed at ("everything up to here").
   */
  cur: StreamPos | null = null;
  epoch: string | null = null;
  /** This stream's half of the cursor string. */
  part = '0';

  /**
   * Moves the cursor to `pos` when that is further (or in another epoch). `part` is the cursor
   * half when the caller has it already (a notification carries its own).
   */
  place(pos: StreamPos | null, epoch: string | null, part?: string): void {
    if (pos === null || !(isAfter(pos, this.cur) || epoch !== this.epoch)) return;
    this.cur = pos;
    this.epoch = epoch;
    this.part = part ?? cursorPart(pos, epoch);
  }

  /** Hands the device the notification at `out`'s position; false when it already has it. */
  take(out: Outgoing): boolean {
    if (!isAfter(out.n.pos, this.last)) return false;
    this.last = out.n.pos;
    this.place(out.n.pos, out.n.epoch, out.part);
    return true;
  }

  /** An acknowledged position, clamped to the cursor; null when it is of another epoch (or there is none). */
  acked(p: StreamPos | null, epoch: string | null): StreamPos | null {
    return p === null || this.cur === null || epoch !== this.epoch ? null : isAfter(p, this.cur) ? this.cur : p;
  }
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
/** A send queue's array keeps its backing store across flushes up to this many frames (see flush). */
const REUSED_QUEUE_SLOTS = 16;

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
  /** Where the device stands in its client's stream. */
  readonly #c = new StreamPlace();
  /** Where the device stands in the broadcast stream. */
  readonly #b = new StreamPlace();

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
    return `${this.#c.part}~${this.#b.part}`;
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
    if (!(n.clientId === null ? this.#b : this.#c).take(out)) return;
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
    // write() consumed the array synchronously: reuse it, and its backing store. `length = 0`
    // would free the store, so the next push (the next delivery) allocates one again: in a
    // broadcast that was a fresh array store per delivery, the largest allocation of the fan-out.
    // pop() keeps it; a store grown by a large batch (a replay) is let go.
    if (this.#queue === frames) {
      if (frames.length > REUSED_QUEUE_SLOTS) frames.length = 0;
      else while (frames.length > 0) frames.pop();
    }
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
    const c = this.#c;
    const b = this.#b;
    c.last = from.c;
    b.last = from.b;
    c.place(from.c, from.ce);
    b.place(from.b, from.be);
    let pendingC = false;
    let pendingB = false;
    for (const out of items) {
      if (out.isBroadcast) pendingB = true;
      else pendingC = true;
    }
    if (!pendingC) c.place(head.c, head.ce);
    if (!pendingB) b.place(head.b, head.be);
    this.control({ ...welcome, cursor: this.cursor });
    // Replayed and held-live notifications together, in stream order: duplicates (both replayed
    // and live) are dropped by position, and live-only ones (ttlMs 0, never in a replay) keep
    // their place.
    const all = held.length === 0 ? items : [...items, ...held].sort(byPosition);
    for (const out of all) this.#send(out);
    // From here the device is at the head of both streams, even where nothing was for it.
    c.last = maxPos(c.last, head.c);
    b.last = maxPos(b.last, head.b);
    c.place(head.c, head.ce);
    b.place(head.b, head.be);
    this.#scheduleFirst(now);
    this.#owner.sessionLive(this, { c: c.last, b: b.last, ce: c.epoch, be: b.epoch });
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
    const c = this.#c.acked(cursor.c, cursor.ce);
    const b = this.#b.acked(cursor.b, cursor.be);
    if (c === null && b === null) return;
    this.#owner.ackReceived(this, { c, ce: c === null ? null : this.#c.epoch, b, be: b === null ? null : this.#b.epoch });
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
