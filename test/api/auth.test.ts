import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { API_KEY, connectDevice, publishTo, refusedHandshake, startTestHerald, wsUrl } from '../support/herald.js';

describe('device tokens signed with a key pair', () => {
  it.each(['ES256', 'RS256'] as const)('%s: accepts tokens signed by the private key, refuses others', async (alg) => {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const other = await generateKeyPair(alg);
    const pem = await exportSPKI(publicKey);
    await using h = await startTestHerald({ JWT_SECRET: undefined, JWT_PUBLIC_KEY: pem, API_KEY });
    const sign = (key: CryptoKey, sub: string) => new SignJWT({}).setProtectedHeader({ alg }).setSubject(sub).setExpirationTime('1h').sign(key);
    await using d = await connectDevice(h, 'alice', 'phone', { token: await sign(privateKey, 'alice') });
    const r = await publishTo(h, 'alice', { title: 't', message: 'm' });
    await d.waitFor((f) => f.id === r.body.id);
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: await sign(other.privateKey, 'alice') }))).status).toBe(401);
    // An HS256 token made with the public key as a secret (algorithm confusion) is refused.
    const confused = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode(pem));
    expect((await refusedHandshake(wsUrl(h, { device: 'p', token: confused }))).status).toBe(401);
  });
});
