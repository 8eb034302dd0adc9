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

/** Notification and event ids (the implementation is dependency-free, shared with the publisher SDK). */
export { uuidv7 } from './uuidv7.js';
