import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { base64UrlToBytes, connect, type PushedNotification, pushHandler } from '../../src/client/index.js';
import { PushServiceStandIn } from '../push/push-service.js';
import { startPushHerald } from '../push/support.js';
import { publishTo, token, until } from '../support/herald.js';
import { record } from './helpers.js';

describe('SDK Web Push: registerPush and the service-worker handler', () => {
  it('registers the subscription, shows and acks what is pushed, and the stream does not send it again', async () => {
    const service = await PushServiceStandIn.start();
    try {
      await using h = await startPushHerald();
      const browserSub = await service.subscription();
      // The browser's PushManager (no push service is reachable from a headless test browser):
      // it checks what the SDK asks for and answers with a subscription made as a browser makes one.
      let askedKey: Uint8Array | null = null;
      const registration = {
        pushManager: {
          getSubscription: async () => null,
          subscribe: async (o: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) => {
            expect(o.userVisibleOnly).toBe(true);
            askedKey = o.applicationServerKey;
            return { toJSON: () => browserSub.json };
          },
        },
      };
      const jwt = await token('alice');
      using first = record(connect({ url: h.url, device: 'phone', token: jwt, WebSocket, ackDelayMs: 10 }));
      await first.conn.whenOpen();
      await first.conn.registerPush(registration);
      const vapid = (await (await fetch(`${h.url}/push/vapid-public-key`)).json()) as { publicKey: string };
      expect(Buffer.from(askedKey as unknown as Uint8Array)).toEqual(Buffer.from(base64UrlToBytes(vapid.publicKey)));
      expect((await (await fetch(`${h.url}/api/v1/clients/alice`, { headers: { authorization: 'Bearer test-api-key' } })).json()).devices[0].push).toBe(true);

      // The page goes away (frozen, closed): its stream ends and the next notification is pushed.
      first.conn.close();
      await until(() => h.node.hub.connectionCount === 0, 3000, 'detached');
      const r = await publishTo(h, 'alice', { title: 'While away', message: 'pushed' });
      expect(r.body.delivered).toBe(0);
      await until(() => service.for(browserSub).length === 1, 5000, 'the push');
      const payload = service.for(browserSub)[0].payload as PushedNotification;
      expect(payload).toMatchObject({ id: r.body.id, title: 'While away', message: 'pushed' });

      // The service worker shows it and acks it.
      const shown: { title: string; options?: { body?: string; tag?: string } }[] = [];
      const waits: Promise<unknown>[] = [];
      const handler = pushHandler(
        { showNotification: async (title, options) => void shown.push({ title, options }) },
        { url: h.url, device: 'phone', token: jwt },
      );
      handler({ data: { json: () => payload }, waitUntil: (p) => waits.push(p) });
      await Promise.all(waits);
      expect(shown).toEqual([{ title: 'While away', options: { body: 'pushed', tag: r.body.id, data: payload } }]);

      // Back on the stream (no cursor of its own: the stored one, advanced by the ack).
      using again = record(connect({ url: h.url, device: 'phone', token: jwt, WebSocket }));
      await again.conn.whenOpen();
      const later = await publishTo(h, 'alice', { title: 'Back', message: 'live' });
      await until(() => again.notifications.some((n) => n.id === later.body.id), 5000, 'the live one');
      expect(again.notifications.map((n) => n.id)).toEqual([later.body.id]);
      expect(service.for(browserSub)).toHaveLength(1);
    } finally {
      await service.close();
    }
  });
});
