import { ECDH } from 'node:crypto';
import { invalid } from '../core/errors.js';
import { isInternalHost, matchAllowedPrefix } from './endpoint-guard.js';
import type { PushSubscriptionRecord } from './subscriptions.js';

/** Longest endpoint accepted (real push services use a few hundred characters). */
export const MAX_ENDPOINT_LENGTH = 2048;
const B64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/**
 * Validates a browser's `PushSubscription` JSON (`{endpoint, expirationTime?, keys: {p256dh,
 * auth}}`, what `subscription.toJSON()` gives) for one device. Throws HERALD_ERR_INVALID naming
 * `endpoint`, `keys.p256dh`, `keys.auth` or `expirationTime`.
 */
export function parsePushSubscription(
  body: unknown,
  ctx: { clientId: string; deviceId: string; allowedPrefixes: readonly string[]; now: number },
): PushSubscriptionRecord {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('endpoint', 'required (the body must be a PushSubscription object)');
  const b = body as Record<string, unknown>;

  if (typeof b.endpoint !== 'string' || b.endpoint === '') throw invalid('endpoint', 'required, a URL string');
  if (b.endpoint.length > MAX_ENDPOINT_LENGTH) throw invalid('endpoint', `must be at most ${MAX_ENDPOINT_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(b.endpoint);
  } catch {
    throw invalid('endpoint', 'not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('endpoint', 'must be an http(s) URL');
  if (url.username || url.password) throw invalid('endpoint', 'must not carry credentials');
  url.hash = '';
  const endpoint = url.href;
  const match = matchAllowedPrefix(endpoint, ctx.allowedPrefixes);
  if (!match) throw invalid('endpoint', `must start with one of the allowed push service prefixes (PUSH_ALLOWED_ENDPOINTS: ${ctx.allowedPrefixes.join(', ')})`);
  if (!match.hostAllowed && isInternalHost(url)) throw invalid('endpoint', 'must not point to a loopback, private or link-local address');

  const keys = b.keys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) throw invalid('keys.p256dh', 'required (keys: {p256dh, auth})');
  const k = keys as Record<string, unknown>;
  const p256dh = decodeKey(k.p256dh, 'keys.p256dh', 65);
  try {
    // Throws unless the 65 bytes are an uncompressed point on P-256.
    ECDH.convertKey(p256dh, 'prime256v1', undefined, undefined, 'uncompressed');
  } catch {
    throw invalid('keys.p256dh', 'not a P-256 public key');
  }
  if (p256dh[0] !== 4) throw invalid('keys.p256dh', 'must be an uncompressed P-256 point (65 bytes starting 0x04)');
  const auth = decodeKey(k.auth, 'keys.auth', 16);

  let expirationTime: number | null = null;
  if (b.expirationTime !== undefined && b.expirationTime !== null) {
    if (typeof b.expirationTime !== 'number' || !Number.isFinite(b.expirationTime)) throw invalid('expirationTime', 'must be null or ms since the epoch');
    if (b.expirationTime <= ctx.now) throw invalid('expirationTime', 'the subscription has already expired');
    expirationTime = b.expirationTime;
  }

  return {
    clientId: ctx.clientId,
    deviceId: ctx.deviceId,
    endpoint,
    p256dh: p256dh.toString('base64url'),
    auth: auth.toString('base64url'),
    expirationTime,
    hostAllowed: match.hostAllowed,
    createdAt: ctx.now,
  };
}

function decodeKey(value: unknown, field: string, bytes: number): Buffer {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'required, base64url');
  if (!B64.test(value)) throw invalid(field, 'must be base64url');
  const buf = Buffer.from(value, 'base64url');
  if (buf.length !== bytes) throw invalid(field, `must decode to ${bytes} bytes (got ${buf.length})`);
  return buf;
}
