import type { FastifyInstance } from 'fastify';
import { bearer } from '../auth/auth.js';
import { myDeviceParams } from './schemas.js';

/** Device HTTP endpoints: leaving (logout) with the device's own token. */
export function registerDeviceRoutes(app: FastifyInstance): void {
  const { node, auth } = app.herald;
  app.delete<{ Params: { device: string }; Querystring: { token?: string } }>(
    '/me/devices/:device',
    { schema: { tags: ['device'], summary: 'A device leaves: unregisters and closes its stream (4003)', params: myDeviceParams } },
    async (req, reply) => {
      const id = await auth.verifyDevice(bearer(req.headers.authorization) ?? req.query.token);
      await node.removeAnywhere(id.clientId, req.params.device);
      return reply.code(204).send();
    },
  );
}
