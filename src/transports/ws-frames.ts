import type { ControlFrame, Encoder } from '../core/frames.js';
import { eventJson, jsonHead, recipientTail } from '../core/frames.js';

/**
 * The WebSocket encoder: the same JSON as every transport, already framed as unmasked text frames
 * (RFC 6455 §5.2), so a connection's queue goes to the socket as-is. A notification costs one
 * buffer per device — header, the shared JSON head (encoded once per notification), and the
 * device's own tail — and no copy at write time.
 */
function headerLength(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

function writeHeader(buf: Buffer, n: number): number {
  buf[0] = 0x81; // FIN + text
  if (n < 126) {
    buf[1] = n;
    return 2;
  }
  if (n < 65_536) {
    buf[1] = 126;
    buf.writeUInt16BE(n, 2);
    return 4;
  }
  buf[1] = 127;
  buf.writeBigUInt64BE(BigInt(n), 2);
  return 10;
}

/** A text frame around `payload`. */
export function textFrame(payload: Buffer): Buffer {
  const h = headerLength(payload.length);
  const buf = Buffer.allocUnsafe(h + payload.length);
  writeHeader(buf, payload.length);
  payload.copy(buf, h);
  return buf;
}

let pingTs = -1;
let pingFrame: Buffer = Buffer.alloc(0);

/** Complete WebSocket frames (header and JSON text), so a batch goes to the socket in one write. */
export const wsEncoder: Encoder = {
  name: 'ws',
  control(frame: ControlFrame) {
    return textFrame(Buffer.from(JSON.stringify(frame)));
  },
  ping(ts) {
    if (ts !== pingTs) {
      pingTs = ts;
      pingFrame = textFrame(Buffer.from(`{"type":"ping","ts":${ts}}`));
    }
    return pingFrame;
  },
  notification(out, clientId, cursor) {
    const head = jsonHead(out);
    const tail = recipientTail(clientId, cursor);
    const n = head.length + tail.length;
    const buf = Buffer.allocUnsafe(headerLength(n) + n);
    const o = writeHeader(buf, n);
    head.copy(buf, o);
    buf.write(tail, o + head.length, 'latin1');
    return buf;
  },
  event(out, clientId, cursor, counts) {
    return textFrame(Buffer.from(eventJson(out, clientId, cursor, counts)));
  },
};
