import { DISCONNECTS } from '../core/disconnect.js';
import { type ControlFrame, type Encoder, notificationJsonHead } from '../core/frames.js';

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

const CRLF = 0x0d0a;

/**
 * One HTTP/1.1 chunk (RFC 9112 §7.1) holding `frames`, as one buffer: `<size hex>\r\n`, the
 * frames, `\r\n`. The SSE transport writes it to the socket itself, so a turn's events cost one
 * socket write and one syscall (Node's `res.write` makes each write a chunk too, but as four
 * buffers under a cork undone on the next tick). Null when there is nothing to send: an empty
 * chunk would end the body.
 */
export function httpChunk(frames: readonly Buffer[]): Buffer | null {
  let n = 0;
  for (const f of frames) n += f.length;
  if (n === 0) return null;
  const size = n.toString(16);
  const buf = Buffer.allocUnsafe(size.length + n + 4);
  let o = buf.write(size, 0, 'latin1');
  buf.writeUInt16BE(CRLF, o);
  o += 2;
  for (const f of frames) o += f.copy(buf, o);
  buf.writeUInt16BE(CRLF, o);
  return buf;
}

/** The bytes of the SSE stream. Notifications share their bytes across devices except the cursor. */
export const sseEncoder: Encoder = {
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
    // Shared: `\nevent: notification\ndata: {…head`; per device: `id: <cursor>` before it and the
    // recipient's `clientId` and `cursor` after it (as in the JSON encoder).
    let shared = out.cache.sse as Buffer | undefined;
    if (shared === undefined) {
      shared = Buffer.from(`\nevent: notification\ndata: ${notificationJsonHead(out.n)}`);
      out.cache.sse = shared;
    }
    const head = `id: ${cursor}`;
    const tail = `,"clientId":"${clientId}","cursor":"${cursor}"}\n\n`;
    const buf = Buffer.allocUnsafe(head.length + shared.length + tail.length);
    // ids and cursors are ASCII by construction: latin1 writes them byte for byte.
    buf.write(head, 0, 'latin1');
    shared.copy(buf, head.length);
    buf.write(tail, head.length + shared.length, 'latin1');
    return buf;
  },
};
