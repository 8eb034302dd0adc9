import { createECDH, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { HeraldError } from '../core/errors.js';

/**
 * VAPID (RFC 8292): the application server identifies itself to push services with an ES256 JWT
 * signed by a P-256 key whose public half the browser was given as `applicationServerKey` when
 * it subscribed. A push service refuses a push signed with another key, so the keys must stay the
 * same across restarts and across the nodes of a cluster.
 */
export interface VapidKeys {
  /** base64url, 65-byte uncompressed P-256 point (what `GET /push/vapid-public-key` serves). */
  publicKey: string;
  /** base64url, the 32-byte private scalar. */
  privateKey: string;
  /** true when generated at start (not configured): printed in the banner, lost at restart. */
  generated: boolean;
}

/** A fresh VAPID key pair. */
export function generateVapidKeys(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: ecdh.getPrivateKey().toString('base64url'), generated: true };
}

/**
 * The keys from configuration, or generated ones when neither is set. One without the other, or a
 * public key that is not the private key's, is a configuration error (HERALD_ERR_CONFIG).
 */
export function resolveVapidKeys(cfg: { VAPID_PUBLIC_KEY?: string; VAPID_PRIVATE_KEY?: string }): VapidKeys {
  const pub = cfg.VAPID_PUBLIC_KEY;
  const priv = cfg.VAPID_PRIVATE_KEY;
  if (!pub && !priv) return generateVapidKeys();
  if (!pub || !priv) throw new HeraldError('HERALD_ERR_CONFIG', 'set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither (keys are then generated)');
  const d = Buffer.from(priv, 'base64url');
  if (d.length !== 32) throw new HeraldError('HERALD_ERR_CONFIG', 'VAPID_PRIVATE_KEY must be 32 bytes, base64url');
  const ecdh = createECDH('prime256v1');
  try {
    ecdh.setPrivateKey(d);
  } catch (err) {
    throw new HeraldError('HERALD_ERR_CONFIG', 'VAPID_PRIVATE_KEY is not a P-256 private key', { cause: err });
  }
  const derived = ecdh.getPublicKey();
  if (!derived.equals(Buffer.from(pub, 'base64url'))) {
    throw new HeraldError(
      'HERALD_ERR_CONFIG',
      'VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY (expected the 65-byte uncompressed point, base64url)',
    );
  }
  return { publicKey: derived.toString('base64url'), privateKey: d.toString('base64url'), generated: false };
}

export interface VapidSignerOptions {
  /** `sub` claim: a `mailto:` or `https:` contact for the push service's operator. */
  subject: string;
  /** Lifetime of a signed token. RFC 8292 §2: at most 24 hours. @default 12 hours */
  tokenTtlMs?: number;
}

const MAX_TTL_MS = 24 * 3600_000;

/**
 * Builds `Authorization: vapid t=<jwt>, k=<public key>` headers. A token is per audience (the
 * push service's origin) and is reused until an hour before it expires: one signature per push
 * service per several hours, not one per push.
 */
export class VapidSigner {
  readonly #keys: VapidKeys;
  readonly #key: KeyObject;
  readonly #subject: string;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { header: string; renewAt: number }>();

  constructor(keys: VapidKeys, opts: VapidSignerOptions) {
    this.#keys = keys;
    this.#subject = opts.subject;
    this.#ttlMs = Math.min(opts.tokenTtlMs ?? 12 * 3600_000, MAX_TTL_MS);
    const pub = Buffer.from(keys.publicKey, 'base64url');
    this.#key = createPrivateKey({
      format: 'jwk',
      key: { kty: 'EC', crv: 'P-256', d: keys.privateKey, x: pub.subarray(1, 33).toString('base64url'), y: pub.subarray(33, 65).toString('base64url') },
    });
  }

  get publicKey(): string {
    return this.#keys.publicKey;
  }

  /** The Authorization header value for a push to `endpoint`. */
  authorization(endpoint: URL | string, now = Date.now()): string {
    const aud = (typeof endpoint === 'string' ? new URL(endpoint) : endpoint).origin;
    const cached = this.#cache.get(aud);
    if (cached && now < cached.renewAt) return cached.header;
    const exp = Math.floor((now + this.#ttlMs) / 1000);
    const header = `vapid t=${this.token(aud, exp)}, k=${this.#keys.publicKey}`;
    // Renew an hour early (or halfway, for short test lifetimes) so a push in flight never
    // carries a token that expires on the way.
    this.#cache.set(aud, { header, renewAt: now + Math.max(this.#ttlMs - 3600_000, this.#ttlMs / 2) });
    if (this.#cache.size > 1000) this.#cache.delete(this.#cache.keys().next().value as string);
    return header;
  }

  /** An ES256 JWT `{aud, exp, sub}` (JOSE: the signature is r ‖ s, not DER). */
  token(aud: string, exp: number): string {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const signingInput = `${enc({ typ: 'JWT', alg: 'ES256' })}.${enc({ aud, exp, sub: this.#subject })}`;
    const sig = sign('sha256', Buffer.from(signingInput), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${sig.toString('base64url')}`;
  }
}
