/**
 * Idempotency keys. A publish without an `id` gets one here, once per call, and every retry of that
 * call sends the same one: if an attempt was stored but its answer was lost, the retry is answered
 * with the same notification (same id and cursor, `delivered: 0`) instead of storing a second.
 *
 * UUIDv7 (RFC 9562) like the ids the server mints, so notification ids stay sortable by time
 * whoever chose them. Web Crypto only, no `node:crypto`: the SDK runs wherever `fetch` does.
 */

let lastMs = 0;
let counter = 0;
const bytes = new Uint8Array(16);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A UUIDv7: 48-bit milliseconds, a 12-bit counter for ids of the same millisecond, random bits. */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  globalThis.crypto.getRandomValues(bytes);
  const t = lastMs;
  bytes[0] = Math.floor(t / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(t / 2 ** 32) & 0xff;
  bytes[2] = (t >>> 24) & 0xff;
  bytes[3] = (t >>> 16) & 0xff;
  bytes[4] = (t >>> 8) & 0xff;
  bytes[5] = t & 0xff;
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[bytes[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}

/** `body` with its idempotency key: the caller's `id`, or a new one (for `null` too, which the server ignores). */
export function withKey<T extends { id?: string }>(body: T): T & { id: string } {
  return body.id === undefined || body.id === null ? { ...body, id: uuidv7() } : (body as T & { id: string });
}
