import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StoredNotification } from '../../src/core/types.js';
import { encryptPayload, MAX_PLAINTEXT_BYTES } from '../../src/push/encrypt.js';
import { guardedLookup, isInternalAddress, matchAllowedPrefix } from '../../src/push/endpoint-guard.js';
import { pushPayload } from '../../src/push/payload.js';
import { parseRetryAfter } from '../../src/push/sender.js';
import { generateVapidKeys, resolveVapidKeys, VapidSigner } from '../../src/push/vapid.js';
import { decryptAes128gcm, importEcdhPrivate } from './push-service.js';

const b = (s: string) => Buffer.from(s, 'base64url');

/** RFC 8291 Appendix A. */
const RFC8291 = {
  plaintext: 'When I grow up, I want to be a watermelon',
  asPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
  asPublic: 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
  salt: 'DGv6ra1nlYgDCS1FRnbzlw',
  body: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { d: ecdh.getPrivateKey(), p256dh: ecdh.getPublicKey(), auth: randomBytes(16) };
}

describe('RFC 8291 aes128gcm encryption', () => {
  it('reproduces the RFC 8291 Appendix A message byte for byte', () => {
    const out = encryptPayload(
      RFC8291.plaintext,
      { p256dh: b(RFC8291.uaPublic), auth: b(RFC8291.auth) },
      { salt: b(RFC8291.salt), senderPrivateKey: b(RFC8291.asPrivate) },
    );
    expect(out.toString('base64url')).toBe(RFC8291.body);
    // The header carries the sender's public key of the vector.
    expect(out.subarray(21, 86).toString('base64url')).toBe(RFC8291.asPublic);
  });

  it("the stand-in's WebCrypto decryptor opens the RFC's message (so it is a fair judge)", async () => {
    const privateKey = await importEcdhPrivate(b(RFC8291.uaPrivate), b(RFC8291.uaPublic));
    const plain = await decryptAes128gcm(b(RFC8291.body), { privateKey, publicKey: b(RFC8291.uaPublic), auth: b(RFC8291.auth) });
    expect(Buffer.from(plain).toString()).toBe(RFC8291.plaintext);
  });

  it('round-trips with fresh keys; a fresh salt and sender key each time; the largest payload fits 4096 bytes', async () => {
    const ua = browserKeys();
    const privateKey = await importEcdhPrivate(ua.d, ua.p256dh);
    const max = 'x'.repeat(MAX_PLAINTEXT_BYTES);
    const one = encryptPayload(max, ua);
    const two = encryptPayload(max, ua);
    expect(one.length).toBe(4096);
    expect(one.subarray(0, 16).equals(two.subarray(0, 16))).toBe(false);
    expect(one.subarray(21, 86).equals(two.subarray(21, 86))).toBe(false);
    expect(Buffer.from(await decryptAes128gcm(one, { privateKey, publicKey: ua.p256dh, auth: ua.auth })).toString()).toBe(max);
    expect(() => encryptPayload(`${max}x`, ua)).toThrow(RangeError);
    // Another auth secret cannot open it.
    await expect(decryptAes128gcm(one, { privateKey, publicKey: ua.p256dh, auth: randomBytes(16) })).rejects.toThrow();
  });
});

