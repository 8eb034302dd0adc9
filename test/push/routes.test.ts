import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateVapidKeys } from '../../src/push/vapid.js';
import { api } from '../support/herald.js';
import { deviceCall, startPushHerald } from './support.js';

function browserSubscription(endpoint = 'https://fcm.googleapis.com/fcm/send/abc:def') {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

describe('Web Push endpoints', () => {
  it('GET /push/vapid-public-key needs no auth and serves the configured key (65-byte point, base64url)', async () => {
    const keys = generateVapidKeys();
    await using h = await startPushHerald({ VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey });
    const r = await api(h, 'GET', '/push/vapid-public-key', undefined, null);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ publicKey: keys.publicKey });
    expect(h.push.vapid.generated).toBe(false);
  });

  it('without configured keys, generates a pair (returned for the banner) and serves its public half', async () => {
    await using h = await startPushHerald();
    expect(h.push.vapid.generated).toBe(true);
    const r = await api(h, 'GET', '/push/vapid-public-key', undefined, null);
    const key = Buffer.from(r.body.publicKey, 'base64url');
    expect(key).toHaveLength(65);
    expect(key[0]).toBe(4);
    expect(r.body.publicKey).toBe(h.push.vapid.publicKey);
    expect(h.push.vapid.privateKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('POST/DELETE /me/devices/<d>/push: 204 with the device token (Bearer or ?token=), stored per device', async () => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: 'https://' });
    const sub = browserSubscription();
    expect((await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', sub)).status).toBe(204);
    const stored = await h.push.store.get('alice', 'phone');
    expect(stored).toMatchObject({ clientId: 'alice', deviceId: 'phone', endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth });
    expect(await h.push.store.get('bob', 'phone')).toBeNull();
    // ?token= works too (a service worker's fetch without headers).
    const { token } = await import('../support/herald.js');
    const res = await fetch(`${h.url}/me/devices/laptop/push?token=${await token('alice')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(browserSubscription('https://updates.push.services.mozilla.com/wpush/v2/x')),
    });
    expect(res.status).toBe(204);
    expect([...(await h.push.devicesWithPush('alice'))].sort()).toEqual(['laptop', 'phone']);
    expect((await deviceCall(h, 'DELETE', '/me/devices/phone/push', 'alice')).status).toBe(204);
    expect(await h.push.store.get('alice', 'phone')).toBeNull();
    // Idempotent.
    expect((await deviceCall(h, 'DELETE', '/me/devices/phone/push', 'alice')).status).toBe(204);
    expect([...(await h.push.devicesWithPush('alice'))]).toEqual(['laptop']);
  });

  it('401 without a valid device token, whatever the body', async () => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: 'https://' });
    for (const [method, path, body] of [
      ['POST', '/me/devices/phone/push', browserSubscription()],
      ['POST', '/me/devices/phone/push', { nonsense: true }],
      ['DELETE', '/me/devices/phone/push', undefined],
      ['POST', '/me/devices/phone/ack', { cursor: 'x' }],
    ] as const) {
      const r = await deviceCall(h, method, path, null, body);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.body.code).toBe('HERALD_ERR_UNAUTHORIZED');
    }
    const bad = await fetch(`${h.url}/me/devices/phone/push`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-jwt', 'content-type': 'application/json' },
      body: JSON.stringify(browserSubscription()),
    });
    expect(bad.status).toBe(401);
    expect(await h.push.store.get('alice', 'phone')).toBeNull();
  });

  const good = browserSubscription();
  const offCurve = Buffer.from(good.keys.p256dh, 'base64url');
  offCurve[40] ^= 1;
  it.each([
    ['no body fields', {}, 'endpoint'],
    ['an array', [good], 'endpoint'],
    ['endpoint not a string', { ...good, endpoint: 42 }, 'endpoint'],
    ['endpoint not a URL', { ...good, endpoint: 'not a url' }, 'endpoint'],
    ['endpoint not http(s)', { ...good, endpoint: 'ftp://push.example/x' }, 'endpoint'],
    ['endpoint with credentials', { ...good, endpoint: 'https://user:pw@push.example/x' }, 'endpoint'],
    ['endpoint too long', { ...good, endpoint: `https://push.example/${'a'.repeat(2100)}` }, 'endpoint'],
    ['no keys', { endpoint: good.endpoint }, 'keys.p256dh'],
    ['p256dh missing', { ...good, keys: { auth: good.keys.auth } }, 'keys.p256dh'],
    ['p256dh not base64url', { ...good, keys: { ...good.keys, p256dh: '!!!' } }, 'keys.p256dh'],
    ['p256dh 33 bytes (compressed)', { ...good, keys: { ...good.keys, p256dh: randomBytes(33).toString('base64url') } }, 'keys.p256dh'],
    ['p256dh not on the curve', { ...good, keys: { ...good.keys, p256dh: offCurve.toString('base64url') } }, 'keys.p256dh'],
    ['auth missing', { ...good, keys: { p256dh: good.keys.p256dh } }, 'keys.auth'],
    ['auth 15 bytes', { ...good, keys: { ...good.keys, auth: randomBytes(15).toString('base64url') } }, 'keys.auth'],
    ['expirationTime past', { ...good, expirationTime: Date.now() - 1000 }, 'expirationTime'],
    ['expirationTime not a number', { ...good, expirationTime: 'tomorrow' }, 'expirationTime'],
  ])('400 naming the field: %s', async (_what, body, field) => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: 'https://' });
    const r = await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('HERALD_ERR_INVALID');
    expect(r.body.field).toBe(field);
    expect(r.body.message).toContain(field.replace('keys.', ''));
    expect(await h.push.store.get('alice', 'phone')).toBeNull();
  });

  it('400 naming the device for a bad device id in the path', async () => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: 'https://' });
    const r = await deviceCall(h, 'POST', '/me/devices/bad%20id/push', 'alice', good);
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('device');
  });

  it('an endpoint outside PUSH_ALLOWED_ENDPOINTS is refused (400 endpoint); the allowed ones are stored', async () => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: 'https://fcm.googleapis.com/, https://updates.push.services.mozilla.com' });
    for (const endpoint of [
      'https://evil.example.com/fcm/send/x',
      'http://fcm.googleapis.com/fcm/send/x',
      'https://fcm.googleapis.com.evil.net/x',
      'https://updates.push.services.mozilla.com.evil.net/x',
      'https://updates.push.services.mozilla.com@10.0.0.1/x',
      'http://127.0.0.1:6379/',
    ]) {
      const r = await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', browserSubscription(endpoint));
      expect(r.status, endpoint).toBe(400);
      expect(r.body.field, endpoint).toBe('endpoint');
    }
    expect(await h.push.store.get('alice', 'phone')).toBeNull();
    expect((await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', browserSubscription('https://fcm.googleapis.com/fcm/send/x'))).status).toBe(204);
    expect(
      (await deviceCall(h, 'POST', '/me/devices/tab/push', 'alice', browserSubscription('https://updates.push.services.mozilla.com/wpush/v2/y'))).status,
    ).toBe(204);
  });

  it('with the default prefix (https://), http and internal addresses are refused', async () => {
    await using h = await startPushHerald({ PUSH_ALLOWED_ENDPOINTS: undefined });
    expect(h.config.PUSH_ALLOWED_ENDPOINTS).toEqual(['https://']);
    for (const endpoint of [
      'http://push.example/x',
      'https://127.0.0.1/x',
      'https://localhost:8443/x',
      'https://10.1.2.3/x',
      'https://192.168.0.10/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/x',
      'https://[::ffff:10.0.0.1]/x',
    ]) {
      const r = await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', browserSubscription(endpoint));
      expect(r.status, endpoint).toBe(400);
      expect(r.body.field, endpoint).toBe('endpoint');
    }
    expect((await deviceCall(h, 'POST', '/me/devices/phone/push', 'alice', browserSubscription('https://web.push.apple.com/abc'))).status).toBe(204);
  });

  it('browsers may call them cross-origin: the preflight and the key carry CORS headers', async () => {
    await using h = await startPushHerald();
    const pre = await fetch(`${h.url}/me/devices/phone/push`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('authorization');
    const key = await fetch(`${h.url}/push/vapid-public-key`, { headers: { origin: 'https://app.example' } });
    expect(key.status).toBe(200);
    expect(key.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('POST /me/devices/<d>/ack: 400 naming cursor when missing or not ours', async () => {
    await using h = await startPushHerald();
    for (const body of [{}, { cursor: 'garbage' }, { cursor: 12 }]) {
      const r = await deviceCall(h, 'POST', '/me/devices/phone/ack', 'alice', body);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe('cursor');
    }
  });
});
