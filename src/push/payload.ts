import { encodeCursor } from '../core/cursor.js';
import type { StoredNotification } from '../core/types.js';
import { MAX_PLAINTEXT_BYTES } from './encrypt.js';

/**
 * What the service worker receives, decrypted (PROTOCOL.md "Web Push"):
 * `{id, cursor, title, message, service, data, ts}`. `cursor` is the notification's place in its
 * client's stream: acking it (`POST /me/devices/<d>/ack`) advances the device's stored cursor, so
 * a device that saw it through push is not sent it again when it reconnects.
 */
export interface PushPayload {
  id: string;
  cursor: string;
  title: string;
  message: string;
  service: string;
  data?: unknown;
  ts: number;
  /** Set when the notification did not fit one push message: `data` was left out and text cut. */
  truncated?: true;
}

/**
 * The JSON to encrypt, within one push message ({@link MAX_PLAINTEXT_BYTES}). Too large a
 * notification loses `data` first, then message and title are shortened; `truncated: true`
 * tells the service worker to show what it has (the full notification waits in the store for the
 * next connection). Returns the text and whether it was cut.
 */
export function pushPayload(n: StoredNotification, maxBytes = MAX_PLAINTEXT_BYTES): { json: string; truncated: boolean } {
  const p: PushPayload = {
    id: n.id,
    cursor: encodeCursor({ c: n.pos, ce: n.epoch, b: null, be: null }),
    title: n.title,
    message: n.message,
    service: n.service,
    data: n.data,
    ts: n.ts,
  };
  let json = JSON.stringify(p);
  if (Buffer.byteLength(json) <= maxBytes) return { json, truncated: false };
  p.data = undefined;
  p.truncated = true;
  // Shorten the message, then the title: the longest prefix that fits (bytes depend on UTF-8
  // and JSON escaping, so search rather than estimate).
  for (const field of ['message', 'title'] as const) {
    json = JSON.stringify(p);
    if (Buffer.byteLength(json) <= maxBytes) break;
    const full = p[field];
    let lo = 0;
    let hi = full.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      p[field] = cut(full, mid);
      if (Buffer.byteLength(JSON.stringify(p)) <= maxBytes) lo = mid;
      else hi = mid - 1;
    }
    p[field] = cut(full, lo);
    json = JSON.stringify(p);
  }
  return { json, truncated: true };
}

/** The first `n` characters plus an ellipsis, not splitting a surrogate pair. */
function cut(s: string, n: number): string {
  if (n <= 0) return '';
  let end = n;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}
