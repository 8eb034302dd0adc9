import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A push service stand-in on 127.0.0.1 (RFC 8030's role, the way FCM or Mozilla's autopush play
 * it): it checks every push's VAPID header (RFC 8292: ES256 signature by the `k=` key, `aud` =
 * this origin, `exp` within 24 h, `sub` a contact), then decrypts the aes128gcm body (RFC 8291)
 * with the subscription's private key and auth secret — the browser's half, which the test
 * generated as a browser would. Both are done with WebCrypto (`crypto.subtle`, the browser's API),
 * not with the `node:crypto` calls Herald uses to sign and encrypt.
 *
 * How it answers is programmable ({@link respond}); by default 201 Created.
 */

const subtle = globalThis.crypto.subtle;
const enc = new TextEncoder();

export interface BrowserSubscription {
  /** Path id on the stand-in (`/push/<id>`). */
  readonly id: string;
  /** `PushSubscription.toJSON()` as a browser would POST it. */
  readonly json: { endpoint: string; expirationTime: null | number; keys: { p256dh: string; auth: string } };
  readonly privateKey: CryptoKey;
  readonly publicKey: Uint8Array;
  readonly auth: Uint8Array;
}

export interface ReceivedPush {
  /** Subscription id (path). */
  sub: string;
  at: number;
  headers: IncomingMessage['headers'];
  ttl: number | null;
  urgency: string | null;
  /** The `k=` of the VAPID header. */
  vapidKey: string | null;
  claims: { aud?: string; exp?: number; sub?: string } | null;
  /** Decrypted and parsed payload (null when something failed: see `error`). */
  payload: Record<string, any> | null;
  /** Why the push was refused by the checks (the stand-in answered 400/401 then). */
  error: string | null;
  /** What the stand-in answered. */
  status: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Answer only after this long (a slow push service). */
  delayMs?: number;
}

export class PushServiceStandIn {
  readonly server: Server;
  readonly received: ReceivedPush[] = [];
  readonly #subs = new Map<string, BrowserSubscription>();
  readonly #pending = new Set<NodeJS.Timeout>();
  readonly #attempts = new Map<string, number>();
  /** Decides the answer to each push that passed the checks (`attempt` counts arrivals per subscription). */
  respond: (push: ReceivedPush, attempt: number) => Reply = () => ({ status: 201 });
  /** Skip decryption (floods: the checks cost CPU the latency measurement should not see). */
  decrypt = true;
  #counter = 0;
  url = '';

  private constructor() {
    this.server = createServer((req, res) => void this.#handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(): Promise<PushServiceStandIn> {
    const s = new PushServiceStandIn();
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  /** A new subscription as a browser makes one: its own P-256 key pair and 16-byte auth secret. */
  async subscription(): Promise<BrowserSubscription> {
    const pair = (await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits'])) as CryptoKeyPair;
    const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey));
    const auth = globalThis.crypto.getRandomValues(new Uint8Array(16));
    const id = `s${++this.#counter}-${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('base64url')}`;
    const sub: BrowserSubscription = {
      id,
      privateKey: pair.privateKey,
      publicKey,
      auth,
      json: { endpoint: `${this.url}/push/${id}`, expirationTime: null, keys: { p256dh: b64u(publicKey), auth: b64u(auth) } },
    };
    this.#subs.set(id, sub);
    return sub;
  }

  /** Pushes received for one subscription (checked ones and refused ones). */
  for(sub: BrowserSubscription): ReceivedPush[] {
    return this.received.filter((r) => r.sub === sub.id);
  }

  /** Any push that failed the checks: a test expects none. */
  get errors(): string[] {
    return this.received.filter((r) => r.error !== null).map((r) => `${r.sub}: ${r.error}`);
  }

  async close(): Promise<void> {
    for (const t of this.#pending) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const id = /^\/push\/([^/?]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const push: ReceivedPush = {
      sub: id,
      at: Date.now(),
      headers: req.headers,
      ttl: null,
      urgency: typeof req.headers.urgency === 'string' ? req.headers.urgency : null,
      vapidKey: null,
      claims: null,
      payload: null,
      error: null,
      status: 0,
    };
    const attempt = (this.#attempts.get(id) ?? 0) + 1;
    this.#attempts.set(id, attempt);
    try {
      const sub = this.#subs.get(id);
      if (req.method !== 'POST' || !sub) throw new Refusal(404, `no subscription at ${req.method} ${req.url}`);
      await this.#checkVapid(req, push);
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Refusal(415, `content-encoding ${req.headers['content-encoding']}`);
      const ttl = req.headers.ttl;
      if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) throw new Refusal(400, `TTL header missing or bad: ${ttl}`);
      push.ttl = Number(ttl);
      if (push.urgency !== null && !['very-low', 'low', 'normal', 'high'].includes(push.urgency)) throw new Refusal(400, `bad Urgency ${push.urgency}`);
      if (body.length > 4096) throw new Refusal(413, `payload ${body.length} bytes > 4096`);
      if (this.decrypt) push.payload = JSON.parse(new TextDecoder().decode(await decryptAes128gcm(body, sub)));
    } catch (err) {
      push.error = (err as Error).message;
      push.status = err instanceof Refusal ? err.status : 400;
      this.received.push(push);
      res.writeHead(push.status).end();
      return;
    }
    const reply = this.respond(push, attempt);
    push.status = reply.status;
    // Recorded once checked and decrypted (a test that sees it sees all of it).
    this.received.push(push);
    const send = () => {
      if (!res.destroyed) res.writeHead(reply.status, reply.headers).end();
    };
    if (reply.delayMs) {
      const t = setTimeout(() => {
        this.#pending.delete(t);
        send();
      }, reply.delayMs);
      this.#pending.add(t);
    } else send();
  }

  async #checkVapid(req: IncomingMessage, push: ReceivedPush): Promise<void> {
    const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(req.headers.authorization ?? '');
    if (!m) throw new Refusal(401, `Authorization is not "vapid t=..., k=...": ${req.headers.authorization}`);
    const [, jwt, k] = m;
    push.vapidKey = k;
    const [h, c, s] = jwt.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    if (header.alg !== 'ES256') throw new Refusal(401, `JWT alg ${header.alg}`);
    const key = await subtle.importKey('raw', Buffer.from(k, 'base64url'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const ok = await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, Buffer.from(s, 'base64url'), enc.encode(`${h}.${c}`));
    if (!ok) throw new Refusal(401, 'VAPID JWT signature does not verify with k=');
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
    push.claims = claims;
    const now = Math.floor(Date.now() / 1000);
    if (claims.aud !== this.url) throw new Refusal(401, `aud ${claims.aud} is not this push service's origin ${this.url}`);
    if (!Number.isInteger(claims.exp) || claims.exp <= now || claims.exp > now + 24 * 3600)
      throw new Refusal(401, `exp ${claims.exp} not within 24 h of ${now}`);
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Refusal(401, `sub ${claims.sub} is not a mailto: or https: contact`);
  }
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

async function hkdf(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number): Promise<Uint8Array> {
  const key = await subtle.importKey('raw', ikm as BufferSource, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: salt as BufferSource, info: info as BufferSource }, key, bytes * 8));
}

/**
 * The browser's side of RFC 8291 / RFC 8188: reads salt, record size and the sender's key from
 * the header, derives the content key and nonce from the ECDH secret and the auth secret, opens
 * the single record and strips the padding up to its 0x02 delimiter.
 */
export async function decryptAes128gcm(body: Uint8Array, sub: { privateKey: CryptoKey; publicKey: Uint8Array; auth: Uint8Array }): Promise<Uint8Array> {
  const buf = Buffer.from(body);
  if (buf.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = buf.subarray(0, 16);
  const rs = buf.readUInt32BE(16);
  const idlen = buf[20];
  if (idlen !== 65) throw new Error(`keyid length ${idlen}, expected the sender's 65-byte P-256 key`);
  const asPublic = buf.subarray(21, 21 + idlen);
  const record = buf.subarray(21 + idlen);
  if (record.length > rs) throw new Error(`record of ${record.length} bytes exceeds rs ${rs}: more than one record`);
  const senderKey = await subtle.importKey('raw', asPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const ecdhSecret = new Uint8Array(await subtle.deriveBits({ name: 'ECDH', public: senderKey }, sub.privateKey, 256));
  const keyInfo = Buffer.concat([enc.encode('WebPush: info\0'), sub.publicKey, asPublic]);
  const ikm = await hkdf(sub.auth, ecdhSecret, keyInfo, 32);
  const cek = await hkdf(salt, ikm, enc.encode('Content-Encoding: aes128gcm\0'), 16);
  const nonce = await hkdf(salt, ikm, enc.encode('Content-Encoding: nonce\0'), 12);
  const aes = await subtle.importKey('raw', cek as BufferSource, 'AES-GCM', false, ['decrypt']);
  const padded = new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: nonce as BufferSource, tagLength: 128 }, aes, record));
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error('no last-record delimiter (0x02)');
  return padded.subarray(0, end);
}

/** Imports a raw private scalar with its public point as a WebCrypto ECDH key (test vectors). */
export async function importEcdhPrivate(d: Uint8Array, pub: Uint8Array): Promise<CryptoKey> {
  return subtle.importKey(
    'jwk',
    { kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33, 65)) },
    { name: 'ECDH', namedCurve: 'P-256' },
    false,
    ['deriveBits'],
  );
}
