import { randomFillSync } from 'node:crypto';
import { invalid } from './errors.js';

const ID_RE = /^[A-Za-z0-9._@-]{1,128}$/;

/** Client and device ids: 1–128 of `A-Z a-z 0-9 . _ - @` (PROTOCOL.md "Identifiers"). */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_RE.test(value);
}

/** Throws HERALD_ERR_INVALID naming `field` unless `value` is a valid id. */
export function checkId(field: string, value: unknown): string {
  if (!isValidId(value)) {
    throw invalid(field, value === undefined || value === null || value === '' ? 'required' : 'must be 1-128 characters of A-Z a-z 0-9 . _ - @');
  }
  return value;
}

/** `<client>:<device>`; `:` cannot occur inside an id, so the split is unambiguous. */
export function connectionIdOf(clientId: string, deviceId: string): string {
  return `${clientId}:${deviceId}`;
}

export function parseConnectionId(connectionId: string): { clientId: string; deviceId: string } | null {
  const i = connectionId.indexOf(':');
  if (i < 0) return null;
  const clientId = connectionId.slice(0, i);
  const deviceId = connectionId.slice(i + 1);
  return isValidId(clientId) && isValidId(deviceId) ? { clientId, deviceId } : null;
}

/** Random bytes drawn 4 KiB at a time: one syscall-backed fill per 256 ids, not one per id. */
const POOL = Buffer.allocUnsafe(4096);
let poolAt = POOL.length;
/** uuidv7 is synchronous and only reads it before returning: one scratch buffer serves every call. */
const SCRATCH = Buffer.allocUnsafe(16);
function random16(): Buffer {
  if (poolAt + 16 > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  POOL.copy(SCRATCH, 0, poolAt, poolAt + 16);
  poolAt += 16;
  return SCRATCH;
}

let lastMs = 0;
let counter = 0;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUIDv7 (RFC 9562): 48-bit millisecond time, then a 12-bit counter that keeps ids minted in the
 * same millisecond sortable, then random bits.
 */
export function uuidv7(now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  const b = random16();
  const t = lastMs;
  b[0] = Math.floor(t / 2 ** 40) & 0xff;
  b[1] = Math.floor(t / 2 ** 32) & 0xff;
  b[2] = (t >>> 24) & 0xff;
  b[3] = (t >>> 16) & 0xff;
  b[4] = (t >>> 8) & 0xff;
  b[5] = t & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8] & 0x3f);
  let s = '';
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
