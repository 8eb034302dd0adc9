import type { CloseFrame, HeraldNotification, PingFrame, PongFrame, ShutdownFrame, TokenExpiredFrame, WelcomeFrame } from '../protocol/frames.js';
import { cursorPart } from './cursor.js';
import type { StoredNotification } from './types.js';

/** Frames the server sends besides notifications (their shapes: `protocol/frames.ts`). */
export type ControlFrame = WelcomeFrame | PingFrame | PongFrame | ShutdownFrame | TokenExpiredFrame | CloseFrame;

/**
 * One notification on its way out of this node, shared by every session it goes to. Encoders keep
 * what they can share between devices here (the frame without the per-device cursor), so a
 * broadcast to 10 000 devices is serialised once per transport, not 10 000 times.
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
};
