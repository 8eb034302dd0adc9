import type { CloseFrame, HeraldNotification, PingFrame, PongFrame, ShutdownFrame, TokenExpiredFrame, WelcomeFrame } from '../protocol/frames.js';
import { cursorPart } from './cursor.js';
import { inboxEvent } from './inbox.js';
import type { InboxCounts, StoredNotification } from './types.js';

/** Frames the server sends besides notifications (their shapes: `protocol/frames.ts`). */
export type ControlFrame = WelcomeFrame | PingFrame | PongFrame | ShutdownFrame | TokenExpiredFrame | CloseFrame;

/**
 * One stream entry (a notification, or an inbox event: `n.kind`) on its way out of this node,
 * shared by every session it goes to. Encoders keep what they can share between devices here (the
 * frame without the per-device cursor), so a broadcast to 10 000 devices is serialised once per
 * transport, not 10 000 times.
 */
export class Outgoing {
  readonly n: StoredNotification;
  /** This notification's half of a cursor (client or broadcast stream part). */
  readonly part: string;
  /** Encoder caches, by encoder name. */
  readonly cache: Record<string, unknown> = {};

  constructor(n: StoredNotification) {
    this.n = n;
    this.part = cursorPart(n.pos, n.epoch);
  }

  get isBroadcast(): boolean {
    return this.n.clientId === null;
  }
}

/**
 * Turns frames into the bytes one transport writes. Implementations keep shared work in
 * `Outgoing.cache` under their own name.
 */
export interface Encoder {
  readonly name: string;
  control(frame: ControlFrame): Buffer;
  /**
   * The heartbeat `ping` at `ts`. Every session due in one wheel tick asks for the same `ts`, so an
   * encoder can encode it once per tick instead of once per connection.
   */
  ping?(ts: number): Buffer;
  /** `tail` is the recipient's part: `,"clientId":"…","cursor":"` + cursor (see {@link recipientTail}). */
  notification(out: Outgoing, clientId: string, cursor: string): Buffer;
  /**
   * An inbox event (`out.n.kind`: `state`, `update` or `delete`) for one device of `clientId`, at
   * `cursor`; `counts` are that device's on a `state` event (computed when it is sent), null on
   * the others. The frame is {@link eventJson}'s JSON (PROTOCOL.md "Inbox": `StateFrame`,
   * `UpdateFrame`, `DeleteFrame` in protocol/frames.ts).
   *
   * The extension point of the inbox for a transport: one without it gets no inbox frames (its
   * devices' cursors still move past the events with the next notification). gRPC carries them as
   * `Notification.type` `state` | `update` | `delete` with {@link eventJson} in `data`.
   */
  event?(out: Outgoing, clientId: string, cursor: string, counts: InboxCounts | null): Buffer;
}

/** The notification JSON without the recipient's `clientId` and `cursor`, which come last. */
export function notificationJsonHead(n: StoredNotification): string {
  // The protocol's frame without the recipient's part, which is appended after `ts`; keys in wire order.
  const head: Omit<HeraldNotification, 'clientId' | 'cursor'> = {
    type: 'notification',
    id: n.id,
    ...(n.deviceId !== null && { deviceId: n.deviceId }),
    ...(n.clientId === null && { broadcast: true }),
    title: n.title,
    message: n.message,
    service: n.service,
    ...(n.data !== null && n.data !== undefined && { data: n.data }),
    ts: n.ts,
    ...(n.replaces !== undefined && { replaces: n.replaces }),
  };
  const s = JSON.stringify(head);
  return s.slice(0, -1);
}

/** The recipient's part of a notification's JSON: its client id and its cursor, closing the object. */
export function recipientTail(clientId: string, cursor: string): string {
  return `,"clientId":"${clientId}","cursor":"${cursor}"}`;
}

/** The shared head of a notification's JSON, built once per notification and cached. */
export function jsonHead(out: Outgoing): Buffer {
  let head = out.cache.json as Buffer | undefined;
  if (head === undefined) {
    head = Buffer.from(notificationJsonHead(out.n));
    out.cache.json = head;
  }
  return head;
}

/**
 * The JSON of an inbox event's frame without what is per device, the closing brace left off:
 * `{"type":"state","ids":[…],"read":true,"by":"phone"`, `{"type":"update","id":…,"updatedAt":…`
 * (the item's content; its client id is the recipient's, in the tail), `{"type":"delete","id":…`.
 */
export function eventJsonHead(n: StoredNotification): string {
  const e = inboxEvent(n);
  if (e === null) throw new Error(`stream entry ${n.id} is not an inbox event`);
  let frame: object;
  switch (e.kind) {
    case 'state': {
      const { scope: _scope, by, ...change } = e.event;
      frame = { type: 'state', ...change, by };
      break;
    }
    case 'update': {
      const { clientId: _clientId, ...content } = e.event;
      frame = { type: 'update', ...content };
      break;
    }
    case 'delete':
      frame = { type: 'delete', id: e.event.id };
      break;
  }
  return JSON.stringify(frame).slice(0, -1);
}

/** What one device's frame of an inbox event ends with: its counts (`state`), its client id (`update`), its cursor. */
export function eventTail(n: StoredNotification, clientId: string, cursor: string, counts: InboxCounts | null): string {
  switch (n.kind) {
    case 'state': {
      const c = counts ?? { unseen: 0, unread: 0 };
      return `,"unseen":${c.unseen},"unread":${c.unread},"cursor":"${cursor}"}`;
    }
    case 'update':
      return `,"clientId":"${clientId}","cursor":"${cursor}"}`;
    default:
      return `,"cursor":"${cursor}"}`;
  }
}

/** The shared head of an inbox event's JSON, built once per event and cached. */
export function eventHead(out: Outgoing): string {
  let head = out.cache.eventJson as string | undefined;
  if (head === undefined) {
    head = eventJsonHead(out.n);
    out.cache.eventJson = head;
  }
  return head;
}

/** One device's frame of an inbox event as JSON text: what WebSocket and SSE carry, and gRPC's `data`. */
export function eventJson(out: Outgoing, clientId: string, cursor: string, counts: InboxCounts | null): string {
  return eventHead(out) + eventTail(out.n, clientId, cursor, counts);
}

let pingTs = -1;
let pingFrame: Buffer = Buffer.alloc(0);

/** JSON text frames: WebSocket, and the `data:` of SSE. */
export const jsonEncoder: Encoder = {
  name: 'json',
  control(frame) {
    return Buffer.from(JSON.stringify(frame));
  },
  ping(ts) {
    if (ts !== pingTs) {
      pingTs = ts;
      pingFrame = Buffer.from(`{"type":"ping","ts":${ts}}`);
    }
    return pingFrame;
  },
  notification(out, clientId, cursor) {
    const head = jsonHead(out);
    // ids and cursors are ASCII by construction: latin1 writes them byte for byte.
    const tail = recipientTail(clientId, cursor);
    const buf = Buffer.allocUnsafe(head.length + tail.length);
    head.copy(buf, 0);
    buf.write(tail, head.length, 'latin1');
    return buf;
  },
  event(out, clientId, cursor, counts) {
    return Buffer.from(eventJson(out, clientId, cursor, counts));
  },
};
