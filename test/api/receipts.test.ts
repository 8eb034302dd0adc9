import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/api/webhooks.js';
import { api, publishTo, until } from '../support/herald.js';
import { inboxNodes, sleep, uniq } from '../support/inbox.js';
import { connectSse } from '../support/sse.js';
import { connectVia, type WsDevice } from '../support/transports.js';

/**
 * Receipt webhooks (PROTOCOL.md "Inbox" → "Receipts", `WEBHOOK_RECEIPTS`): one
 * `notification.delivered` per device and notification when the device acknowledges it, however
 * often it acks or resumes; `notification.read` when items are marked read; none unless asked.
 */
const nodes = inboxNodes();
const SECRET = 'receipts-secret';

async function receiver() {
  const received: Record<string, any>[] = [];
  let badSignatures = 0;
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    if (req.headers['herald-signature'] !== webhookSignature(SECRET, raw)) badSignatures++;
    received.push(JSON.parse(raw));
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    badSignatures: () => badSignatures,
    of: (type: string) => received.filter((e) => e.type === type),
    async [Symbol.asyncDispose]() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe.each(nodes.list)('receipts (%s store)', (store) => {
  it('delivered once per device and notification (acks twice, resumes); read for device and backend changes', async () => {
    await using rx = await receiver();
    await using h = await nodes.start(store, { WEBHOOK_URL: rx.url, WEBHOOK_SECRET: SECRET, WEBHOOK_RECEIPTS: 'delivered, read' });
    const alice = uniq('alice');
    const phone = (await connectVia('ws', h, alice, 'phone')) as WsDevice;
    await using laptop = await connectSse(h, alice, 'laptop');
    const n1 = (await publishTo(h, alice, { title: 'both', message: 'm' })).body.id;
    const n2 = (await publishTo(h, alice, { title: 'phone only', message: 'm' }, 'phone')).body.id;
    const n3 = (await publishTo(h, alice, { title: 'not the laptop', message: 'm', excludeDevices: ['laptop'] })).body.id;
    const bc = (await api(h, 'POST', '/api/v1/broadcast', { title: 'everyone', message: 'm' })).body.id;
    const phoneLast = await phone.waitFor((f) => f.id === bc);
    const laptopLast = await laptop.waitFor((f) => f.id === bc);

    // Three acks in three batches (the hub writes acks every 250 ms): the first, the last, the last again.
    await phone.ack(phone.notifications[0].cursor as string);
    await sleep(300);
    await phone.ack(phoneLast.cursor as string);
    await sleep(300);
    await phone.ack(phoneLast.cursor as string);
    expect(await laptop.ack(laptopLast.cursor as string)).toBe(204);
    const delivered = () => rx.of('notification.delivered').map((e) => `${e.deviceId}:${e.notificationId}`);
    await until(() => delivered().length >= 6, 5000, 'six delivered receipts');

    // Resume from the first cursor: the device gets n2..bc again and acks them again.
    phone.close();
    await phone.closed;
    await using again = (await connectVia('ws', h, alice, 'phone', { cursor: phone.notifications[0].cursor as string })) as WsDevice;
    const replayedLast = await again.waitFor((f) => f.id === bc);
    await again.ack(replayedLast.cursor as string);
    await laptop.ack(laptopLast.cursor as string);
    await sleep(600);
    expect(delivered().sort()).toEqual([`phone:${n1}`, `phone:${n2}`, `phone:${n3}`, `phone:${bc}`, `laptop:${n1}`, `laptop:${bc}`].sort());
    const one = rx.of('notification.delivered').find((e) => e.deviceId === 'laptop');
    expect(one).toEqual({
      id: expect.any(String),
      type: 'notification.delivered',
      notificationId: expect.any(String),
      clientId: alice,
      deviceId: 'laptop',
      transport: 'sse',
      ts: expect.any(Number),
      epoch: expect.any(Number),
    });
    expect(rx.of('notification.delivered').find((e) => e.deviceId === 'phone')?.transport).toBe('ws');

    // Read receipts: a device's change names it, a backend change has deviceId null.
    again.send({ type: 'state', ids: [n1, n1], read: true });
    await until(() => rx.of('notification.read').length === 1, 5000, 'the read receipt');
    expect((await api(h, 'POST', `/api/v1/clients/${alice}/notifications/state`, { all: true, read: true })).status).toBe(200);
    // A change that is not `read: true` sends none.
    expect((await api(h, 'POST', `/api/v1/clients/${alice}/notifications/state`, { all: true, archived: true })).status).toBe(200);
    await until(() => rx.of('notification.read').length === 2, 5000, 'the backend read receipt');
    const [byDevice, byBackend] = rx.of('notification.read');
    expect(byDevice).toMatchObject({ type: 'notification.read', notificationIds: [n1], clientId: alice, deviceId: 'phone' });
    expect(byBackend).toMatchObject({ type: 'notification.read', all: true, clientId: alice, deviceId: null });
    expect(byBackend.notificationIds).toBeUndefined();
    // Ordered like the other webhooks: epochs only grow, and every body is signed.
    const epochs = rx.received.map((e) => e.epoch);
    expect([...epochs].sort((x, y) => x - y)).toEqual(epochs);
    expect(rx.badSignatures()).toBe(0);
  });
});

describe('receipts off', () => {
  it('without WEBHOOK_RECEIPTS no receipt is sent (presence webhooks still are)', async () => {
    await using rx = await receiver();
    await using h = await nodes.start('memory', { WEBHOOK_URL: rx.url, WEBHOOK_SECRET: SECRET });
    const alice = uniq('alice');
    await using phone = (await connectVia('ws', h, alice, 'phone')) as WsDevice;
    const n = await publishTo(h, alice, { title: 'x', message: 'm' });
    const f = await phone.waitFor((x) => x.id === n.body.id);
    await phone.ack(f.cursor as string);
    phone.send({ type: 'state', all: true, read: true });
    await phone.waitFor((x) => x.type === 'state');
    await until(() => rx.of('device.connected').length === 1, 5000, 'the presence webhook');
    await sleep(500);
    expect(rx.received.filter((e) => String(e.type).startsWith('notification.'))).toEqual([]);
    // The ack was stored all the same.
    expect(await h.node.store.getDeviceCursor(alice, 'phone')).not.toBeNull();
  });
});
