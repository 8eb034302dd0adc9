import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { HeraldError } from '../core/errors.js';
import { checkId } from '../core/ids.js';
import type { HeraldNode } from '../core/node.js';
import { checkPublishWellFormed, parsePublishInput } from '../core/publish-input.js';
import { statsSnapshot } from '../core/stats.js';
import type { PublishInput, Target } from '../core/types.js';
import { httpError, requireApiKey, sendError } from './http.js';
import { batchBody, clientParams, deviceParams, errorBody, publishBody, publishResult } from './schemas.js';

const security = [{ apiKey: [] }];
const errors = { 400: errorBody, 401: errorBody, 413: errorBody, 503: errorBody };

/** The publisher API (PROTOCOL.md "Publisher API"): API key on every route. */
export function registerPublisherRoutes(app: FastifyInstance): void {
  const { node } = app.herald;
  const auth = { onRequest: requireApiKey };

  app.post<{ Params: { client: string }; Body: PublishInput }>(
    '/api/v1/clients/:client/notifications',
    {
      ...auth,
      schema: {
        tags: ['publish'],
        summary: "To all of a client's devices",
        security,
        params: clientParams,
        body: publishBody,
        response: { 202: publishResult, ...errors },
      },
    },
    async (req, reply) => reply.code(202).send(await node.publish({ kind: 'client', clientId: req.params.client }, wellFormed(req.body))),
  );

  app.post<{ Params: { client: string; device: string }; Body: PublishInput }>(
    '/api/v1/clients/:client/devices/:device/notifications',
    {
      ...auth,
      schema: { tags: ['publish'], summary: 'To one device', security, params: deviceParams, body: publishBody, response: { 202: publishResult, ...errors } },
    },
    async (req, reply) =>
      reply.code(202).send(await node.publish({ kind: 'device', clientId: req.params.client, deviceId: req.params.device }, wellFormed(req.body))),
  );

  app.post<{ Body: PublishInput }>(
    '/api/v1/broadcast',
    { ...auth, schema: { tags: ['publish'], summary: 'To every connected device', security, body: publishBody, response: { 202: publishResult, ...errors } } },
    async (req, reply) => reply.code(202).send(await node.publish({ kind: 'broadcast' }, wellFormed(req.body))),
  );

  app.post<{ Body: { items: unknown[] } }>(
    '/api/v1/batch',
    {
      ...auth,
      bodyLimit: node.config.MAX_BODY_BYTES * 64,
      schema: {
        tags: ['publish'],
        summary: 'Up to 1000 publishes; per-item results in order (a bad item fails alone, with its index)',
        security,
        body: batchBody,
      },
    },
    async (req, reply) => {
      const results = await Promise.all(req.body.items.map((item, index) => publishItem(node, item, index, req.log)));
      const accepted = results.filter((r) => r.status === 202).length;
      return reply.code(200).send({ accepted, failed: results.length - accepted, results });
    },
  );

  app.get<{ Params: { client: string } }>(
    '/api/v1/clients/:client',
    { ...auth, schema: { tags: ['clients'], summary: "The client's devices and presence", security, params: clientParams } },
    async (req) => {
      const [view, pushed] = await Promise.all([node.clientView(req.params.client), app.herald.push?.devicesWithPush(req.params.client)]);
      return { ...view, devices: view.devices.map((d) => ({ ...d, push: pushed?.has(d.deviceId) ?? false })) };
    },
  );

  app.delete<{ Params: { client: string; device: string } }>(
    '/api/v1/clients/:client/devices/:device',
    { ...auth, schema: { tags: ['clients'], summary: 'Remove a device: its stream is closed (4003), its registration gone', security, params: deviceParams } },
    async (req, reply) => {
      if (!(await node.removeAnywhere(req.params.client, req.params.device))) {
        return sendError(reply, new HeraldError('HERALD_ERR_NOT_FOUND', `no device ${req.params.device} for client ${req.params.client}`));
      }
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/stats', { ...auth, schema: { tags: ['operations'], summary: 'Totals', security } }, async () => statsSnapshot(node));
}

/** One batch item: its result, or its error with the item's index in the field's name. */
async function publishItem(node: HeraldNode, item: unknown, index: number, log: FastifyBaseLogger) {
  try {
    const it = item as Record<string, unknown>;
    const prefix = `items[${index}].`;
    const clientId = it.clientId === undefined ? undefined : checkIdIn(prefix, 'clientId', it.clientId);
    const deviceId = it.deviceId === undefined ? undefined : checkIdIn(prefix, 'deviceId', it.deviceId);
    if (clientId === undefined) throw new HeraldError('HERALD_ERR_INVALID', `${prefix}clientId: required`, { field: `${prefix}clientId` });
    const input = parsePublishInput(item, prefix);
    const target: Target = deviceId ? { kind: 'device', clientId, deviceId } : { kind: 'client', clientId };
    return { index, status: 202, ...(await node.publish(target, input)) };
  } catch (err) {
    const e = httpError(err, log);
    return { index, status: e.statusCode, code: e.code, error: e.message, ...(e.field ? { field: e.field } : {}) };
  }
}

/** A body the route schema passed, once its strings are known to be well-formed (the schema cannot tell). */
function wellFormed(body: PublishInput): PublishInput {
  checkPublishWellFormed(body);
  return body;
}

function checkIdIn(prefix: string, field: string, value: unknown): string {
  try {
    return checkId(field, value);
  } catch (e) {
    const he = e as HeraldError;
    throw new HeraldError('HERALD_ERR_INVALID', `${prefix}${he.message}`, { field: `${prefix}${field}` });
  }
}
