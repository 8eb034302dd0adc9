import { DISCONNECTS } from '../core/disconnect.js';
import { type ControlFrame, type Encoder, eventJson, notificationJsonHead, type Outgoing } from '../core/frames.js';

/**
 * Server-Sent Events framing (PROTOCOL.md "SSE frames"): `event: <type>` and `data: <json>` with
 * the same JSON as the WebSocket frames; notifications carry `id: <cursor>` so a browser's
 * EventSource resumes with `Last-Event-ID`. JSON never holds a raw CR or LF, so one `data:` line
 * always suffices.
 */

/**
 * After a close that says "do not reconnect" (replaced, removed, client limit, bad frame), a plain
 * EventSource would still reconnect after `retry` — and two tabs of one device would replace each
 * other forever. A day's retry hint stops that; the SDK reads the close event and stops at once.
 */
const NO_RECONNECT_RETRY_MS = 86_400_000;

/** `retry: <ms>` on its own: the reconnect delay a plain EventSource uses after this stream ends. */
export function retryLine(ms: number): Buffer {
  return Buffer.from(`retry: ${Math.max(0, Math.round(ms))}\n\n`);
}

function event(type: string, json: string, retryMs?: number): Buffer {
  const retry = retryMs === undefined ? '' : `retry: ${Math.max(0, Math.round(retryMs))}\n`;
  return Buffer.from(`${retry}event: ${type}\ndata: ${json}\n\n`);
}

const CR = 13;
const LF = 10;

/**
 * One HTTP/1.1 chunk (RFC 9112 §7.1) holding `payload`, as one buffer: `<size hex>\r\n`, the
 * payload, `\r\n`. Never empty (an empty chunk would end the body): every SSE event has bytes.
 */
function httpChunk(payload: Buffer): Buffer {
  const digits = hexDigits(payload.length);
  const buf = Buffer.allocUnsafe(digits + payload.length + 4);
  let o = hex(buf, 0, payload.length, digits);
  buf[o++] = CR;
  buf[o++] = LF;
  buf.set(payload, o);
  o += payload.length;
  buf[o++] = CR;
  buf[o] = LF;
  return buf;
}

/** How many hex digits `n` (> 0) has: the length of a chunk-size line without its CRLF. */
function hexDigits(n: number): number {
  let d = 1;
  for (let v = n >>> 4; v !== 0; v >>>= 4) d++;
  return d;
}

/** `0`–`9`, `a`–`f` */
const HEX_DIGIT = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Writes `n` in lower-case hex, `digits` ({@link hexDigits}) long, at `o`; returns the offset after
 * it. Per delivery this replaces `n.toString(16)`, a string allocated only to be copied.
 */
function hex(buf: Buffer, o: number, n: number, digits: number): number {
  for (let i = o + digits - 1, v = n; i >= o; i--, v >>>= 4) buf[i] = HEX_DIGIT[v & 15];
  return o + digits;
}

/**
 * Writes an ASCII string byte for byte; returns the offset after it. Ids, cursors and chunk sizes
 * are ASCII by construction and short: a loop the JIT compiles beats a call into Buffer#write.
 */
function ascii(buf: Buffer, o: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[o + i] = s.charCodeAt(i);
  return o + s.length;
}

const ID = 'id: ';
const CLIENT_ID = ',"clientId":"';
const CURSOR = '","cursor":"';
const END = '"}\n\n';

/**
 * Where a notification event's bytes are built: a buffer of exactly `size` bytes, which the caller
 * fills at once. By default a fresh one; a stream can hand out one it reuses (sse.ts).
 */
export interface FrameBuffers {
  take(size: number): Buffer;
}

const FRESH: FrameBuffers = { take: (size) => Buffer.allocUnsafe(size) };

/**
 * A notification event, as one buffer, in an HTTP chunk of its own when `chunked`. Shared by every
 * device (encoded once per notification): `\nevent: notification\ndata: {…head`. Per device:
 * `id: <cursor>` before it and the recipient's `clientId` and `cursor` after it (as in the JSON
 * encoder).
 */
export function notificationEvent(out: Outgoing, clientId: string, cursor: string, chunked: boolean, buffers: FrameBuffers = FRESH): Buffer {
  let shared = out.cache.sse as Buffer | undefined;
  if (shared === undefined) {
    shared = Buffer.from(`\nevent: notification\ndata: ${notificationJsonHead(out.n)}`);
    out.cache.sse = shared;
  }
  const n = ID.length + cursor.length + shared.length + CLIENT_ID.length + clientId.length + CURSOR.length + cursor.length + END.length;
  const digits = chunked ? hexDigits(n) : 0;
  const buf = buffers.take(chunked ? digits + n + 4 : n);
  let o = 0;
  if (chunked) {
    o = hex(buf, o, n, digits);
    buf[o++] = CR;
    buf[o++] = LF;
  }
  o = ascii(buf, o, ID);
  o = ascii(buf, o, cursor);
  buf.set(shared, o);
  o += shared.length;
  o = ascii(buf, o, CLIENT_ID);
  o = ascii(buf, o, clientId);
  o = ascii(buf, o, CURSOR);
  o = ascii(buf, o, cursor);
  o = ascii(buf, o, END);
  if (chunked) {
    buf[o++] = CR;
    buf[o] = LF;
  }
  return buf;
}

/** The bytes of the SSE stream. Notifications share their bytes across devices except the cursor. */
export const sseEncoder = {
  name: 'sse',
  control(frame: ControlFrame): Buffer {
    const json = JSON.stringify(frame);
    switch (frame.type) {
      // The reconnect hint of a draining node becomes the EventSource's own reconnect delay.
      case 'shutdown':
        return event(frame.type, json, frame.reconnectAfterMs);
      case 'close':
        return event(frame.type, json, DISCONNECTS[frame.reason].reconnect ? undefined : NO_RECONNECT_RETRY_MS);
      default:
        return event(frame.type, json);
    }
  },
  notification(out, clientId, cursor) {
    return notificationEvent(out, clientId, cursor, false);
  },
  event(out, clientId, cursor, counts) {
    // Inbox events resume like notifications: `id: <cursor>` too.
    return Buffer.from(`id: ${cursor}\nevent: ${out.n.kind}\ndata: ${eventJson(out, clientId, cursor, counts)}\n\n`);
  },
} satisfies Encoder;

/**
 * The same events, each already an HTTP/1.1 chunk: what a stream whose body the transport frames
 * itself writes to its socket (see sse.ts). A notification is framed as it is built, in the same
 * buffer; anything else is {@link sseEncoder}'s bytes in a chunk.
 */
export const sseChunkEncoder: Encoder = {
  name: 'sse',
  control(frame: ControlFrame): Buffer {
    return httpChunk(sseEncoder.control(frame));
  },
  notification(out, clientId, cursor) {
    return notificationEvent(out, clientId, cursor, true);
  },
  event(out, clientId, cursor, counts) {
    return httpChunk(sseEncoder.event(out, clientId, cursor, counts));
  },
} satisfies Encoder;
