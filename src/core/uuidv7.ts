/**
 * UUIDv7 (RFC 9562), the one implementation: the server mints notification and webhook event ids
 * with it, the publisher SDK its idempotency keys, so ids stay sortable by time whoever chose them.
 * Imports nothing and draws its random bits from Web Crypto (`globalThis.crypto`, in Node.js 20
 * and every browser), so `herald/publisher` can use it wherever `fetch` runs.
 */

/** Random bytes drawn 4 KiB at a time: one fill per 256 ids, not one per id. */
const POOL = new Uint8Array(4096);
let poolAt = POOL.length;

let lastMs = 0;
let counter = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7: 48-bit millisecond time, then a 12-bit counter that keeps ids minted in the same
 * millisecond sortable, then random bits.
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  if (poolAt + 16 > POOL.length) {
    globalThis.crypto.getRandomValues(POOL);
    poolAt = 0;
  }
  // The id's 16 bytes are written over its share of the pool (used once, then passed by).
  const o = poolAt;
  poolAt += 16;
  const b = POOL;
  const t = lastMs;
  b[o] = Math.floor(t / 2 ** 40) & 0xff;
  b[o + 1] = Math.floor(t / 2 ** 32) & 0xff;
  b[o + 2] = (t >>> 24) & 0xff;
  b[o + 3] = (t >>> 16) & 0xff;
  b[o + 4] = (t >>> 8) & 0xff;
  b[o + 5] = t & 0xff;
  b[o + 6] = 0x70 | (counter >>> 8);
  b[o + 7] = counter & 0xff;
  b[o + 8] = 0x80 | (b[o + 8] & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[o + i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