describe('VAPID (RFC 8292)', () => {
  it('signs an ES256 JWT {aud: endpoint origin, exp ≤ 24 h, sub} that verifies with k=', async () => {
    const keys = generateVapidKeys();
    const signer = new VapidSigner(keys, { subject: 'mailto:ops@example.com' });
    const now = Date.now();
    const header = signer.authorization('https://push.example.net:8443/wpush/v2/abc?x=1', now);
    const m = /^vapid t=([^,]+), k=(.+)$/.exec(header);
    expect(m).not.toBeNull();
    const [, jwt, k] = m as RegExpExecArray;
    expect(k).toBe(keys.publicKey);
    const [h, c, s] = jwt.split('.');
    expect(JSON.parse(b(h).toString())).toEqual({ typ: 'JWT', alg: 'ES256' });
    const claims = JSON.parse(b(c).toString());
    expect(claims.aud).toBe('https://push.example.net:8443');
    expect(claims.sub).toBe('mailto:ops@example.com');
    expect(claims.exp).toBeGreaterThan(now / 1000);
    expect(claims.exp).toBeLessThanOrEqual(now / 1000 + 24 * 3600);
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.importKey('raw', b(k), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    expect(await subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, b(s), new TextEncoder().encode(`${h}.${c}`))).toBe(true);
    // Reused per audience until close to expiry; another origin gets its own.
    expect(signer.authorization('https://push.example.net:8443/other', now + 1000)).toBe(header);
    expect(signer.authorization('https://other.example.net/x', now)).not.toBe(header);
    expect(signer.authorization('https://push.example.net:8443/other', now + 12 * 3600_000)).not.toBe(header);
  });

  it('keys: generated when unset; a configured pair is used; half a pair or a mismatch is a config error', () => {
    const gen = resolveVapidKeys({});
    expect(gen.generated).toBe(true);
    expect(b(gen.publicKey)).toHaveLength(65);
    expect(b(gen.publicKey)[0]).toBe(4);
    const conf = resolveVapidKeys({ VAPID_PUBLIC_KEY: gen.publicKey, VAPID_PRIVATE_KEY: gen.privateKey });
    expect(conf).toEqual({ ...gen, generated: false });
    expect(() => resolveVapidKeys({ VAPID_PUBLIC_KEY: gen.publicKey })).toThrow(/both/);
    expect(() => resolveVapidKeys({ VAPID_PUBLIC_KEY: generateVapidKeys().publicKey, VAPID_PRIVATE_KEY: gen.privateKey })).toThrow(/public half/);
    expect(() => resolveVapidKeys({ VAPID_PUBLIC_KEY: gen.publicKey, VAPID_PRIVATE_KEY: 'c2hvcnQ' })).toThrow(/32 bytes/);
  });
});

describe('push details', () => {
  it('Retry-After: seconds or an HTTP date', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Jan 2029 00:00:30 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });

  it('payload: {id, cursor, title, message, service, data, ts}; too large loses data, then text, and says so', () => {
    const n: StoredNotification = {
      id: '0190-x',
      clientId: 'alice',
      deviceId: null,
      title: 'Hi',
      message: 'there',
      service: 'chat',
      data: { a: 1 },
      ts: 1_700_000_000_000,
      expiresAt: null,
      pos: { ms: 1_700_000_000_000, seq: 2 },
      prev: null,
      epoch: 'e',
    };
    const small = JSON.parse(pushPayload(n).json);
    expect(small).toEqual({ id: '0190-x', cursor: expect.any(String), title: 'Hi', message: 'there', service: 'chat', data: { a: 1 }, ts: 1_700_000_000_000 });
    const big = pushPayload({ ...n, message: 'é"'.repeat(3000), data: { blob: 'y'.repeat(3000) } });
    expect(big.truncated).toBe(true);
    expect(Buffer.byteLength(big.json)).toBeLessThanOrEqual(MAX_PLAINTEXT_BYTES);
    const parsed = JSON.parse(big.json);
    expect(parsed.data).toBeUndefined();
    expect(parsed.truncated).toBe(true);
    expect(parsed.message.endsWith('…')).toBe(true);
    expect(parsed.message.length).toBeGreaterThan(1000);
  });

  it.each([
    ['https://fcm.googleapis.com/fcm/send/x', ['https://'], { hostAllowed: false }],
    ['https://fcm.googleapis.com/fcm/send/x', ['https://fcm.googleapis.com'], { hostAllowed: true }],
    ['https://fcm.googleapis.com:8443/x', ['https://FCM.googleapis.com'], { hostAllowed: true }],
    ['https://fcm.googleapis.com.evil.net/x', ['https://fcm.googleapis.com'], null],
    ['https://fcm.googleapis.community/x', ['https://fcm.googleapis.com'], null],
    ['https://push.example/v1x/y', ['https://push.example/v1'], null],
    ['https://push.example/v1/y', ['https://push.example/v1'], { hostAllowed: true }],
    ['http://127.0.0.1:9999/push/a', ['http://127.0.0.1'], { hostAllowed: true }],
    ['http://127.0.0.10/push/a', ['http://127.0.0.1'], null],
    ['http://push.example/x', ['https://'], null],
  ])('prefix match %s against %j', (href, prefixes, expected) => {
    expect(matchAllowedPrefix(href, prefixes)).toEqual(expected);
  });

  it('internal addresses are recognised, and a name resolving only to them is refused at connect time', async () => {
    for (const a of [
      '127.0.0.1',
      '10.2.3.4',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
      '0.0.0.0',
    ]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '142.250.1.1', '2001:4860:4860::8888']) expect(isInternalAddress(a), a).toBe(false);
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => guardedLookup('localhost', {}, (e) => resolve(e)));
    expect(err?.code).toBe('ENOTALLOWED');
  });
});
