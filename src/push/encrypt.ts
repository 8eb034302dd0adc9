import { createCipheriv, createECDH, type ECDH, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Web Push message encryption: RFC 8291 key derivation over the RFC 8188 `aes128gcm` content
 * coding, as one record (RFC 8291 §4: an application server MUST use a single record, so a
 * browser needs no record reassembly).
 *
 * ```
 * ecdh_secret = ECDH(as_private, ua_public)
 * IKM   = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info\0" ‖ ua_public ‖ as_public, 32)
 * CEK   = HKDF(salt = salt,        ikm = IKM,         info = "Content-Encoding: aes128gcm\0", 16)
 * NONCE = HKDF(salt = salt,        ikm = IKM,         info = "Content-Encoding: nonce\0", 12)
 * body  = salt(16) ‖ rs(uint32) ‖ idlen(1) = 65 ‖ as_public(65) ‖ AES-128-GCM(CEK, NONCE, plaintext ‖ 0x02) ‖ tag(16)
 * ```
 * `as_*` is a fresh key pair per message (the sender's, never the VAPID key); `ua_*` and
 * `auth_secret` come from the browser's `PushSubscription` (`keys.p256dh`, `keys.auth`).
 */

/** Record size announced in the header. The body is one record, so this only has to hold it. */
export const RECORD_SIZE = 4096;
/** salt(16) + rs(4) + idlen(1) + keyid(65 = the sender's uncompressed P-256 public key) */
export const HEADER_BYTES = 86;
const TAG_BYTES = 16;
/**
 * The largest plaintext that fits one 4096-byte push message (RFC 8291 §4: push services must
 * accept 4096 bytes of payload; 4096 − header − tag − the one-byte record delimiter).
 */
export const MAX_PLAINTEXT_BYTES = RECORD_SIZE - HEADER_BYTES - TAG_BYTES - 1;

const KEY_INFO = Buffer.from('WebPush: info\0', 'latin1');
const CEK_INFO = Buffer.from('Content-Encoding: aes128gcm\0', 'latin1');
const NONCE_INFO = Buffer.from('Content-Encoding: nonce\0', 'latin1');

export interface SubscriptionKeys {
  /** The browser's P-256 public key, 65 bytes uncompressed (`keys.p256dh`). */
  p256dh: Buffer;
  /** The browser's 16-byte authentication secret (`keys.auth`). */
  auth: Buffer;
}

export interface EncryptOptions {
  /** Fixed salt (test vectors only). @default 16 random bytes */
  salt?: Buffer;
  /** Fixed sender private key, 32 bytes (test vectors only). @default a fresh key pair */
  senderPrivateKey?: Buffer;
}

function hkdf(salt: Buffer, ikm: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/**
 * Encrypts `plaintext` for one subscription. Throws a RangeError when the plaintext does not fit
 * one push message ({@link MAX_PLAINTEXT_BYTES}); the caller shrinks the payload first.
 */
export function encryptPayload(plaintext: Buffer | string, keys: SubscriptionKeys, opts: EncryptOptions = {}): Buffer {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  if (data.length > MAX_PLAINTEXT_BYTES) throw new RangeError(`push payload is ${data.length} bytes; at most ${MAX_PLAINTEXT_BYTES} fit one message`);
  const sender: ECDH = createECDH('prime256v1');
  if (opts.senderPrivateKey) sender.setPrivateKey(opts.senderPrivateKey);
  else sender.generateKeys();
  const asPublic = sender.getPublicKey();
  // computeSecret throws on a point that is not on the curve: a subscription that slipped past
  // validation fails here, never with a weak secret.
  const ecdhSecret = sender.computeSecret(keys.p256dh);
  const ikm = hkdf(keys.auth, ecdhSecret, Buffer.concat([KEY_INFO, keys.p256dh, asPublic]), 32);
  const salt = opts.salt ?? randomBytes(16);
  const cek = hkdf(salt, ikm, CEK_INFO, 16);
  const nonce = hkdf(salt, ikm, NONCE_INFO, 12);

  const header = Buffer.alloc(HEADER_BYTES);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header.writeUInt8(asPublic.length, 20);
  asPublic.copy(header, 21);

  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  // 0x02: the last (and only) record's delimiter; no padding after it.
  const body = Buffer.concat([cipher.update(data), cipher.update(Buffer.from([2])), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([header, body]);
}
