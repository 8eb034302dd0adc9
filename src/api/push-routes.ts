import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearer } from '../auth/auth.js';
import type { WebPush } from '../push/web-push.js';
import { myDeviceParams } from './schemas.js';

type DeviceRequest = FastifyRequest<{ Params: { device: string }; Querystring: { token?: string } }>;

/**
 * Web Push endpoints (PROTOCOL.md "Web Push"): the VAPID public key for `pushManager.subscribe`,
 * a device's subscription, and the service worker's ack. Device routes take the device JWT as
 * `Authorization: Bearer` or `?token=`; the token is checked before the body is looked at, so a
 * request without a valid one is 401 whatever it carries.
 */
export function registerPushRoutes(app: FastifyInstance, push: WebPush): void {
  const { auth } = app.herald;
  const identify = async (req: DeviceRequest) => (await auth.verifyDevice(bearer(req.headers.authorization) ?? req.query.token)).clientId;

  app.get(
    '/push/vapid-public-key',
    { schema: { tags: ['push'], summary: 'The VAPID public key (applicationServerKey for pushManager.subscribe)' } },
    async () => ({ publicKey: push.publicKey }),
  );

  app.post<{ Params: { device: string }; Querystring: { token?: string } }>(
    '/me/devices/:device/push',
    { schema: { tags: ['push'], summary: "Store the device's PushSubscription (replaces an earlier one)", params: myDeviceParams } },
    async (req, reply) => {
      const clientId = await identify(req);
      await push.subscribe(clientId, req.params.device, req.body);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { device: string }; Querystring: { token?: string } }>(
    '/me/devices/:device/push',
    { schema: { tags: ['push'], summary: "Remove the device's push subscription", params: myDeviceParams } },
    async (req, reply) => {
      const clientId = await identify(req);
      await push.unsubscribe(clientId, req.params.device);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { device: string }; Querystring: { token?: string }; Body: { cursor?: unknown } | undefined }>(
    '/me/devices/:device/ack',
    {
      schema: {
        tags: ['push'],
        summary: "Acknowledge up to a cursor (a service worker after showing a push): advances the device's stored cursor",
        params: myDeviceParams,
      },
    },
    async (req, reply) => {
      const clientId = await identify(req);
      const body = req.body;
      await push.ack(clientId, req.params.device, typeof body === 'object' && body !== null ? body.cursor : undefined);
      return reply.code(204).send();
    },
  );
}
