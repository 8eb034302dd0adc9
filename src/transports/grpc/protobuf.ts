/**
 * Just enough protobuf writing for the stream's `Notification` messages: strings, non-negative
 * integers and bools. Written by hand so a notification's shared fields are encoded once and the
 * per-device fields appended to them: protobuf messages concatenate by merging, so
 * `shared ++ perDevice` decodes as one message with both (the last value of a field wins).
 */

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** A field number with its value; empty strings, 0, false, null and undefined are left out (proto3 defaults). */
export type Field = readonly [no: number, value: string | number | boolean | null | undefined];

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Writes a non-negative integer up to 2^53 (plain arithmetic: bit operators stop at 32 bits). */
function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  buf[pos++] = n;
  return pos;
}

function toVarint(value: number | boolean): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  // Negative numbers never occur in these messages (times, counts, codes); clamp rather than emit 10 bytes.
  return Number.isFinite(value) && value > 0 ? Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER) : 0;
}

/** Encodes the given fields, in order, as one message. */
export function encodeFields(fields: readonly Field[]): Buffer {
  let size = 0;
  for (const [no, value] of fields) {
    if (value === null || value === undefined || value === '' || value === 0 || value === false) continue;
    if (typeof value === 'string') {
      const len = Buffer.byteLength(value);
      size += varintSize(no << 3) + varintSize(len) + len;
    } else size += varintSize(no << 3) + varintSize(toVarint(value));
  }
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const [no, value] of fields) {
    if (value === null || value === undefined || value === '' || value === 0 || value === false) continue;
    if (typeof value === 'string') {
      pos = writeVarint(buf, pos, (no << 3) | WIRE_LEN);
      const len = Buffer.byteLength(value);
      pos = writeVarint(buf, pos, len);
      pos += buf.write(value, pos, 'utf8');
    } else {
      pos = writeVarint(buf, pos, (no << 3) | WIRE_VARINT);
      pos = writeVarint(buf, pos, toVarint(value));
    }
  }
  return buf;
}

/**
 * `head ++ middle ++ <string field no = ascii>` in one allocation: the per-device hot path
 * (shared bytes, the connection's fixed fields, the device's cursor).
 */
export function concatWithAsciiField(head: Buffer, middle: Buffer, no: number, ascii: string): Buffer {
  const tag = (no << 3) | WIRE_LEN;
  const len = ascii.length;
  const buf = Buffer.allocUnsafe(head.length + middle.length + varintSize(tag) + varintSize(len) + len);
  head.copy(buf, 0);
  middle.copy(buf, head.length);
  let pos = writeVarint(buf, head.length + middle.length, tag);
  pos = writeVarint(buf, pos, len);
  buf.write(ascii, pos, 'latin1');
  return buf;
}
