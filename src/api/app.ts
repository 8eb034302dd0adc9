import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Auth } from '../auth/auth.js';
import { originAllowed } from '../auth/origin.js';
import { HeraldError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { HeraldNode } from '../core/node.js';
import { registerDashboardRoutes } from './dashboard.js';
import { registerDemoRoutes } from './demo.js';
import { registerDeviceRoutes } from './device-routes.js';
import { registerDocsRoutes } from './docs.js';
import { registerHealthRoutes } from './health.js';
import { Metrics } from './metrics.js';
import { registerPublisherRoutes } from './publisher.js';

export interface ApiContext {
  node: HeraldNode;
  auth: Auth;
  metrics: Metrics;
  /** Web Push, once wired (its routes register themselves). */
  push?: { devicesWithPush(clientId: string): Promise<Set<string>> };
}

declare module 'fastify' {
  interface FastifyInstance {
    herald: ApiContext;
  }
}

/** The HTTP side of a node: publisher API, device endpoints, health and metrics. */
export async function buildApp(node: HeraldNode, auth: Auth, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as unknown as FastifyBaseLogger,
    bodyLimit: node.config.MAX_BODY_BYTES,
    // Ids are up to 128 characters: longer path params are answered 400 by the schema, not 414.
    routerOptions: { maxParamLength: 512 },
    // Keep-alive publishers: long-lived sockets, closed promptly at shutdown.
    keepAliveTimeout: 72_000,
    forceCloseConnections: true,
    return503OnClosing: false,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, allErrors: false, coerceTypes: false } },
  });
  const metrics = new Metrics(node);
  app.decorate('herald', { node, auth, metrics });

  app.setErrorHandler((err: FastifyError | HeraldError, req, reply) => sendError(reply, toHeraldError(err), req));
  app.setNotFoundHandler((req, reply) => sendError(reply, new HeraldError('HERALD_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req));

  // Browsers on the device endpoints (PROTOCOL.md "CORS/Origin"); the publisher API sends none.
  app.addHook('onRequest', async (req, reply) => {
    const path = req.url;
    if (!(path.startsWith('/me/') || path.startsWith('/sse') || path.startsWith('/push/'))) return;
    const origin = req.headers.origin;
    if (!originAllowed(origin, node.config.ALLOWED_ORIGINS)) throw new HeraldError('HERALD_ERR_FORBIDDEN', `origin ${origin} is not allowed`);
    if (origin) {
      reply.header('access-control-allow-origin', node.config.ALLOWED_ORIGINS === '*' ? '*' : origin);
      reply.header('vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, last-event-id')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Herald publisher API', version: '1', description: 'Publish notifications to clients and devices; inspect and manage devices.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'The API key' } } },
    },
  });
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  registerPublisherRoutes(app);
  registerDeviceRoutes(app);
  registerHealthRoutes(app);
  registerDashboardRoutes(app);
  registerDocsRoutes(app);
  registerDemoRoutes(app);
  return app;
}

function toHeraldError(err: FastifyError | HeraldError): HeraldError {
  if (err instanceof HeraldError) return err;
  const fe = err as FastifyError & { validation?: { instancePath: string; params: Record<string, unknown>; message?: string }[]; validationContext?: string };
  if (fe.validation?.length) {
    const v = fe.validation[0];
    const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const field = (v.params.missingProperty as string | undefined) ?? (path || fe.validationContext || 'body');
    const where = fe.validationContext === 'params' ? field : field;
    return new HeraldError('HERALD_ERR_INVALID', `${where}: ${v.message ?? 'invalid'}`, { field: where, cause: err });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return new HeraldError('HERALD_ERR_TOO_LARGE', 'body is over the configured limit (MAX_BODY_BYTES)', { cause: err });
  if (
    fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
    (fe.statusCode === 400 && fe.code?.startsWith('FST_ERR_CTP'))
  ) {
    return new HeraldError('HERALD_ERR_INVALID', `body: ${fe.message}`, { field: 'body', cause: err });
  }
  if (fe.statusCode === 400) return new HeraldError('HERALD_ERR_INVALID', `body: ${fe.message}`, { field: 'body', cause: err });
  if (fe.statusCode === 413) return new HeraldError('HERALD_ERR_TOO_LARGE', fe.message, { cause: err });
  if (fe.statusCode === 415) return new HeraldError('HERALD_ERR_INVALID', `content-type: ${fe.message}`, { field: 'content-type', cause: err });
  return Object.assign(new HeraldError('HERALD_ERR_INVALID', fe.message, { cause: err }), { statusCode: fe.statusCode ?? 500 });
}

export function sendError(reply: FastifyReply, e: HeraldError, req?: FastifyRequest): FastifyReply {
  if (e.statusCode >= 500) req?.log.error({ err: e.cause ?? e }, e.message);
  const body: Record<string, unknown> = { statusCode: e.statusCode, code: e.code, error: e.message, message: e.message };
  if (e.field) body.field = e.field;
  if (e.statusCode === 401 && !reply.hasHeader('www-authenticate')) reply.header('www-authenticate', 'Bearer');
  return reply.code(e.statusCode).send(body);
}

/** preHandler for the publisher API: the API key in `Authorization: Bearer`. */
export async function requireApiKey(this: FastifyInstance, req: FastifyRequest): Promise<void> {
  if (!this.herald.auth.checkApiKey(req.headers.authorization)) throw new HeraldError('HERALD_ERR_UNAUTHORIZED', 'missing or wrong API key');
}
