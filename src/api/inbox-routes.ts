import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearer } from '../auth/auth.js';
import { HeraldError } from '../core/errors.js';
import { checkId } from '../core/ids.js';
import { checkNotificationId, parseDevice, parseItemPatch, parseListQuery, parseOptionalDevice, parseStateInput } from '../core/inbox-input.js';
import type { HeraldNode } from '../core/node.js';
import { requireApiKey } from './http.js';
import {
  broadcastItemParams,
  clientParams,
  errorBody,
  inboxPage,
  itemParams,
  listQuery,
  myListQuery,
  myStateBody,
  patchBody,
  stateBody,
  stateResult,
  updateResult,
} from './schemas.js';

const security = [{ apiKey: [] }];
const errors = { 400: errorBody, 401: errorBody, 503: errorBody };
const itemErrors = { ...errors, 404: errorBody };

/**
 * Inputs are validated by core/inbox-input.ts, the same rules the WebSocket `state` frame and gRPC
 * follow (each fault a 400 naming its field); the route schemas document them in OpenAPI and are
 * not enforced on their own (`attachValidation`), so one validator decides and names the field.
 */
const documented = { attachValidation: true } as const;

type Query = Record<string, unknown>;
type DeviceRequest = FastifyRequest<{ Querystring: Query; Body: unknown }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The client a device token names (the `/me/` inbox routes), set before anything else is read. */
    heraldClientId?: string;
  }
}

/**
 * The inbox over HTTP (PROTOCOL.md "Inbox"). Device side under `/me/` with the device JWT (as
 * `Authorization: Bearer` or `?token=`; its `sub` is the client: a device never reaches another
 * client's inbox), checked before the request is looked at, so no token is a 401 whatever it
 * carries. Publisher side under `/api/v1/` with the API key.
 */
export function registerInboxRoutes(app: FastifyInstance): void {
  const { node, auth } = app.herald;
  const device = {
    async onRequest(req: FastifyRequest) {
      const token = bearer(req.headers.authorization) ?? (req.query as Query).token;
      req.heraldClientId = (await auth.verifyDevice(typeof token === 'string' ? token : undefined)).clientId;
    },
  };
  const clientOf = (req: FastifyRequest) => req.heraldClientId as string;

  app.get<{ Querystring: Query }>(
    '/me/notifications',
    {
      ...device,
      ...documented,
      schema: {
        tags: ['device'],
        summary: "The device's inbox, newest first, with its counts",
        querystring: myListQuery,
        response: { 200: inboxPage, ...errors },
      },
    },
    async (req: DeviceRequest) => {
      const deviceId = parseDevice(req.query.device);
      return node.inbox.list({ clientId: clientOf(req), deviceId, ...parseListQuery(req.query) });
    },
  );

  app.post<{ Querystring: Query; Body: unknown }>(
    '/me/notifications/state',
    {
      ...device,
      ...documented,
      schema: {
        tags: ['device'],
        summary: 'Change item states (seen, read, archived) for every device of the client; each gets a state frame',
        body: myStateBody,
        response: { 200: stateResult, ...errors },
      },
    },
    async (req: DeviceRequest) => {
      const input = parseStateInput(req.body);
      const deviceId = parseDevice((req.body as Query).device);
      return node.inbox.setState(clientOf(req), { ...input, scope: deviceId, by: deviceId });
    },
  );

  const api = { onRequest: requireApiKey, ...documented };

  app.get<{ Params: { client: string }; Querystring: Query }>(
    '/api/v1/clients/:client/notifications',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: "The client's inbox, newest first (as one device sees it with `device`)",
        security,
        params: clientParams,
        querystring: listQuery,
        response: { 200: inboxPage, ...errors },
      },
    },
    async (req) => {
      const clientId = checkId('client', req.params.client);
      return node.inbox.list({ clientId, deviceId: parseOptionalDevice(req.query.device), ...parseListQuery(req.query) });
    },
  );

  app.post<{ Params: { client: string }; Body: unknown }>(
    '/api/v1/clients/:client/notifications/state',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: 'Change item states as the backend (`by: null` in the state frames)',
        security,
        params: clientParams,
        body: stateBody,
        response: { 200: stateResult, ...errors },
      },
    },
    async (req) => {
      const clientId = checkId('client', req.params.client);
      const input = parseStateInput(req.body);
      const scope = parseOptionalDevice((req.body as Query).device);
      return node.inbox.setState(clientId, { ...input, scope, by: null });
    },
  );

  app.patch<{ Params: { client: string; id: string }; Body: unknown }>(
    '/api/v1/clients/:client/notifications/:id',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: "Change an item's title, message or data: version +1, an update frame to the client's devices",
        security,
        params: itemParams,
        body: patchBody,
        response: { 200: updateResult, ...itemErrors },
      },
    },
    async (req) => updated(node, checkId('client', req.params.client), req.params.id, req.body),
  );

  app.delete<{ Params: { client: string; id: string } }>(
    '/api/v1/clients/:client/notifications/:id',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: "Delete an item: it leaves listings and counts, a delete frame to the client's devices",
        security,
        params: itemParams,
        response: { 204: { type: 'null' }, ...itemErrors },
      },
    },
    async (req, reply) => {
      await deleted(node, checkId('client', req.params.client), req.params.id);
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: { id: string }; Body: unknown }>(
    '/api/v1/broadcast/:id',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: "Change a broadcast's title, message or data in every inbox: an update frame to every device",
        security,
        params: broadcastItemParams,
        body: patchBody,
        response: { 200: updateResult, ...itemErrors },
      },
    },
    async (req) => updated(node, null, req.params.id, req.body),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/broadcast/:id',
    {
      ...api,
      schema: {
        tags: ['inbox'],
        summary: 'Delete a broadcast from every inbox: a delete frame to every device',
        security,
        params: broadcastItemParams,
        response: { 204: { type: 'null' }, ...itemErrors },
      },
    },
    async (req, reply) => {
      await deleted(node, null, req.params.id);
      return reply.code(204).send();
    },
  );
}

async function updated(node: HeraldNode, clientId: string | null, rawId: string, body: unknown) {
  const id = checkNotificationId('id', rawId);
  const r = await node.inbox.update(clientId, id, parseItemPatch(body));
  if (!r) throw notFound(clientId, id);
  return r;
}

async function deleted(node: HeraldNode, clientId: string | null, rawId: string): Promise<void> {
  const id = checkNotificationId('id', rawId);
  if (!(await node.inbox.delete(clientId, id))) throw notFound(clientId, id);
}

function notFound(clientId: string | null, id: string): HeraldError {
  return new HeraldError('HERALD_ERR_NOT_FOUND', clientId === null ? `no broadcast ${id} in the inbox` : `client ${clientId} has no notification ${id}`);
}
