import { createHash, createPublicKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { HeraldConfig } from '../core/config.js';
import { HeraldError } from '../core/errors.js';
import { isValidId } from '../core/ids.js';

/**
 * Who may do what: device JWTs and the publisher API key. A layer of its own (not `api/`) because
 * the HTTP API and every device transport check the same tokens, and neither should import the
 * other; it needs no socket and no HTTP server, only the Authorization header's text.
 */

/** What a verified device token says. */
export interface DeviceIdentity {
  clientId: string;
  /** When the token stops being valid (exp + allowed skew), ms since epoch; null without exp. */
  expiresAt: number | null;
}

/** Device JWTs (HS256 secret, RS256/ES256 public key or JWKS) and the publisher API key. */
export class Auth {
  readonly #apiKeyHash: Buffer;
  readonly #key: Uint8Array | ReturnType<typeof createPublicKey> | JWTVerifyGetKey;
  readonly #secret: Uint8Array | null;
  readonly #skewMs: number;
  readonly #algorithms: string[];

  constructor(cfg: Pick<HeraldConfig, 'API_KEY' | 'JWT_SECRET' | 'JWT_PUBLIC_KEY' | 'JWKS_URL' | 'JWT_CLOCK_SKEW_MS'>) {
    if (!cfg.API_KEY) throw new HeraldError('HERALD_ERR_CONFIG', 'API_KEY is required');
    this.#apiKeyHash = sha256(cfg.API_KEY);
    this.#skewMs = cfg.JWT_CLOCK_SKEW_MS;
    if (cfg.JWT_SECRET) {
      this.#secret = new TextEncoder().encode(cfg.JWT_SECRET);
      // Imported once: jose would import raw bytes again on every verify (a third of its cost).
      const imported = globalThis.crypto.subtle.importKey('raw', this.#secret as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      this.#key = () => imported;
      this.#algorithms = ['HS256'];
    } else if (cfg.JWT_PUBLIC_KEY) {
      const pem = cfg.JWT_PUBLIC_KEY.startsWith('@') ? readFileSync(cfg.JWT_PUBLIC_KEY.slice(1), 'utf8') : cfg.JWT_PUBLIC_KEY;
      this.#secret = null;
      this.#key = createPublicKey(pem);
      this.#algorithms = ['RS256', 'ES256'];
    } else if (cfg.JWKS_URL) {
      this.#secret = null;
      this.#key = createRemoteJWKSet(new URL(cfg.JWKS_URL));
      this.#algorithms = ['RS256', 'ES256'];
    } else {
      throw new HeraldError('HERALD_ERR_CONFIG', 'one of JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL is required');
    }
  }

  /** Constant-time check of `Authorization: Bearer <key>`. */
  checkApiKey(authorization: string | undefined): boolean {
    const key = bearer(authorization);
    return key !== null && timingSafeEqual(sha256(key), this.#apiKeyHash);
  }

  /** Verifies a device token; HERALD_ERR_UNAUTHORIZED on any fault (bad signature, exp, sub). */
  async verifyDevice(token: string | null | undefined): Promise<DeviceIdentity> {
    if (!token) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'device token required (?token= or Authorization: Bearer)');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#key as Parameters<typeof jwtVerify>[1], {
        algorithms: this.#algorithms,
        clockTolerance: Math.floor(this.#skewMs / 1000),
      }));
    } catch (err) {
      throw new HeraldError('HERALD_ERR_UNAUTHORIZED', `invalid device token: ${(err as Error).message}`, { cause: err });
    }
    if (!isValidId(payload.sub)) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'device token has no valid sub (the client id)');
    return { clientId: payload.sub, expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 + this.#skewMs : null };
  }

  /** Signs a device token (HS256 only; the CLI and the embedded banner use it). */
  async signDevice(clientId: string, ttlSeconds = 3600): Promise<string> {
    if (!this.#secret) throw new HeraldError('HERALD_ERR_CONFIG', 'signing device tokens needs JWT_SECRET');
    return signDeviceToken(this.#secret, clientId, ttlSeconds);
  }
}

/**
 * Signs an HS256 device token for `clientId` (the CLI's `herald token`, tests and the load bench
 * use it without a running node). `ttlSeconds` 0 means no `exp`.
 */
export async function signDeviceToken(secret: string | Uint8Array, clientId: string, ttlSeconds = 3600): Promise<string> {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(clientId).setIssuedAt();
  // 0 = no expiry; a negative ttl makes an already expired token (tests).
  if (ttlSeconds !== 0) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds);
  return jwt.sign(key);
}

/** The credential of `Authorization: Bearer <credential>` (any case, spaces trimmed); null otherwise. */
export function bearer(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return m ? m[1] : null;
}

/** A random base64url secret: the API key and JWT secret generated for a loopback bind without secrets. */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
