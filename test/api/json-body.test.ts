import { describe, expect, it } from 'vitest';
import { API_KEY, connectDevice, startTestHerald } from '../support/herald.js';

/** POSTs raw bytes as `application/json`, as a publisher with a broken encoder would. */
async function postBytes(url: string, body: Buffer) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: new Uint8Array(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const json = (prefix: string, bytes: number[], suffix: string) => Buffer.concat([Buffer.from(prefix), Buffer.from(bytes), Buffer.from(suffix)]);

describe('JSON bodies that are not UTF-8', () => {
  it.each([
    ['a byte that is never UTF-8', [0xff]],
    ['a surrogate encoded as if it were a character (CESU-8)', [0xed, 0xa0, 0xbd]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a sequence cut short', [0xe2, 0x82]],
    ['a continuation byte on its own', [0x80]],
  ])('are a 400 naming body on every publish route, not U+FFFD: %s', async (_what, bytes) => {
    await using h = await startTestHerald();
    const routes = [
      [`${h.url}/api/v1/clients/alice/notifications`, json('{"title":"t', bytes, '","message":"m"}')],
      [`${h.url}/api/v1/clients/alice/devices/phone/notifications`, json('{"title":"t","message":"m","data":{"k":"', bytes, '"}}')],
      [`${h.url}/api/v1/broadcast`, json('{"title":"t","message":"', bytes, '"}')],
      [`${h.url}/api/v1/batch`, json('{"items":[{"clientId":"alice","title":"t","message":"', bytes, '"}]}')],
    ] as const;
    for (const [url, body] of routes) {
      const r = await postBytes(url, body);
      expect(r.status, url).toBe(400);
      expect(r.body, url).toMatchObject({ code: 'HERALD_ERR_INVALID', field: 'body' });
    }
    expect(h.node.hub.stats.published).toBe(0);
  });

  it('well-formed UTF-8 passes through byte for byte', async () => {
    await using h = await startTestHerald();
    await using d = await connectDevice(h, 'alice', 'phone');
    const title = 'Grüße 🎉 — ok';
    const r = await postBytes(`${h.url}/api/v1/clients/alice/notifications`, Buffer.from(JSON.stringify({ title, message: 'm' })));
    expect(r.status).toBe(202);
    expect((await d.waitFor((f) => f.type === 'notification')).title).toBe(title);
  });

  it('keeps the body limit (413 before any decoding), the empty-body and malformed-JSON answers and the prototype-poisoning check', async () => {
    await using h = await startTestHerald({ MAX_BODY_BYTES: 1024 });
    const url = `${h.url}/api/v1/clients/alice/notifications`;
    const big = await postBytes(url, json('{"title":"t","message":"', new Array(2000).fill(0xff), '"}'));
    expect(big).toMatchObject({ status: 413, body: { code: 'HERALD_ERR_TOO_LARGE' } });
    expect(await postBytes(url, Buffer.alloc(0))).toMatchObject({ status: 400, body: { code: 'HERALD_ERR_INVALID', field: 'body' } });
    expect(await postBytes(url, Buffer.from('{"title":'))).toMatchObject({ status: 400, body: { code: 'HERALD_ERR_INVALID', field: 'body' } });
    const poisoned = await postBytes(url, Buffer.from('{"title":"t","message":"m","data":{"__proto__":{"x":1}}}'));
    expect(poisoned).toMatchObject({ status: 400, body: { code: 'HERALD_ERR_INVALID', field: 'body' } });
    expect(h.node.hub.stats.published).toBe(0);
  });
});
