import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createPublisher, HeraldError } from '../../src/publisher/index.js';
import { MemoryStore } from '../../src/store/memory-store.js';
import { API_KEY, connectDevice, startTestHerald } from '../support/herald.js';

const UUIDV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** fetch that counts the requests it makes: "before any request" and "not retried" are counted, not assumed. */
function countingFetch() {
  const calls: { method: string; url: string }[] = [];
  const f: typeof fetch = (input, init) => {
    calls.push({ method: init?.method ?? 'GET', url: String(input) });
    return fetch(input, init);
  };
  return { calls, fetch: f };
}

describe('herald/publisher against a real node', () => {
  it('publish, publishToDevice and broadcast reach the devices; each publish gets a UUIDv7 idempotency key', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using laptop = await connectDevice(h, 'alice', 'laptop');
    await using bob = await connectDevice(h, 'bob', 'tablet');
    const herald = createPublisher({ url: h.url, apiKey: API_KEY });

    const a = await herald.publish('alice', { title: 'to alice', message: 'all devices', data: { order: 42 } });
    expect(a).toMatchObject({ delivered: 2, stored: true });
    expect(a.id).toMatch(UUIDV7);
    expect(typeof a.cursor).toBe('string');
    const d = await herald.publishToDevice('alice', 'phone', { title: 'to the phone', message: 'one device', service: 'orders' });
    expect(d.delivered).toBe(1);
    const b = await herald.broadcast({ title: 'to everyone', message: 'news' });
    expect(b.delivered).toBe(3);
    expect(b.id).toMatch(UUIDV7);
    expect(new Set([a.id, d.id, b.id]).size).toBe(3);
    // A caller's own id is the key, used as given.
    const own = await herald.publish('bob', { title: 'own key', message: 'm', id: 'order-42:shipped' });
    expect(own.id).toBe('order-42:shipped');

    const onPhone = await phone.waitForNotifications(3);
    expect(onPhone.map((n) => [n.title, n.id])).toEqual([
      ['to alice', a.id],
      ['to the phone', d.id],
      ['to everyone', b.id],
    ]);
    expect(onPhone[0].data).toEqual({ order: 42 });
    expect(onPhone[1]).toMatchObject({ deviceId: 'phone', service: 'orders' });
    expect((await laptop.waitForNotifications(2)).map((n) => n.title)).toEqual(['to alice', 'to everyone']);
    expect((await bob.waitForNotifications(2)).map((n) => n.title)).toEqual(['to everyone', 'own key']);
    await sleep(50);
    expect(laptop.notifications).toHaveLength(2);
  });

  it('batch: per-item results in order, a bad item fails alone with its field, keys generated per item', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    const herald = createPublisher({ url: h.url, apiKey: API_KEY });
    const r = await herald.batch([
      { clientId: 'alice', title: 'one', message: 'm' },
      { clientId: 'alice', title: 'x'.repeat(1025), message: 'too long a title' },
      { clientId: 'alice', deviceId: 'phone', title: 'two', message: 'm', id: 'batch-key-2' },
      { clientId: 'bad id', title: 't', message: 'm' },
    ]);
    expect(r).toMatchObject({ accepted: 2, failed: 2 });
    expect(r.results.map((x) => [x.index, x.ok, x.status])).toEqual([
      [0, true, 202],
      [1, false, 400],
      [2, true, 202],
      [3, false, 400],
    ]);
    const [first, bad, second, badId] = r.results;
    if (!first.ok || !second.ok || bad.ok || badId.ok) throw new Error('unexpected shapes');
    expect(first.id).toMatch(UUIDV7);
    expect(second.id).toBe('batch-key-2');
    expect(first.delivered).toBe(1);
    expect(bad.error).toBeInstanceOf(HeraldError);
    expect(bad.error).toMatchObject({ code: 'HERALD_ERR_INVALID', status: 400, field: 'items[1].title' });
    expect(bad.id).toMatch(UUIDV7); // the key it was sent with, for a later try
    expect(badId.error).toMatchObject({ code: 'HERALD_ERR_INVALID', field: 'items[3].clientId' });
    expect((await phone.waitForNotifications(2)).map((n) => n.title)).toEqual(['one', 'two']);
  });

  it('batch: items the node could not store (503) are sent again alone, with the same keys; the others once', async () => {
    /** A store that refuses the first append of some titles: a real per-item 503 from the node. */
    class FlakyStore extends MemoryStore {
      failOnce = new Set(['b', 'd']);
      override async append(...args: Parameters<MemoryStore['append']>) {
        if (this.failOnce.delete(args[1].title)) throw new Error('store hiccup');
        return super.append(...args);
      }
    }
    await using h = await startTestHerald({}, { store: new FlakyStore({ retentionMessages: 1000, retentionMs: 3_600_000 }) });
    await using phone = await connectDevice(h, 'alice', 'phone');
    const bodies: any[] = [];
    const retries: number[] = [];
    const herald = createPublisher({
      url: h.url,
      apiKey: API_KEY,
      backoff: { baseMs: 10 },
      onRetry: (info) => retries.push(info.retry),
      fetch: (input, init) => {
        bodies.push(JSON.parse(String(init?.body)));
        return fetch(input, init);
      },
    });
    const r = await herald.batch(['a', 'b', 'c', 'd'].map((title) => ({ clientId: 'alice', title, message: 'm' })));
    expect(r).toMatchObject({ accepted: 4, failed: 0 });
    expect(r.results.map((x) => x.index)).toEqual([0, 1, 2, 3]);
    expect(bodies).toHaveLength(2);
    expect(bodies[1].items.map((i: { title: string }) => i.title)).toEqual(['b', 'd']);
    expect(bodies[1].items.map((i: { id: string }) => i.id)).toEqual([bodies[0].items[1].id, bodies[0].items[3].id]);
    expect(retries).toEqual([1]);
    await phone.waitForNotifications(4);
    await sleep(50);
    expect(phone.notifications.map((n) => n.title).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a 400 is not retried: code, status, field and body surface as a HeraldError', async () => {
    await using h = await startTestHerald();
    const { calls, fetch } = countingFetch();
    const herald = createPublisher({ url: h.url, apiKey: API_KEY, fetch, retries: 5, backoff: { baseMs: 1 } });
    const err = await herald.publish('alice', { title: 'bad priority', message: 'm', priority: 'urgent' as 'high' }).catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'HeraldError', code: 'HERALD_ERR_INVALID', status: 400, field: 'priority', attempts: 1 });
    expect(err.body).toMatchObject({ statusCode: 400, code: 'HERALD_ERR_INVALID', field: 'priority' });
    expect(err.message).toContain('priority');
    expect(err.retryable).toBe(false);
    expect(err.idempotencyKey).toMatch(UUIDV7);
    expect(calls).toHaveLength(1);
    // A field deep in data: a lone surrogate, named by its path.
    const deep = await herald.publish('alice', { title: 't', message: 'm', data: { list: ['ok', '\ud83d'] } }).catch((e) => e);
    expect(deep).toMatchObject({ code: 'HERALD_ERR_INVALID', status: 400, field: 'data.list[1]' });
    expect(calls).toHaveLength(2);
  });

  it('a wrong API key is a 401 HERALD_ERR_UNAUTHORIZED, not retried', async () => {
    await using h = await startTestHerald();
    const { calls, fetch } = countingFetch();
    const herald = createPublisher({ url: h.url, apiKey: 'not-the-key', fetch });
    const err = await herald.publish('alice', { title: 't', message: 'm' }).catch((e) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect(err).toMatchObject({ code: 'HERALD_ERR_UNAUTHORIZED', status: 401, attempts: 1 });
    await expect(herald.stats()).rejects.toMatchObject({ code: 'HERALD_ERR_UNAUTHORIZED', status: 401 });
    expect(calls).toHaveLength(2);
  });

  it('clients.get shows the devices; devices.remove closes one with 4003; an unknown device is a 404', async () => {
    await using h = await startTestHerald();
    await using phone = await connectDevice(h, 'alice', 'phone');
    await using laptop = await connectDevice(h, 'alice', 'laptop');
    const herald = createPublisher({ url: h.url, apiKey: API_KEY });

    const before = await herald.clients.get('alice');
    expect(before).toMatchObject({ clientId: 'alice', online: true });
    expect(before.devices.map((d) => d.deviceId).sort()).toEqual(['laptop', 'phone']);
    expect(before.devices.find((d) => d.deviceId === 'phone')).toMatchObject({ connectionId: 'alice:phone', transport: 'ws', state: 'attached' });
    expect(await herald.clients.get('nobody')).toMatchObject({ clientId: 'nobody', online: false, devices: [] });

    await expect(herald.devices.remove('alice', 'phone')).resolves.toBeUndefined();
    expect((await phone.closed).code).toBe(4003);
    const after = await herald.clients.get('alice');
    expect(after.devices.map((d) => d.deviceId)).toEqual(['laptop']);
    expect(laptop.ws.readyState).toBe(laptop.ws.OPEN);

    const missing = await herald.devices.remove('alice', 'phone').catch((e) => e);
    expect(missing).toBeInstanceOf(HeraldError);
    expect(missing).toMatchObject({ code: 'HERALD_ERR_NOT_FOUND', status: 404, attempts: 1 });
  });

  it('stats() returns the node totals', async () => {
    await using h = await startTestHerald();
    await using _phone = await connectDevice(h, 'alice', 'phone');
    const herald = createPublisher({ url: `${h.url}/`, apiKey: API_KEY });
    await herald.publish('alice', { title: 't', message: 'm' });
    const s = await herald.stats();
    expect(s).toMatchObject({ node: h.config.NODE_ID, total: 1, clients: 1, byTransport: { ws: 1 } });
    expect(s.notifications.published).toBe(1);
  });

  it('bad arguments are refused before any request, as HERALD_ERR_INVALID naming the field', async () => {
    const { calls, fetch } = countingFetch();
    // Nothing listens here: a request would fail differently.
    const herald = createPublisher({ url: 'http://127.0.0.1:9', apiKey: API_KEY, fetch });
    const refused = async (p: Promise<unknown>) => {
      const e = await p.then(
        () => null,
        (err) => err,
      );
      expect(e).toBeInstanceOf(HeraldError);
      expect(e).toMatchObject({ code: 'HERALD_ERR_INVALID', status: null, attempts: 0 });
      return (e as HeraldError).field;
    };
    expect(await refused(herald.publish('', { title: 't', message: 'm' }))).toBe('clientId');
    expect(await refused(herald.publish('alice/../broadcast', { title: 't', message: 'm' }))).toBe('clientId');
    expect(await refused(herald.publishToDevice('alice', 'a b', { title: 't', message: 'm' }))).toBe('deviceId');
    expect(await refused(herald.publish('alice', { message: 'm' } as never))).toBe('title');
    expect(await refused(herald.broadcast({ title: 't', message: 3 } as never))).toBe('message');
    expect(await refused(herald.broadcast(null as never))).toBe('body');
    expect(await refused(herald.batch([]))).toBe('items');
    expect(await refused(herald.batch(Array.from({ length: 1001 }, () => ({ clientId: 'a', title: 't', message: 'm' }))))).toBe('items');
    expect(await refused(herald.batch([{ clientId: 'a', title: 't', message: 'm' }, 'x' as never]))).toBe('items[1]');
    expect(await refused(herald.clients.get(''))).toBe('clientId');
    expect(await refused(herald.devices.remove('alice', ''))).toBe('deviceId');
    expect(await refused(herald.notifications.list('alice', { limit: 0 }))).toBe('limit');
    expect(await refused(herald.notifications.list('alice', { filter: 'old' as never }))).toBe('filter');
    expect(await refused(herald.notifications.setState('alice', { ids: ['a'], all: true } as never))).toBe('all');
    expect(await refused(herald.notifications.setState('alice', {} as never))).toBe('ids');
    expect(await refused(herald.notifications.setState('alice', { all: true }))).toBe('seen');
    expect(await refused(herald.notifications.setState('alice', { all: true, read: 'yes' as never }))).toBe('read');
    expect(await refused(herald.notifications.update('alice', '', { title: 't' }))).toBe('id');
    expect(await refused(herald.notifications.update('alice', 'n1', {}))).toBe('body');
    expect(await refused(herald.broadcasts.delete('a/b'))).toBe('id');
    expect(calls).toEqual([]);
  });

  it('options are checked once, at createPublisher', () => {
    expect(() => createPublisher({ url: 'not a url', apiKey: 'k' })).toThrow(TypeError);
    expect(() => createPublisher({ url: 'ftp://x', apiKey: 'k' })).toThrow(/url/);
    expect(() => createPublisher({ url: 'http://x', apiKey: '' })).toThrow(/apiKey/);
    expect(() => createPublisher({ url: 'http://x', apiKey: 'k', retries: -1 })).toThrow(/retries/);
    expect(() => createPublisher({ url: 'http://x', apiKey: 'k', timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createPublisher({ url: 'http://x', apiKey: 'k\r\nx-injected: 1' })).toThrow(/apiKey/);
  });
});

describe('the package', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const built = existsSync(new URL('../../dist/publisher/index.js', import.meta.url));

  it('exports herald/publisher from the build, with its types', () => {
    expect(pkg.exports['./publisher']).toEqual({ types: './dist/publisher/index.d.ts', import: './dist/publisher/index.js' });
  });

  it.skipIf(!built)('import("herald/publisher") loads the built SDK (npm test builds first)', async () => {
    const spec = 'herald/publisher';
    const mod = await import(/* @vite-ignore */ spec);
    expect(typeof mod.createPublisher).toBe('function');
    expect(new mod.HeraldError('HERALD_ERR_NETWORK', 'x', { status: null })).toBeInstanceOf(Error);
  });
});
